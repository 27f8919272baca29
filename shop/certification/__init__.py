"""Certificates: halal, BPOM and P-IRT, their status, and the rule that decides what may be sold."""

from flask import Blueprint

certification = Blueprint("certification", __name__)

