"""The outbox: every mail is written in the transaction of the change that caused it, then delivered with
retries, so a mail server that is down loses nothing."""

from flask import Blueprint

outbox = Blueprint("outbox", __name__)
