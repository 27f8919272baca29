"""Direct sales at exhibitions and facility galleries (#28): points of sale, the phone-first sales screen (which
keeps working offline), receipts, voids, each day's close and imports of sales written on paper. Each sale is booked
like an order: stock movements and the ledger (channel "direct"), so PNBP accrues for the facility as online."""

from __future__ import annotations

from flask import Blueprint

sales = Blueprint("sales", __name__)
