"""Direct sales (#28) as plain functions: who may sell where, recording a sale (stock and ledger in one transaction,
once per id made on the phone), voiding it on its day, and closing a point's day. Functions flush, never commit."""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from shop import metrics
from shop.accounts.models import Role, User
from shop.audit.service import record
from shop.catalog.models import Facility, Product, StockMovement, StockReason
from shop.catalog.stock import change_stock
from shop.certification.service import is_sellable
from shop.extensions import db
from shop.i18n import rupiah
from shop.ledger.service import DirectLine, book_direct_sale, reverse_direct_sale
from shop.sales.models import DayClose, DirectSale, DirectSaleLine, PayMethod, PointKind, PointOfSale
from shop.timeutil import aware, utcnow

MAX_QUANTITY = 10_000  # units of one product in one sale
MAX_PRICE = 100_000_000  # rupiah per unit
MAX_SALE = 1_000_000_000  # rupiah in one sale (amounts are 32-bit integers in the database)
CLOCK_SLACK = timedelta(minutes=10)  # a phone's clock may run this far ahead of the server's


class SaleRefused(Exception):
    """Why a sale (or a void, or a day close) is refused, in the reader's language; `product` names the product
    whose stock or permits stopped it."""

    def __init__(self, message: str, product: str = "", field: str = "") -> None:
        super().__init__(message)
        self.product = product
        self.field = field  # the form field it is about, when there is one


# -- points of sale and who sells there

def may_sell(user: User, point: PointOfSale) -> bool:
    """Admins anywhere; a named seller of an active point: fulfilment staff, or facility staff at their own
    facility's gallery."""
    if user.has_role(Role.ADMIN):
        return True
    if not point.active or user not in point.sellers:
        return False
    if user.has_role(Role.FULFILMENT):
        return True
    return (user.has_role(Role.FACILITY) and point.kind is PointKind.GALLERY
            and point.facility_id is not None and user.facility_id == point.facility_id)


def may_be_seller(user: User, point: PointOfSale) -> bool:
    """Who can be named a seller of a point: fulfilment staff, or facility staff of the gallery's own facility."""
    if not user.active:
        return False
    if user.has_role(Role.FULFILMENT, Role.ADMIN):
        return True
    return (user.has_role(Role.FACILITY) and point.kind is PointKind.GALLERY
            and point.facility_id is not None and user.facility_id == point.facility_id)


def points_for(user: User) -> list[PointOfSale]:
    query = select(PointOfSale).options(selectinload(PointOfSale.sellers), selectinload(PointOfSale.facility))
    points = db.session.scalars(query.order_by(PointOfSale.active.desc(), PointOfSale.name)).all()
    everyone = user.has_role(Role.ADMIN, Role.FULFILMENT, Role.FINANCE)
    return [point for point in points if everyone or may_sell(user, point)]


@dataclass(frozen=True)
class PointInput:
    name: str
    kind: PointKind
    facility_id: int | None = None
    place: str = ""
    starts_on: date | None = None
    ends_on: date | None = None
    seller_ids: Sequence[int] = ()
    active: bool = True


class PointInvalid(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


def save_point(data: PointInput, *, actor: User | None, point: PointOfSale | None = None) -> PointOfSale:
    """A new point of sale, or a change to one (its sellers, dates, place); refuses what cannot be, field by field."""
    errors: dict[str, str] = {}
    name = " ".join(data.name.split())
    if not name:
        errors["name"] = _("Give the point of sale a name.")
    elif len(name) > 120:
        errors["name"] = _("At most %(most)s characters.", most=120)
    elif db.session.scalar(select(PointOfSale.id).where(func.lower(PointOfSale.name) == name.lower(),
                                                        PointOfSale.id != (point.id if point else 0))):
        errors["name"] = _("A point of sale with this name already exists.")
    facility = db.session.get(Facility, data.facility_id) if data.facility_id else None
    if data.kind is PointKind.GALLERY and facility is None:
        errors["facility_id"] = _("A gallery belongs to a facility: choose it.")
    if data.starts_on and data.ends_on and data.ends_on < data.starts_on:
        errors["ends_on"] = _("The last day comes before the first.")
    sellers = list(db.session.scalars(select(User).where(User.id.in_(set(data.seller_ids))))) if data.seller_ids else []
    if errors:
        raise PointInvalid(errors)
    before = point_snapshot(point) if point else None
    if point is None:
        point = PointOfSale(created_by_id=getattr(actor, "id", None))
        db.session.add(point)
    point.name, point.kind, point.facility_id = name, data.kind, facility.id if facility else None
    point.facility = facility
    point.place, point.starts_on, point.ends_on = data.place.strip()[:200], data.starts_on, data.ends_on
    wrong = [user.email for user in sellers if not may_be_seller(user, point)]
    if wrong:
        raise PointInvalid({"sellers": _("Only fulfilment staff, or staff of the gallery's own facility, may sell "
                                         "here: %(names)s.", names=", ".join(wrong))})
    point.sellers = sellers
    point.active = data.active
    db.session.flush()
    record("point_of_sale.save", point, before, point_snapshot(point), actor=actor)
    return point


def point_snapshot(point: PointOfSale) -> dict[str, object]:
    return {"name": point.name, "kind": point.kind.value, "facility_id": point.facility_id, "place": point.place,
            "starts_on": point.starts_on.isoformat() if point.starts_on else None,
            "ends_on": point.ends_on.isoformat() if point.ends_on else None, "active": point.active,
            "sellers": sorted(user.id for user in point.sellers)}


def lock_point(point: PointOfSale) -> None:
    """Take the point's row lock (a no-op UPDATE, as ledger.service.lock_facilities does): a sale, a void and the
    day's close at one point go one after another, so a close never counts a sale or void half-made beside it."""
    db.session.execute(update(PointOfSale).where(PointOfSale.id == point.id).values(active=PointOfSale.active)
                       .execution_options(synchronize_session=False))


def point_day(point: PointOfSale, moment: datetime | None = None) -> date:
    """The calendar day of a moment (now by default) at the point, in its zone."""
    return aware(moment or utcnow()).astimezone(ZoneInfo(point.zone)).date()


# -- a sale

@dataclass(frozen=True)
class LineInput:
    product_id: int
    quantity: int
    unit_price: int | None = None  # None: the catalogue price
    reason: str = ""


@dataclass(frozen=True)
class SaleInput:
    client_id: str
    method: PayMethod
    lines: Sequence[LineInput]
    sold_at: datetime | None = None  # when the phone made it (offline sales are sent later); now by default
    import_id: int | None = None


@dataclass
class Recorded:
    sale: DirectSale
    new: bool  # False: this id was already recorded (a sale sent twice), nothing was done again
    warnings: list[str] = field(default_factory=list)


def _number(day: date) -> str:
    """The next number of the day: "PJ-20261204-0007"."""
    prefix = f"PJ-{day:%Y%m%d}-"
    last = db.session.scalar(select(DirectSale.number).where(DirectSale.number.like(f"{prefix}%"))
                             .order_by(func.length(DirectSale.number).desc(), DirectSale.number.desc()).limit(1))
    return f"{prefix}{int(last[len(prefix):]) + 1 if last else 1:04d}"


def record_sale(point: PointOfSale, data: SaleInput, *, seller: User | None) -> Recorded:
    """Record one direct sale: per line a stock movement (first expiring lot first) and the ledger booking, in the
    caller's transaction. A client id already recorded returns that sale and changes nothing. Refused (SaleRefused,
    nothing written) when a product is unknown, not sellable, or its stock on record is below what was sold: staff
    first correct the stock with a counted adjustment, so stock and ledger never disagree silently."""
    client_id = data.client_id.strip()[:64]
    if not client_id:
        raise SaleRefused(_("The sale has no id: reload the sales screen and try again."))
    existing = db.session.scalar(select(DirectSale).where(DirectSale.client_id == client_id))
    if existing is not None:
        return Recorded(existing, new=False)
    if not data.lines:
        raise SaleRefused(_("Add at least one product to the sale."))
    now = utcnow()
    sold_at = aware(data.sold_at) if data.sold_at else now
    if sold_at > now + CLOCK_SLACK:
        raise SaleRefused(_("The sale's time is in the future: check the phone's clock."))
    sold_at = min(sold_at, now)  # a phone a few minutes fast: its sale is now, not tomorrow
    wanted: dict[int, list[LineInput]] = defaultdict(list)
    for line in data.lines:
        if not 0 < line.quantity <= MAX_QUANTITY:
            raise SaleRefused(_("A quantity must be a whole number from 1 to %(most)s.", most=MAX_QUANTITY))
        if line.unit_price is not None and not 0 <= line.unit_price <= MAX_PRICE:
            raise SaleRefused(_("A price must be whole rupiah, not below zero."))
        wanted[line.product_id].append(line)
    products = {p.id: p for p in db.session.scalars(select(Product).where(Product.id.in_(wanted))
                                                    .options(selectinload(Product.facility)))}
    day = point_day(point, sold_at)
    lock_point(point)
    late = day_close_of(point, day) is not None
    warnings: list[str] = []
    if late:  # the money was taken: record the sale, and say it is not in the close's totals
        warnings.append(_("%(day)s was already closed at this point: this sale is recorded, but the day's close does "
                          "not count it. Tell finance.", day=day.isoformat()))
    made: list[DirectSaleLine] = []
    for product_id in sorted(wanted):  # products in id order: two sales lock their rows in the same order
        product = products.get(product_id)
        if product is None:
            raise SaleRefused(_("A product of this sale is no longer in the catalogue."))
        if not is_sellable(product, day):
            raise SaleRefused(_("%(product)s may not be sold: it is hidden, or its food permits are not valid.",
                                product=product.name_id), product.name_id)
        if point.kind is PointKind.GALLERY and product.facility_id != point.facility_id:
            raise SaleRefused(_("%(product)s is another facility's: a gallery sells its own facility's products.",
                                product=product.name_id), product.name_id)
        for line in wanted[product_id]:
            price = product.price if line.unit_price is None else line.unit_price
            reason = " ".join(line.reason.split())[:300]
            if price != product.price and not reason:
                raise SaleRefused(_("%(product)s: a price other than the catalogue's (%(price)s) needs a reason.",
                                    product=product.name_id, price=rupiah(product.price)),
                                  product.name_id)
            made.append(DirectSaleLine(product_id=product.id, facility_id=product.facility_id,
                                        category_id=product.category_id, name=product.name_id,
                                        quantity=line.quantity, unit_price=price, catalog_price=product.price,
                                        price_reason=reason if price != product.price else "",
                                        unit_cost=product.unit_cost))
    if sum(line.amount for line in made) > MAX_SALE:
        raise SaleRefused(_("A sale of more than %(most)s cannot be recorded at once: split it.",
                            most=rupiah(MAX_SALE)))
    sale = DirectSale(number=_number(day), client_id=client_id, receipt_token=secrets.token_urlsafe(18)[:24],
                      point_id=point.id, seller_id=getattr(seller, "id", None), method=data.method,
                      total=sum(line.amount for line in made), sold_at=sold_at, day=day, import_id=data.import_id,
                      after_close=late, lines=made)
    db.session.add(sale)
    try:
        with db.session.begin_nested():  # the number or the client id taken meanwhile: the caller tries again
            db.session.flush()
    except IntegrityError as error:
        raise SaleTaken() from error
    for item in made:
        if not change_stock(item.product_id, -item.quantity, StockReason.DIRECT_SALE, direct_sale_id=sale.id,
                            user_id=getattr(seller, "id", None), note=sale.number):
            available = db.session.scalar(select(Product.stock).where(Product.id == item.product_id)) or 0
            raise SaleRefused(_("%(product)s: the stock on record is %(available)s, fewer than the %(wanted)s sold. "
                                "Count the shelf and correct the stock first (Stock screen), then record the sale.",
                                product=item.name, available=available, wanted=item.quantity), item.name)
    book_direct_sale(sale.id, [DirectLine(item.id, item.facility_id, item.category_id, item.amount,
                                          item.unit_cost * item.quantity, item.quantity) for item in made], sold_at)
    record("direct_sale.record", sale, None, sale_snapshot(sale), actor=seller)
    metrics.on_commit(metrics.DIRECT_SALES)
    return Recorded(sale, new=True, warnings=warnings)


class SaleTaken(Exception):
    """Another request recorded the same client id (or took the number) at the same moment: roll back, try again."""


def sale_snapshot(sale: DirectSale) -> dict[str, object]:
    return {"number": sale.number, "point_id": sale.point_id, "method": sale.method.value, "total": sale.total,
            "lines": [{"product_id": line.product_id, "quantity": line.quantity, "unit_price": line.unit_price,
                       **({"reason": line.price_reason} if line.price_reason else {})} for line in sale.lines]}


def record_with_retry(point_id: int, data: SaleInput, *, seller: User | None, attempts: int = 5) -> Recorded:
    """`record_sale` and commit, trying again when another request took the day's next number or sent the same sale
    at the same moment (then the second finds the first's sale). Rolls back on a refusal."""
    for attempt in range(attempts):
        point = db.session.get_one(PointOfSale, point_id)
        try:
            done = record_sale(point, data, seller=seller)
            db.session.commit()
            return done
        except SaleTaken:
            db.session.rollback()
            if attempt == attempts - 1:
                raise
        except Exception:
            db.session.rollback()
            raise
    raise AssertionError("unreachable")  # pragma: no cover


# -- void

def may_void(user: User, sale: DirectSale) -> bool:
    return user.has_role(Role.ADMIN) or (sale.seller_id is not None and sale.seller_id == user.id)


def void_sale(sale: DirectSale, *, actor: User, reason: str) -> DirectSale:
    """Void a sale on its own day (at its point), by its seller or an admin, with a reason: its units go back to the
    lots they came from and its ledger entries are reversed. Nothing is edited; a second void changes nothing."""
    reason = " ".join(reason.split())
    if not reason:
        raise SaleRefused(_("Say why the sale is voided."), field="reason")
    if not may_void(actor, sale):
        raise SaleRefused(_("Only the seller of this sale or an administrator may void it."))
    lock_point(sale.point)  # a close of the day at the same moment waits, or this void sees it
    # The sale's row, taken next: a second void at the same moment waits here, then sees the first.
    done = db.session.execute(update(DirectSale).where(DirectSale.id == sale.id, DirectSale.voided_at.is_(None))
                              .values(voided_at=utcnow(), voided_by_id=actor.id, void_reason=reason[:500])
                              .execution_options(synchronize_session=False))
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise SaleRefused(_("This sale was already voided."))
    db.session.refresh(sale)
    if point_day(sale.point) != sale.day:
        raise SaleRefused(_("A sale can be voided only on the day it was made. Correct it with a counted stock "
                            "adjustment and tell finance."))
    if db.session.scalar(select(DayClose.id).where(DayClose.point_id == sale.point_id, DayClose.day == sale.day)):
        raise SaleRefused(_("This day is closed at this point of sale: its cash was counted."))
    taken = db.session.execute(
        select(StockMovement.product_id, StockMovement.lot_id, func.sum(StockMovement.delta))
        .where(StockMovement.direct_sale_id == sale.id)
        .group_by(StockMovement.product_id, StockMovement.lot_id)
        .order_by(StockMovement.product_id, StockMovement.lot_id)).tuples().all()
    for product_id, lot_id, delta in taken:
        if delta < 0:
            change_stock(product_id, -int(delta), StockReason.DIRECT_SALE_VOIDED, direct_sale_id=sale.id,
                         lot_id=lot_id, user_id=actor.id, note=sale.number)
    reverse_direct_sale(sale.id, utcnow())
    record("direct_sale.void", sale, {"voided": False}, {"voided": True}, note=reason, actor=actor)
    return sale


# -- the day

@dataclass(frozen=True)
class DayTotals:
    sales: int
    by_method: dict[PayMethod, int]
    voided: int

    @property
    def total(self) -> int:
        return sum(self.by_method.values())


def day_totals(point: PointOfSale, day: date) -> DayTotals:
    """What a point sold on a day, per payment method, voided sales left out (one GROUP BY)."""
    by_method: dict[PayMethod, int] = {method: 0 for method in PayMethod}
    sales = voided = 0
    for method, is_void, count, total in db.session.execute(
            select(DirectSale.method, DirectSale.voided_at.is_not(None), func.count(), func.sum(DirectSale.total))
            .where(DirectSale.point_id == point.id, DirectSale.day == day)
            .group_by(DirectSale.method, DirectSale.voided_at.is_not(None))).tuples():
        if is_void:
            voided += int(count)
        else:
            sales += int(count)
            by_method[PayMethod(method)] += int(total)
    return DayTotals(sales, by_method, voided)


def close_day(point: PointOfSale, day: date, counted_cash: int, reason: str, *, actor: User) -> DayClose:
    """Close a point's day: the cash counted against the cash sales expected, a difference only with a reason; the
    QRIS and transfer totals kept to match against the bank statement. Once per point and day."""
    if day > point_day(point):
        raise SaleRefused(_("A day that has not come yet cannot be closed."))
    if not 0 <= counted_cash <= 2_000_000_000:
        raise SaleRefused(_("The counted cash cannot be below zero."))
    lock_point(point)  # sales and voids of the point wait: the totals read next are the day's
    if day_close_of(point, day) is not None:
        raise SaleRefused(_("This day was already closed at this point of sale."))
    totals = day_totals(point, day)
    reason = " ".join(reason.split())[:500]
    if counted_cash != totals.by_method[PayMethod.CASH] and not reason:
        raise SaleRefused(_("The counted cash differs from the cash sales by %(difference)s: say why.",
                            difference=rupiah(counted_cash - totals.by_method[PayMethod.CASH])), field="reason")
    close = DayClose(point_id=point.id, day=day, sales=totals.sales, expected_cash=totals.by_method[PayMethod.CASH],
                     counted_cash=counted_cash, qris_total=totals.by_method[PayMethod.QRIS],
                     transfer_total=totals.by_method[PayMethod.TRANSFER],
                     reason=reason if counted_cash != totals.by_method[PayMethod.CASH] else "",
                     closed_by_id=actor.id)
    db.session.add(close)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as error:
        raise SaleRefused(_("This day was already closed at this point of sale.")) from error
    record("direct_sale.close_day", point, None, {"day": day.isoformat(), "expected_cash": close.expected_cash,
                                                  "counted_cash": counted_cash}, note=close.reason, actor=actor)
    return close


def after_close(point: PointOfSale, day: date) -> tuple[int, int]:
    """Sales recorded after the day was closed (not voided): how many, and their total."""
    count, total = db.session.execute(
        select(func.count(), func.coalesce(func.sum(DirectSale.total), 0))
        .where(DirectSale.point_id == point.id, DirectSale.day == day, DirectSale.after_close.is_(True),
               DirectSale.voided_at.is_(None))).one()
    return int(count), int(total)


def day_close_of(point: PointOfSale, day: date) -> DayClose | None:
    return db.session.scalar(select(DayClose).where(DayClose.point_id == point.id, DayClose.day == day))


def day_sales(point: PointOfSale, day: date) -> list[DirectSale]:
    return list(db.session.scalars(select(DirectSale).options(selectinload(DirectSale.lines))
                                   .where(DirectSale.point_id == point.id, DirectSale.day == day)
                                   .order_by(DirectSale.id.desc())))


def recently_sold(point: PointOfSale, limit: int = 8) -> list[int]:
    """The products most recently sold at this point (the sales screen puts them first)."""
    rows = db.session.execute(select(DirectSaleLine.product_id, func.max(DirectSaleLine.id))
                              .join(DirectSale, DirectSale.id == DirectSaleLine.sale_id)
                              .where(DirectSale.point_id == point.id)
                              .group_by(DirectSaleLine.product_id)
                              .order_by(func.max(DirectSaleLine.id).desc()).limit(limit)).tuples()
    return [product_id for product_id, _last in rows]


def sellable_products(point: PointOfSale) -> list[Product]:
    """What may be sold at this point today: a gallery its facility's products, an exhibition every facility's."""
    query = (select(Product).options(selectinload(Product.facility), selectinload(Product.certifications))
             .where(Product.active.is_(True), Product.stock > 0).order_by(Product.name_id))
    if point.kind is PointKind.GALLERY:
        query = query.where(Product.facility_id == point.facility_id)
    day = point_day(point)
    return [product for product in db.session.scalars(query) if is_sellable(product, day)]


def receipt_text(sale: DirectSale, link: str) -> str:
    """The receipt as a WhatsApp message: its number, what was bought, the total and the link."""
    lines = [_("Receipt %(number)s, %(place)s", number=sale.number, place=sale.point.name)]
    lines += [f"{line.quantity} × {line.name} = {rupiah(line.amount)}" for line in sale.lines]
    lines += [_("Total %(total)s (%(method)s)", total=rupiah(sale.total), method=sale.method.label), link]
    return "\n".join(lines)
