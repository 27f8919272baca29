"""The public catalog: home, facilities, products, language choice and uploaded media."""

from flask import Blueprint

catalog = Blueprint("catalog", __name__)

