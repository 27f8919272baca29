"""Every staff page carries the staff menu, each screen with what waits there for the person looking."""

from __future__ import annotations

import re
from datetime import timedelta

from shop.certification.models import CertType
from shop.extensions import db
from shop.orders import service as orders
from shop.payments.models import Payment, PaymentMethod, PaymentStatus
from shop.timeutil import today
from tests import factories as f
from tests.helpers import logged_in


def counts(html: str) -> dict[str, int]:
    nav = html.split('class="staff-nav"', 1)[1].split("</nav>", 1)[0]
    return {label.strip(): int(n) for label, n in
            re.findall(r'>([^<>]+?) <span class="nav-count"[^>]*>(\d+)</span>', nav)}


def test_the_staff_menu_counts_orders_to_pack_transfers_to_check_and_certificates_running_out(app):
    own = f.facility()
    to_pack = f.order({f.product(facility=own): 1})
    db.session.add(Payment(order=to_pack, method=PaymentMethod.BANK_TRANSFER, amount=to_pack.total,
                           status=PaymentStatus.SUCCEEDED))
    orders.mark_paid(to_pack)
    waiting = f.order({f.product(): 1})
    db.session.add(Payment(order=waiting, method=PaymentMethod.BANK_TRANSFER, amount=waiting.total,
                           status=PaymentStatus.SUBMITTED, receipt="receipts/x.pdf"))
    food = f.product(facility=own)
    f.certificate(food, CertType.HALAL, expires_on=today() + timedelta(days=10))
    f.certificate(f.product(), CertType.HALAL, expires_on=today() + timedelta(days=400))  # not yet a worry
    db.session.commit()

    desk = counts(logged_in(app, "fulfilment").get("/staf/pesanan").get_data(as_text=True))
    assert desk == {"Pesanan": 1, "Pembayaran": 1, "Kelola sertifikat": 1}
    elsewhere = logged_in(app, "facility", facility_id=f.facility().id)
    assert counts(elsewhere.get("/staf/sertifikat").get_data(as_text=True)) == {}  # another facility's worry
    treasurer = logged_in(app, "facility", facility_id=own.id)
    assert counts(treasurer.get("/staf/sertifikat").get_data(as_text=True)) == {"Kelola sertifikat": 1}
    assert 'class="staff-nav"' not in logged_in(app, "fulfilment").get("/produk").get_data(as_text=True)
