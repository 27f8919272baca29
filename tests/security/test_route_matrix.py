"""Every staff URL, requested as anonymous, as each role, and as facility staff of another facility, gets
exactly the answer its access rule allows: 200, 302 to the login page, or 403.

The URLs come from the app's url_map, so a new staff route without an entry in ACCESS fails this test."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask

from shop.catalog.images import save_product_image
from shop.catalog.models import SearchSynonym
from shop.catalog.stock import receive_lot
from shop.extensions import db
from shop.finance.models import (
    HolidayKind,
    OnwardPart,
    OnwardTransfer,
    PnbpDeposit,
    PnbpDepositMonth,
    PublicHoliday,
)
from shop.orders import service as orders
from shop.payments.models import Payment, PaymentMethod, PaymentStatus
from shop.sales import service as sales
from shop.sales.models import PayMethod, PointKind
from shop.uploads import save_private_document
from tests import factories as f

ADMIN, FULFIL, FINANCE, OWN, OTHER = "admin", "fulfilment", "finance", "facility-own", "facility-other"
EVERYONE = {ADMIN, FULFIL, FINANCE, OWN, OTHER}
DESK = {ADMIN, FULFIL}
READERS = {ADMIN, FULFIL, FINANCE}
CATALOG_KEEPERS = {ADMIN, FULFIL, OWN, OTHER}  # lists: facility staff see their own rows
OWN_PRODUCT = {ADMIN, FULFIL, OWN}
PNBP_READERS = {ADMIN, FINANCE, OWN, OTHER}  # lists: facility staff see their own facility's rows
OWN_PNBP = {ADMIN, FINANCE, OWN}

# endpoint → who gets 200 on GET (everyone else logged in gets 403; anonymous gets 302 to the login page)
ACCESS = {
    "accounts.staff": EVERYONE,
    "accounts.password": EVERYONE,
    "accounts.users": {ADMIN},
    "accounts.system": {ADMIN},
    "catalog.admin_facilities": {ADMIN},
    "catalog.synonyms": DESK,
    "checkout.couriers": {ADMIN},
    "audit.log": {ADMIN},
    "catalog.staff_products": CATALOG_KEEPERS,
    "catalog.staff_new_product": CATALOG_KEEPERS,
    "catalog.staff_product": OWN_PRODUCT,
    "certification.staff_list": CATALOG_KEEPERS,
    "certification.staff_product": OWN_PRODUCT,
    "certification.document": OWN_PRODUCT,
    "fulfilment.queue": READERS,
    "fulfilment.order": READERS,
    "fulfilment.printable": DESK,
    "fulfilment.stock_list": CATALOG_KEEPERS,
    "fulfilment.stock_product": OWN_PRODUCT,
    "fulfilment.recall_page": OWN_PRODUCT,
    "fulfilment.recall_export": OWN_PRODUCT,
    "payments.review": READERS,
    "payments.order_payments": READERS,
    "payments.receipt": READERS,
    "ledger.entries": {ADMIN, FINANCE},
    "ledger.ledger_export": {ADMIN, FINANCE},
    "ledger.rules": {ADMIN, FINANCE},
    # PNBP: finance and admins see every facility, facility staff (the treasurer) their own, read-only
    "ledger.reconciliation": PNBP_READERS,
    "ledger.reconciliation_export": PNBP_READERS,
    "ledger.reconciliation_month": OWN_PNBP,
    "ledger.deposits_page": PNBP_READERS,
    "ledger.deposits_export": PNBP_READERS,
    "ledger.deposit_receipt": OWN_PNBP,
    "ledger.summary": PNBP_READERS,
    "ledger.summary_export": PNBP_READERS,
    # the treasurer's month (#29): a facility's cash book and statement (its own treasurer too), what is owed onward
    "ledger.cash_book": OWN_PNBP,
    "ledger.cash_book_file": OWN_PNBP,
    "ledger.statement": OWN_PNBP,
    "ledger.statement_file": OWN_PNBP,
    "ledger.onward": PNBP_READERS,
    "ledger.onward_export": PNBP_READERS,
    "ledger.transfer_receipt": OWN_PNBP,
    "ledger.holidays": {ADMIN, FINANCE},
    "outbox.troubled": DESK,
    # direct sales: the point's named sellers (here fulfilment and the gallery's own facility staff) and admins
    "sales.points": EVERYONE,
    "sales.token": CATALOG_KEEPERS,
    "sales.service_worker": CATALOG_KEEPERS,
    "sales.screen": OWN_PRODUCT,
    "sales.sale": {*OWN_PRODUCT, FINANCE},  # finance reads (the ledger links to it)
    "sales.close_day": {*OWN_PRODUCT, FINANCE},
    "sales.edit_point": DESK,
    "sales.import_file": DESK,
}
# endpoint → who may POST (others: 403; anonymous: 302 to login). Allowed posts are not sent (they act).
POST_ACCESS = {
    "accounts.password": EVERYONE,
    "accounts.create_user": {ADMIN},
    "accounts.update_user": {ADMIN},
    "catalog.admin_facility": {ADMIN},
    "catalog.admin_category": {ADMIN},
    "checkout.save_rate": {ADMIN},
    "catalog.staff_product": OWN_PRODUCT,
    "catalog.staff_new_product": CATALOG_KEEPERS,
    "catalog.staff_photo": OWN_PRODUCT,
    "certification.staff_product": OWN_PRODUCT,
    "certification.revoke": OWN_PRODUCT,
    "certification.composition_changed": OWN_PRODUCT,
    "certification.override": OWN_PRODUCT,
    "certification.decide_override": {ADMIN, FULFIL},
    "fulfilment.act": DESK,
    "fulfilment.stock_product": OWN_PRODUCT,
    "fulfilment.receive_lot": OWN_PRODUCT,
    "fulfilment.recall": OWN_PRODUCT,
    "fulfilment.recall_reached": OWN_PRODUCT,
    "payments.confirm": DESK,
    "payments.reject": DESK,
    "payments.refund": DESK,
    "payments.check_online": DESK,
    "catalog.add_synonym": DESK,
    "catalog.remove_synonym": DESK,
    "ledger.rules": {ADMIN, FINANCE},
    "ledger.delete_rule": {ADMIN, FINANCE},
    "ledger.allocate": {ADMIN, FINANCE},
    "ledger.deposits_page": {ADMIN, FINANCE},
    "ledger.reverse_deposit": {ADMIN, FINANCE},
    "ledger.close_month": {ADMIN, FINANCE},
    "ledger.reopen_month": {ADMIN},
    "ledger.deposit_regime": {ADMIN, FINANCE},
    "outbox.retry": DESK,
    "ledger.statement_sent": OWN_PNBP,
    "ledger.holidays": {ADMIN, FINANCE},
    "ledger.remove_holiday": {ADMIN, FINANCE},
    "ledger.record_transfer": {ADMIN, FINANCE},
    "ledger.reverse_transfer": {ADMIN, FINANCE},
    "sales.create_point": DESK,
    "sales.edit_point": DESK,
    "sales.import_file": DESK,
    "sales.screen": OWN_PRODUCT,
    "sales.sync": OWN_PRODUCT,
    "sales.void": OWN_PRODUCT,
    "sales.close_day": OWN_PRODUCT,
}
STAFF_PREFIXES = ("/staf", "/akun/kata-sandi")


@pytest.fixture
def world(app: Flask):
    own_facility = f.facility()
    product = f.certified_food(facility=own_facility)
    cert = product.certifications[0]
    cert.document = save_private_document(f.PDF, "certificates")
    image = save_product_image(product, f.PNG)
    order = f.order({product: 1})
    payment = Payment(order=order, method=PaymentMethod.BANK_TRANSFER, amount=order.total,
                      status=PaymentStatus.SUBMITTED, receipt=save_private_document(f.PDF, "receipts"))
    db.session.add(payment)
    orders.mark_paid(order)
    deposit = PnbpDeposit(facility_id=own_facility.id, amount=1_000, billing_code="820261015000123",
                          billing_expires_on=date(2026, 11, 6), ntpn="0A1B2C3D4E5F6G7H", ntb="BRI1",
                          deposited_on=date(2026, 11, 3), bank="BRI",
                          receipt=save_private_document(f.PDF, "pnbp"))
    deposit.months = [PnbpDepositMonth(month="2026-10", amount=1_000)]
    db.session.add(deposit)
    transfer = OnwardTransfer(facility_id=own_facility.id, part=OnwardPart.PNBP, amount=1_000,
                              transferred_on=date(2026, 11, 5), reference="TRF-1",
                              receipt=save_private_document(f.PDF, "transfers"))
    holiday = PublicHoliday(day=date(2026, 12, 25), name="Natal", kind=HolidayKind.NATIONAL)
    db.session.add_all([transfer, holiday])
    synonym = SearchSynonym(term="kripik", means="keripik")
    db.session.add(synonym)
    lot = receive_lot(product, "W-2611", date(2026, 11, 1), date(2027, 5, 1), 3, actor=None)
    users = {ADMIN: f.user("admin"), FULFIL: f.user("fulfilment"), FINANCE: f.user("finance"),
             OWN: f.user("facility", facility_id=own_facility.id),
             OTHER: f.user("facility", facility_id=f.facility().id)}
    gallery = sales.save_point(sales.PointInput(name="Galeri", kind=PointKind.GALLERY, facility_id=own_facility.id,
                                                seller_ids=[users[FULFIL].id, users[OWN].id]), actor=None)
    db.session.commit()
    sale = sales.record_with_retry(gallery.id, sales.SaleInput("world-1", PayMethod.CASH,
                                                               [sales.LineInput(product.id, 1)]),
                                   seller=users[OWN]).sale
    values = {"number": order.number, "product_id": product.id, "cert_id": cert.id, "payment_id": payment.id,
              "line_id": order.lines[0].id, "user_id": users[FINANCE].id, "facility_id": own_facility.id,
              "courier_id": order.courier_id, "category_id": product.category_id, "kind": "slip", "step": "catatan",
              "rule_id": 1, "image_id": image.id, "message_id": 1, "deposit_id": deposit.id, "slug": own_facility.slug,
              "month": "2026-10", "fmt": "xlsx", "code": "en", "filename": image.filename,
              "product_slug": product.slug, "token": "not-a-signed-token",
              "decision": "tolak", "synonym_id": synonym.id, "lot_id": lot.id, "order_id": order.id,
              "point_id": gallery.id, "sale_id": sale.id,
              "transfer_id": transfer.id, "holiday_id": holiday.id}
    return values, users


def staff_rules(app: Flask, method: str):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(STAFF_PREFIXES) and method in rule.methods:
            yield rule


def url_for_rule(rule, values) -> str:
    return rule.build({name: values[name] for name in rule.arguments}, append_unknown=False)[1]


def client_as(app, users, who):
    client = app.test_client()
    if who != "anonymous":
        response = client.post("/masuk", data={"email": users[who].email, "password": f.PASSWORD})
        assert response.status_code == 302, who
    return client


def test_every_staff_route_has_an_access_rule(app):
    gets = {rule.endpoint for rule in staff_rules(app, "GET")}
    posts = {rule.endpoint for rule in staff_rules(app, "POST")}
    assert gets == set(ACCESS), gets ^ set(ACCESS)
    assert posts == set(POST_ACCESS), posts ^ set(POST_ACCESS)


@pytest.mark.parametrize("who", ["anonymous", ADMIN, FULFIL, FINANCE, OWN, OTHER])
def test_each_identity_gets_exactly_the_allowed_answer_on_every_staff_url(app, world, who):
    values, users = world
    client = client_as(app, users, who)
    wrong = []
    for rule in staff_rules(app, "GET"):
        url = url_for_rule(rule, values)
        response = client.get(url)
        if who == "anonymous":
            expected = 302
        else:
            expected = 200 if who in ACCESS[rule.endpoint] else 403
        if response.status_code != expected or (expected == 302 and "/masuk" not in response.headers["Location"]):
            wrong.append(f"GET {url}: {response.status_code}, expected {expected}")
        response.close()
    for rule in staff_rules(app, "POST"):
        if who != "anonymous" and who in POST_ACCESS[rule.endpoint]:
            continue
        url = url_for_rule(rule, values)
        response = client.post(url, data={})
        expected = 302 if who == "anonymous" else 403
        if response.status_code != expected:
            wrong.append(f"POST {url}: {response.status_code}, expected {expected}")
    assert not wrong, "\n".join(wrong)
