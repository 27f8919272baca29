"""The fulfilment desk: queue, order screen and its actions, packing slip and label, stock screen."""

from __future__ import annotations

from datetime import date

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from shop.accounts import register_staff_link, register_staff_panel
from shop.accounts.decorators import role_required
from shop.accounts.models import Role
from shop.catalog import lots, stock
from shop.catalog.models import Facility, Lot, Product, StockReason
from shop.catalog.staff import product_for_staff
from shop.extensions import db
from shop.fulfilment import fulfilment, recalls, service
from shop.orders import service as orders
from shop.orders.mail import queue_shipped
from shop.orders.models import Order, OrderStatus
from shop.outbox import service as outbox
from shop.payments import errors as payment_errors
from shop.payments import service as payments
from shop.shipping.models import Courier
from shop.web import commit_or_refuse, parse_day, positive_int, problem, qr_svg, whole_number

DESK = (Role.ADMIN, Role.FULFILMENT)
READERS = (Role.ADMIN, Role.FULFILMENT, Role.FINANCE)
STOCK_KEEPERS = (Role.ADMIN, Role.FULFILMENT, Role.FACILITY)
register_staff_link("fulfilment.queue", _l("Orders"), *READERS, count=lambda user: service.to_pack())
register_staff_link("fulfilment.stock_list", _l("Stock"), *STOCK_KEEPERS)


def _lot_panel() -> dict[str, object]:
    facility_id = None if current_user.has_role(Role.ADMIN, Role.FULFILMENT) else current_user.facility_id
    return {"nearing": stock.lots_nearing_limit(facility_id)}


register_staff_panel("fulfilment/_lot_alerts.html", _lot_panel, *STOCK_KEEPERS)

PROBLEMS = {
    "tracking_required": _l("Enter the tracking number (resi)."),
    "tracking_too_long": _l("A tracking number (resi) has at most 60 characters."),
    "parcel_not_shipped": _l("This parcel has not been shipped yet."),
    "parcel_delivered": _l("This parcel is already marked delivered."),
    "tracking_format": _l("A tracking number (resi) is 8 to 40 letters and digits, like JP1234567890: check it "
                          "against the courier's receipt."),
    "other_courier": _l("The buyer paid for another courier: tick the box to ship with this one anyway."),
    "transfer_reference_too_long": _l("A transfer reference has at most 120 characters."),
    "not_packed": _l("Mark the order packed before shipping it."),
    "unknown_facility": _l("Choose one of the order's facilities."),
    "unknown_courier": _l("Choose a courier."),
    "already_shipped": _l("This facility's parcel was shipped already."),
    "reason_required": _l("Give a reason."),
    "transfer_reference_required": _l("This order was paid by bank transfer: enter the reference of the transfer "
                                      "that returned the money."),
    "note_required": _l("Write the note."),
    "not_returnable": _l("Goods can be received back only after the order was shipped; before that, cancel it."),
    "nothing_returned": _l("Enter how many units of each product came back."),
    "unknown_line": _l("Enter how many units of each product came back."),
    "more_than_sent": _l("More units than were sent cannot come back."),
}


def _day(value: str | None) -> date | None:
    return parse_day(value) if value else None


@fulfilment.get("/staf/pesanan")
@login_required
@role_required(*READERS)
def queue() -> str:
    status = request.args.get("status") or None
    filters = service.QueueFilter(
        status=OrderStatus(status) if status and status in OrderStatus.__members__.values() else None,
        facility_id=positive_int(request.args.get("facility")), courier_id=positive_int(request.args.get("courier")),
        day_from=_day(request.args.get("from")), day_to=_day(request.args.get("to")),
        sort=request.args.get("sort", "state") if request.args.get("sort") in service.QUEUE_SORTS else "state")
    return render_template("fulfilment/queue.html", orders=service.queue(filters), counts=service.counts(),
                           filters=filters, facilities=db.session.scalars(select(Facility).order_by(Facility.name)),
                           couriers=db.session.scalars(select(Courier).order_by(Courier.position)))


def _order_or_404(number: str) -> Order:
    order = orders.order_by_number(number)
    if order is None:
        abort(404)
    return order


@fulfilment.get("/staf/pesanan/<number>")
@login_required
@role_required(*READERS)
def order(number: str) -> str:
    item = _order_or_404(number)
    if orders.expire_if_due(item):
        db.session.commit()
    return render_template("fulfilment/order.html", order=item, groups=service.groups(item),
                           typed=session.pop("desk_form", None) or {},
                           shipments={s.facility_id: s for s in service.shipments(item)},
                           payments=payments.order_payments(item), can_act=current_user.has_role(*DESK),
                           money=payments.money_state(item), returns=service.returns(item),
                           returnable=item.status in service.RETURNABLE, food_lines=service.food_line_ids(item),
                           couriers=db.session.scalars(select(Courier).where(Courier.active.is_(True))
                                                       .order_by(Courier.position)).all())


def _provider_refused(_error: Exception) -> str:
    current_app.logger.exception("a refund on cancelling an order failed")
    return _("The payment provider did not accept the refund; the order was not cancelled. Try again later.")


def _act(number: str, action: str) -> Response:
    item = _order_or_404(number)
    form = request.form

    def act() -> bool:
        if action == "pack":
            service.mark_packed(item, actor=current_user)
        elif action == "ship":
            shipment = service.ship(item, facility_id=positive_int(form.get("facility_id")) or 0,
                                    courier_id=positive_int(form.get("courier_id")) or 0,
                                    tracking_number=form.get("tracking_number", ""), actor=current_user,
                                    other_courier=form.get("other_courier") == "1")
            queue_shipped(item, shipment)
        elif action == "deliver":
            parcel = positive_int(form.get("facility_id"))
            if parcel:
                service.mark_parcel_delivered(item, parcel, actor=current_user)
            else:
                service.mark_delivered(item, actor=current_user)
        elif action == "cancel":
            service.cancel(item, reason=form.get("reason", ""), actor=current_user,
                           transfer_reference=form.get("transfer_reference", ""))
        elif action == "return":
            quantities = {line.id: _count(form.get(f"line-{line.id}")) for line in item.lines}
            service.receive_return(item, quantities, reason=form.get("reason", ""), actor=current_user,
                                   sealed={line.id for line in item.lines if form.get(f"sealed-{line.id}") == "1"})
        else:
            service.add_note(item, note=form.get("note", ""), actor=current_user)
        return True

    if commit_or_refuse(act, {
            service.FulfilmentError: problem(PROBLEMS),
            orders.IllegalTransition: lambda error: _("Not possible now: the order is %(status)s.",
                                                      status=error.current.label),  # type: ignore[attr-defined]
            payment_errors.GatewayError: _provider_refused}, _("Saved.")):
        outbox.deliver_after_commit()
    elif action in ("cancel", "return", "note"):
        # Refused: the order page opens the same form again with what was typed (not lost to the redirect).
        session["desk_form"] = {"action": action, **{name: form.get(name, "")[:1000]
                                                     for name in ("reason", "transfer_reference", "note")}}
    return redirect(url_for("fulfilment.order", number=number))


MAX_STOCK_CHANGE = 1_000_000  # units in one adjustment: a typing slip beyond this is refused, not stored


def _count(value: str | None) -> int:
    """A count typed by staff: a whole number, or -1 (refused by the service) for anything else."""
    value = (value or "").strip()
    number = whole_number(value)
    return number if number is not None else (0 if value == "" else -1)


@fulfilment.post("/staf/pesanan/<number>/<any(kemas, kirim, diterima, batal, retur, catatan):step>")
@login_required
@role_required(*DESK)
def act(number: str, step: str) -> Response:
    return _act(number, {"kemas": "pack", "kirim": "ship", "diterima": "deliver", "batal": "cancel",
                         "retur": "return", "catatan": "note"}[step])


@fulfilment.get("/staf/pesanan/<number>/<any(slip, label):kind>/<int:facility_id>")
@login_required
@role_required(*DESK)
def printable(number: str, kind: str, facility_id: int) -> str:
    item = _order_or_404(number)
    group = next((g for g in service.groups(item) if g[0] == facility_id), None)
    if group is None:
        abort(404)
    shipment = next((s for s in service.shipments(item) if s.facility_id == facility_id), None)
    return render_template(f"fulfilment/{kind}.html", order=item, group=group, shipment=shipment,
                           facility=db.session.get(Facility, facility_id), lots=lots.held_by_order(item.id),
                           qr=order_qr(item.number) if kind == "label" else None)


def order_qr(number: str) -> Markup:
    """The order number as a QR code (inline SVG), for the courier's scanner at drop-off."""
    return qr_svg(number, scale=3, border=2, title=number)


# -- stock

def _stock_products() -> list[Product]:
    query = select(Product).options(selectinload(Product.facility)).order_by(Product.name_id)
    if not current_user.has_role(Role.ADMIN, Role.FULFILMENT):
        query = query.where(Product.facility_id == current_user.facility_id)
    return list(db.session.scalars(query))


@fulfilment.get("/staf/stok")
@login_required
@role_required(*STOCK_KEEPERS)
def stock_list() -> str:
    return render_template("fulfilment/stock_list.html", products=_stock_products())


@fulfilment.route("/staf/stok/<int:product_id>", methods=["GET", "POST"])
@login_required
@role_required(*STOCK_KEEPERS)
def stock_product(product_id: int) -> str | Response:
    product = product_for_staff(product_id)
    error = None
    if request.method == "POST":
        reason = request.form.get("reason", "")
        quantity = whole_number(request.form.get("quantity"), negative=True, maximum=MAX_STOCK_CHANGE) or 0
        if quantity == 0:
            error = _("Enter a whole number other than 0 (negative takes stock away).")
        elif reason not in {r.value for r in (StockReason.PRODUCTION, StockReason.DAMAGED, StockReason.CORRECTION)}:
            error = _("Choose the reason.")
        elif reason == StockReason.PRODUCTION and product.category.required_certs:
            error = _("Food from the workshop comes in as a lot, with its code and dates: use \"Receive a lot\" below.")
        else:
            lot_id = positive_int(request.form.get("lot_id"))
            try:
                stock.adjust_stock(product, quantity, StockReason(reason), note=request.form.get("note", ""),
                                   actor=current_user, lot_id=lot_id)
            except ValueError:
                error = _("Choose one of this product's lots.")
            except stock.NotEnoughStock as short:
                db.session.rollback()
                error = _("Only %(count)d in stock: it cannot go below zero.", count=short.available)
            else:
                db.session.commit()
                flash(_("Stock saved."), "success")
                return redirect(url_for("fulfilment.stock_product", product_id=product.id))
    return _stock_page(product, error=error)


def _stock_page(product: Product, *, error: str | None = None, lot_errors: dict[str, str] | None = None) -> str:
    return render_template("fulfilment/stock_product.html", product=product, history=stock.history(product.id),
                           error=error, reasons=[StockReason.PRODUCTION, StockReason.DAMAGED, StockReason.CORRECTION],
                           lots=stock.lots_of(product.id), lot_errors=lot_errors or {},
                           needs_lots=bool(product.category.required_certs))


@fulfilment.post("/staf/stok/<int:product_id>/lot")
@login_required
@role_required(*STOCK_KEEPERS)
def receive_lot(product_id: int) -> str | Response:
    """A delivery from the workshop received as a lot: its code, production and best-before dates, units."""
    product = product_for_staff(product_id)
    form = request.form
    quantity = whole_number(form.get("lot_quantity"), maximum=stock.MAX_LOT)
    typed = {name: parse_day(form.get(name)) for name in ("produced_on", "best_before")}
    bad_days = {name: _("Enter a date, like 2026-12-31.") for name, day in typed.items() if form.get(name) and not day}
    try:
        if bad_days:
            raise stock.LotInvalid(bad_days)
        lot = stock.receive_lot(product, form.get("code", ""), typed["produced_on"], typed["best_before"],
                                quantity or 0, actor=current_user)
    except PermissionError:
        abort(403)
    except stock.LotInvalid as invalid:
        db.session.rollback()
        return _stock_page(product, lot_errors=invalid.errors)
    db.session.commit()
    flash(_("Lot %(code)s received: %(count)d units.", code=lot.code, count=lot.received_qty), "success")
    return redirect(url_for("fulfilment.stock_product", product_id=product.id))


# -- recalls of a lot (#27)

EXPORTS = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _lot_for_staff(lot_id: int) -> Lot:
    lot = db.session.get(Lot, lot_id)
    if lot is None:
        abort(404)
    product_for_staff(lot.product_id)  # 403 for another facility's lot
    return lot


@fulfilment.post("/staf/stok/batch/<int:lot_id>/tarik")
@login_required
@role_required(*STOCK_KEEPERS)
def recall(lot_id: int) -> Response:
    """Start a recall of the lot: its unsold units blocked, every buyer of it mailed."""
    lot = _lot_for_staff(lot_id)
    try:
        done = recalls.start_recall(lot, request.form.get("reason", ""), actor=current_user)
    except recalls.RecallRefused as refused:
        db.session.rollback()
        flash(str(refused), "error")
        return redirect(url_for("fulfilment.stock_product", product_id=lot.product_id, _anchor="lots"))
    db.session.commit()
    outbox.deliver_after_commit()
    flash(ngettext("Lot %(code)s recalled: %(num)d buyer is being told by mail.",
                   "Lot %(code)s recalled: %(num)d buyers are being told by mail.", len(done.notices), code=lot.code),
          "success")
    if done.swapped:
        flash(ngettext("%(num)d order not packed yet gets units of another lot instead.",
                       "%(num)d orders not packed yet get units of another lot instead.", done.swapped), "success")
    return redirect(url_for("fulfilment.recall_page", lot_id=lot.id))


@fulfilment.get("/staf/penarikan/<int:lot_id>")
@login_required
@role_required(*STOCK_KEEPERS)
def recall_page(lot_id: int) -> str:
    lot = _lot_for_staff(lot_id)
    return render_template("fulfilment/recall.html", lot=lot, affected=recalls.recall_list(lot.id))


@fulfilment.post("/staf/penarikan/<int:lot_id>/pesanan/<int:order_id>")
@login_required
@role_required(*STOCK_KEEPERS)
def recall_reached(lot_id: int, order_id: int) -> Response:
    """Staff reached this buyer (by phone or WhatsApp) as well: noted, with what was agreed."""
    lot = _lot_for_staff(lot_id)
    try:
        recalls.mark_reached(lot.id, order_id, request.form.get("note", ""), actor=current_user)
    except recalls.RecallRefused as refused:
        db.session.rollback()
        flash(str(refused), "error")
    else:
        db.session.commit()
        flash(_("Saved."), "success")
    return redirect(url_for("fulfilment.recall_page", lot_id=lot.id))


@fulfilment.get("/staf/penarikan/<int:lot_id>/unduh.<any(csv, xlsx):fmt>")
@login_required
@role_required(*STOCK_KEEPERS)
def recall_export(lot_id: int, fmt: str) -> Response:
    lot = _lot_for_staff(lot_id)
    return Response(recalls.export(lot).render(fmt), mimetype=EXPORTS[fmt],
                    headers={"Content-Disposition": f'attachment; filename="penarikan-{lot.id}.{fmt}"'})
