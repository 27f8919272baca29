"""The audit log as a person reads it: actions, fields and values in the reader's language, and each entry's
object by its name (an order's number, a product's name) instead of "Order #1". Entries stay codes with
parameters in the database; only the words are chosen here, when read."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from babel.numbers import format_decimal
from flask import url_for
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from shop.audit.models import AuditEntry
from shop.catalog.models import Category, Facility, Product, StockReason
from shop.certification.models import REQUIREMENT_LABELS, Certification, CertStatus, CertType
from shop.extensions import db
from shop.finance.models import PnbpDeposit
from shop.i18n import rupiah, weight
from shop.orders.models import Order, OrderStatus
from shop.payments.models import Payment, PaymentStatus
from shop.sales.models import DirectSale, PayMethod, PointKind, PointOfSale

ACTIONS = {
    "category.update": _l("category changed"),
    "certificate.add": _l("certificate added"),
    "certificate.renew": _l("certificate renewed"),
    "certificate.revoke": _l("certificate revoked"),
    "certificate.composition_changed": _l("recipe or process changed: certificate no longer valid"),
    "courier.update": _l("courier changed"),
    "facility.update": _l("facility changed"),
    "facility.deposit_regime": _l("PNBP deposit regime changed"),
    "order.cancel": _l("order cancelled"),
    "order.delivered": _l("order delivered"),
    "order.parcel_delivered": _l("parcel delivered"),
    "order.note": _l("internal note"),
    "order.packed": _l("order packed"),
    "order.return": _l("goods returned"),
    "order.shipment": _l("parcel shipped"),
    "payment.confirm": _l("bank transfer confirmed"),
    "payment.duplicate": _l("duplicate payment"),
    "payment.mismatch": _l("payment amount did not match"),
    "payment.refund": _l("refund"),
    "payment.reject": _l("bank transfer rejected"),
    "period.close": _l("PNBP month closed"),
    "period.reopen": _l("PNBP month reopened"),
    "pnbp_deposit.record": _l("PNBP deposit recorded"),
    "pnbp_deposit.reverse": _l("PNBP deposit reversed"),
    "product.create": _l("product added"),
    "product.price": _l("price changed"),
    "product.update": _l("product changed"),
    "product.cover": _l("cover photo chosen"),
    "product.photo_removed": _l("photo removed"),
    "product.required_certificates": _l("required certificates changed"),
    "product.required_certificates_requested": _l("change of required certificates asked (waits for a second person)"),
    "product.required_certificates_rejected": _l("change of required certificates turned down"),
    "search_synonym.add": _l("search synonym added"),
    "search_synonym.remove": _l("search synonym removed"),
    "shipping_rate.update": _l("shipping rate changed"),
    "split_rule.create": _l("split rule added"),
    "split_rule.delete": _l("split rule removed"),
    "stock.adjust": _l("stock adjusted"),
    "ledger.allocate": _l("money waiting for a rule shared by the rule in force"),
    "direct_sale.record": _l("direct sale recorded"),
    "direct_sale.void": _l("direct sale voided"),
    "direct_sale.close_day": _l("day closed at a point of sale"),
    "direct_sale.import": _l("direct sales imported from a file"),
    "point_of_sale.save": _l("point of sale saved"),
    "lot.receive": _l("lot received"),
    "lot.recall": _l("lot recalled"),
    "user.create": _l("user added"),
    "user.update": _l("user changed"),
}
OBJECTS = {
    "Order": _l("Order"), "Payment": _l("Payment"), "Product": _l("Product"), "Facility": _l("Facility"),
    "Category": _l("Category"), "Certification": _l("Certificate"), "Courier": _l("Courier"),
    "ShippingRate": _l("Shipping rate"), "SplitRule": _l("Split rule"), "PnbpDeposit": _l("PNBP deposit"),
    "User": _l("User"), "SearchSynonym": _l("Search synonym"), "DirectSale": _l("Direct sale"),
    "PointOfSale": _l("Point of sale"),
}
FIELDS = {
    "status": _l("status"), "price": _l("price"), "stock": _l("stock"), "amount": _l("amount"),
    "refunded": _l("refunded"), "reference": _l("reference"), "fee": _l("fee"), "tracking_number": _l("resi"),
    "facility_id": _l("facility"), "active": _l("active"), "name_id": _l("name (Indonesian)"),
    "name_en": _l("name (English)"), "weight_g": _l("weight"), "unit_cost": _l("production cost per unit"),
    "number": _l("number"), "issuer": _l("issuer"), "issued_on": _l("issued on"), "expires_on": _l("expires on"),
    "cert_type": _l("type"), "composition_changed": _l("recipe changed"), "revoked_reason": _l("reason"),
    "month": _l("month"), "months": _l("months"), "accrued": _l("accrued"), "deposited": _l("deposited"),
    "ntpn": "NTPN", "ntb": "NTB", "billing_code": _l("billing code"), "billing_expires_on": _l("billing valid until"),
    "deposited_on": _l("deposit date"), "bank": _l("bank"), "reverses_id": _l("reverses deposit"),
    "deposit_regime": _l("deposit regime"), "deposit_period_days": _l("period (days)"), "email": _l("email"),
    "roles": _l("roles"), "province": _l("province"), "first_kg": _l("first kg"), "next_kg": _l("each further kg"),
    "shares": _l("shares"), "base": _l("base"), "effective_from": _l("from"), "gross": _l("paid"),
    "currency": _l("currency"), "required_certs": _l("required certificates"), "category_id": _l("category"),
    "photo": _l("photo"), "pnbp": "PNBP", "premi": _l("premi"), "cooperative": _l("cooperative"),
    "production_capital": _l("production capital"), "volumetric_divisor": _l("volumetric divisor"),
    "crate_fee": _l("wooden crate fee"), "cargo": _l("cargo service"), "min_weight_g": _l("least weight charged (g)"),
    "term": _l("buyers type"), "means": _l("the catalogue says"),
    "required_certs_override": _l("required certificates"), "reason": _l("reason"), "document": _l("scan"),
    "name": _l("name"), "kind": _l("kind"), "place": _l("place"), "starts_on": _l("first day"),
    "ends_on": _l("last day"), "sellers": _l("sellers"), "method": _l("paid by"), "total": _l("total"),
    "lines": _l("products"), "voided": _l("voided"), "day": _l("day"), "expected_cash": _l("cash expected"),
    "counted_cash": _l("cash counted"), "file": _l("file"), "rows": _l("rows"), "quantity": _l("quantity"),
    "unit_price": _l("unit price"), "product_id": _l("product"), "point_id": _l("point of sale"), "lot": _l("lot"),
}
DATES = {"issued_on", "expires_on", "billing_expires_on", "deposited_on", "effective_from", "starts_on", "ends_on",
         "day"}
REQUIREMENT_FIELDS = {"required_certs", "required_certs_override"}  # lists of requirement codes
BASIS_POINTS = {"pnbp", "premi", "cooperative", "production_capital"}  # a split rule's shares, in 1/100 %
MONEY = {"price", "amount", "refunded", "fee", "unit_cost", "accrued", "deposited", "first_kg", "next_kg", "gross",
         "crate_fee", "total", "expected_cash", "counted_cash", "unit_price"}


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class Target:
    label: str
    url: str | None = None


def action(entry: AuditEntry) -> str:
    label = ACTIONS.get(entry.action)
    return str(label) if label is not None else entry.action


def value(field: str, raw: Any, target_type: str) -> str:
    if raw is None and field == "required_certs_override":
        return _("as its category requires")
    if raw is None or raw == "":
        return "—"
    if isinstance(raw, bool):
        return _("yes") if raw else _("no")
    if field in MONEY and isinstance(raw, int):
        return rupiah(raw)
    if target_type == "SplitRule" and field in BASIS_POINTS and isinstance(raw, int):
        return f"{format_decimal(raw / 100, locale=str(get_locale() or 'id'))} %"
    if field == "weight_g" and isinstance(raw, int):
        return weight(raw)
    if field == "status" and isinstance(raw, str):
        return _status(raw, target_type)
    if field in DATES and isinstance(raw, str):
        try:
            return format_date(date.fromisoformat(raw), "medium")
        except ValueError:
            return raw
    if field == "method" and raw in PayMethod.__members__.values():
        return PayMethod(raw).label
    if field == "kind" and target_type == "PointOfSale" and raw in PointKind.__members__.values():
        return PointKind(raw).label
    if field == "cert_type" and raw in CertType.__members__.values():
        return CertType(raw).label
    if field in REQUIREMENT_FIELDS and isinstance(raw, list):
        return ", ".join(str(REQUIREMENT_LABELS.get(item, item)) for item in raw) or _("none")
    if isinstance(raw, dict):
        return "; ".join(f"{key}: {value(key, item, target_type)}" for key, item in raw.items())
    if isinstance(raw, list):
        return ", ".join(value(field, item, target_type) for item in raw)
    return str(raw)


def note(entry: AuditEntry) -> str:
    """The entry's note, with the codes some notes begin with ("damaged: …") in the reader's words."""
    text = entry.note or ""
    if entry.action == "stock.adjust" and ":" in text:
        code, _sep, rest = text.partition(":")
        if code in StockReason.__members__.values():
            return f"{StockReason(code).label}: {rest.strip()}".rstrip(": ")
    if entry.action in ("certificate.add", "certificate.renew") and text.startswith("product "):
        return ""  # an older entry's "product <slug>": the certificate's line names the product already
    if text == (entry.after or {}).get("reason"):
        return ""  # shown as the reason among the changes
    return text


def _status(raw: str, target_type: str) -> str:
    # A certificate's recorded status shares its values and words with the status a reader sees.
    kinds = {"Order": OrderStatus, "Payment": PaymentStatus, "Certification": CertStatus}
    kind: Any = kinds.get(target_type)
    try:
        return str(kind(raw).label) if kind is not None else raw
    except (ValueError, AttributeError):
        return raw


def changes(entry: AuditEntry) -> list[Change]:
    """Each field the entry names, with its value before and after (only what changed, for an update)."""
    before, after = entry.before or {}, entry.after or {}
    rows = []
    for field in [*before, *(key for key in after if key not in before)]:
        old, new = before.get(field), after.get(field)
        if field in before and field in after and old == new:
            continue
        rows.append(Change(str(FIELDS.get(field, field)), value(field, old, entry.target_type) if field in before
                           else "", value(field, new, entry.target_type) if field in after else ""))
    return rows


def targets(entries: Iterable[AuditEntry]) -> dict[tuple[str, str], Target]:
    """Each entry's object by name, with a link where staff have a page for it: one query per kind of object."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for entry in entries:
        if entry.target_id.isdigit():
            wanted[entry.target_type].add(int(entry.target_id))
    found: dict[tuple[str, str], Target] = {}

    def each(kind: str, query: Any, describe: Any) -> None:
        if wanted.get(kind):
            for row in db.session.execute(query.where(query.selected_columns[0].in_(wanted[kind]))).tuples():
                found[(kind, str(row[0]))] = describe(*row)

    each("Order", select(Order.id, Order.number),
         lambda _id, number: Target(number, url_for("fulfilment.order", number=number)))
    each("Payment", select(Payment.id, Order.number).join(Order, Payment.order_id == Order.id),
         lambda _id, number: Target(_("payment of %(number)s", number=number),
                                    url_for("payments.order_payments", number=number)))
    each("Product", select(Product.id, Product.name_id),
         lambda product_id, name: Target(name, url_for("catalog.staff_product", product_id=product_id)))
    each("Certification", select(Certification.id, Certification.cert_type, Product.name_id, Product.id)
         .join(Product, Certification.product_id == Product.id),
         lambda _id, kind, name, product_id: Target(f"{kind.label} · {name}", url_for(
             "certification.staff_product", product_id=product_id)))
    each("Facility", select(Facility.id, Facility.name), lambda _id, name: Target(name))
    each("Category", select(Category.id, Category.name_id), lambda _id, name: Target(name))
    each("PnbpDeposit", select(PnbpDeposit.id, PnbpDeposit.ntpn),
         lambda deposit_id, ntpn: Target(ntpn or _("reversal #%(id)s", id=deposit_id),
                                         url_for("ledger.deposits_page")))
    each("DirectSale", select(DirectSale.id, DirectSale.number),
         lambda sale_id, number: Target(number, url_for("sales.sale", sale_id=sale_id)))
    each("PointOfSale", select(PointOfSale.id, PointOfSale.name),
         lambda point_id, name: Target(name, url_for("sales.screen", point_id=point_id)))
    for entry in entries:
        key = (entry.target_type, entry.target_id)
        if key not in found:
            found[key] = Target(f"{OBJECTS.get(entry.target_type, entry.target_type)} #{entry.target_id}")
    return found
