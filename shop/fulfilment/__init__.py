"""The fulfilment desk: order queue, packing, shipments per facility, slips and labels, stock screen."""

from __future__ import annotations

from flask import Blueprint

fulfilment = Blueprint("fulfilment", __name__)
