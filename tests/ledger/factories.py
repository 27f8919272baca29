"""Split rules and paid orders for the ledger tests."""

from __future__ import annotations

from datetime import date

from shop.extensions import db
from shop.ledger.models import Part, SplitBase, SplitRule
from shop.ledger.service import RuleInput, create_rule
from shop.orders import service as orders
from shop.payments.models import Payment, PaymentMethod, PaymentStatus
from tests import factories as f

DEMO = {Part.PNBP: 1500, Part.PREMI: 1500, Part.COOPERATIVE: 5500, Part.PRODUCTION_CAPITAL: 1500}


def rule(shares: dict[Part, int] | None = None, *, since: date = date(2025, 1, 1), base: SplitBase = SplitBase.GROSS,
         facility=None, category=None) -> SplitRule:
    return create_rule(RuleInput(effective_from=since, shares=shares or DEMO, base=base,
                                 facility_id=facility.id if facility else None,
                                 category_id=category.id if category else None), actor=None)


def paid(items, *, fee: int = 0, method: PaymentMethod = PaymentMethod.BANK_TRANSFER):
    """An order placed through the real service and paid by a succeeded payment (booked by mark_paid)."""
    order = f.order(items)
    payment = Payment(order=order, method=method, amount=order.total, status=PaymentStatus.SUCCEEDED, fee=fee,
                      net=order.total - fee)
    db.session.add(payment)
    db.session.flush()
    orders.mark_paid(order, payment=payment)
    db.session.commit()
    return order, payment
