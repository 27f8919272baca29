"""Direct sales screens (#28): points of sale, the phone-first sales screen and the queue it sends when back online,
a sale and its void, the day close, imports, and the buyer's receipt (struk)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import abort, current_app, flash, jsonify, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from shop.accounts import register_staff_link
from shop.accounts.decorators import role_required
from shop.accounts.models import Role, User
from shop.catalog.models import Facility
from shop.extensions import db
from shop.i18n import rupiah
from shop.sales import sales
from shop.sales import service as svc
from shop.sales.imports import BadRow, ImportRefused, import_sales
from shop.sales.models import DirectSale, PayMethod, PointKind, PointOfSale
from shop.timeutil import utcnow
from shop.web import parse_day, positive_int, qr_svg, whole_number

SELLERS = (Role.ADMIN, Role.FULFILMENT, Role.FACILITY)
READERS = (*SELLERS, Role.FINANCE)  # finance reads sales and day closes (the ledger links to them), never sells
KEEPERS = (Role.ADMIN, Role.FULFILMENT)  # who set up points of sale and import files
MAX_SYNC = 200  # sales in one message from a phone
OLDEST_OFFLINE = timedelta(days=31)  # a phone's sale older than this: its clock is wrong (a reset phone says 1970)

register_staff_link("sales.points", _l("Direct sales"), *SELLERS)


def _point(point_id: int) -> PointOfSale:
    point = db.session.get(PointOfSale, point_id) or abort(404)
    if not svc.may_sell(current_user, point):
        abort(403)
    return point


def _sale(sale_id: int) -> DirectSale:
    sale = db.session.get(DirectSale, sale_id) or abort(404)
    if not (current_user.has_role(*KEEPERS, Role.FINANCE) or svc.may_sell(current_user, sale.point)):
        abort(403)
    return sale


def _readable_point(point_id: int) -> PointOfSale:
    """A point whose day closes this user may read: its sellers, cooperative staff and finance."""
    point = db.session.get(PointOfSale, point_id) or abort(404)
    if not (current_user.has_role(*KEEPERS, Role.FINANCE) or svc.may_sell(current_user, point)):
        abort(403)
    return point


# -- points of sale

@sales.get("/staf/penjualan")
@login_required
@role_required(*READERS)
def points() -> str:
    listed = svc.points_for(current_user)
    today = {point.id: svc.day_totals(point, svc.point_day(point)) for point in listed if point.active}
    return render_template("sales/points.html", points=listed, today=today, kinds=list(PointKind),
                           facilities=db.session.scalars(select(Facility).order_by(Facility.name)).all(),
                           candidates=_candidates(), errors={}, values={})


def _candidates() -> list[User]:
    return [user for user in db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.email))
            if user.has_role(Role.FULFILMENT, Role.FACILITY, Role.ADMIN)]


def _point_input() -> svc.PointInput:
    kind = request.form.get("kind", "")
    return svc.PointInput(name=request.form.get("name", ""),
                          kind=PointKind(kind) if kind in {k.value for k in PointKind} else PointKind.EXHIBITION,
                          facility_id=positive_int(request.form.get("facility_id")),
                          place=request.form.get("place", ""), starts_on=parse_day(request.form.get("starts_on")),
                          ends_on=parse_day(request.form.get("ends_on")),
                          seller_ids=[n for n in (positive_int(v) for v in request.form.getlist("sellers")) if n],
                          active=request.form.get("active", "1") == "1")


@sales.post("/staf/penjualan/titik")
@login_required
@role_required(*KEEPERS)
def create_point() -> Any:
    try:
        point = svc.save_point(_point_input(), actor=current_user)
        db.session.commit()
    except svc.PointInvalid as invalid:
        db.session.rollback()
        listed = svc.points_for(current_user)
        return render_template("sales/points.html", points=listed, today={}, kinds=list(PointKind),
                               facilities=db.session.scalars(select(Facility).order_by(Facility.name)).all(),
                               candidates=_candidates(), errors=invalid.errors, values=request.form), 422
    flash(_("Point of sale %(name)s saved.", name=point.name), "success")
    return redirect(url_for("sales.points"))


@sales.route("/staf/penjualan/titik/<int:point_id>", methods=["GET", "POST"])
@login_required
@role_required(*KEEPERS)
def edit_point(point_id: int) -> Any:
    point = db.session.get(PointOfSale, point_id) or abort(404)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            svc.save_point(replace(_point_input(), active=request.form.get("active") == "1"), actor=current_user,
                           point=point)
            db.session.commit()
            flash(_("Point of sale %(name)s saved.", name=point.name), "success")
            return redirect(url_for("sales.points"))
        except svc.PointInvalid as invalid:
            db.session.rollback()
            point = db.session.get_one(PointOfSale, point_id)
            errors = invalid.errors
    values: Any = request.form if request.method == "POST" else {
        "name": point.name, "kind": point.kind.value, "facility_id": str(point.facility_id or ""),
        "place": point.place, "starts_on": point.starts_on.isoformat() if point.starts_on else "",
        "ends_on": point.ends_on.isoformat() if point.ends_on else "", "active": "1" if point.active else ""}
    chosen = ({str(n) for n in request.form.getlist("sellers")} if request.method == "POST"
              else {str(user.id) for user in point.sellers})
    return render_template("sales/point_form.html", point=point, errors=errors, values=values, chosen=chosen,
                           kinds=list(PointKind), candidates=_candidates(),
                           facilities=db.session.scalars(select(Facility).order_by(Facility.name)).all()), \
        422 if errors else 200


# -- the sales screen

def _screen(point: PointOfSale, errors: dict[str, str] | None = None, values: Any = None, status: int = 200) -> Any:
    products = svc.sellable_products(point)
    recent = svc.recently_sold(point)
    order = {product_id: n for n, product_id in enumerate(recent)}
    products.sort(key=lambda product: (order.get(product.id, len(order)), product.name_id))
    day = svc.point_day(point)
    return render_template("sales/screen.html", point=point, products=products, recent=set(recent),
                           methods=list(PayMethod), errors=errors or {}, values=values or {},
                           client_id=str(uuid.uuid4()), totals=svc.day_totals(point, day), day=day,
                           sales_today=svc.day_sales(point, day)[:20],
                           qris=qr_svg(current_app.config["DIRECT_QRIS_PAYLOAD"])
                           if current_app.config.get("DIRECT_QRIS_PAYLOAD") else None), status


def _form_sale() -> tuple[svc.SaleInput | None, dict[str, str]]:
    """The no-JavaScript form: a quantity, a price and a reason per product."""
    errors: dict[str, str] = {}
    lines: list[svc.LineInput] = []
    for key, typed in request.form.items():
        if not key.startswith("q-") or not typed.strip():
            continue
        product_id = positive_int(key[2:])
        if product_id is None:
            continue
        quantity = whole_number(typed, maximum=svc.MAX_QUANTITY)
        if not quantity:
            errors[key] = _("A quantity must be a whole number from 1 to %(most)s.", most=svc.MAX_QUANTITY)
            continue
        price_text = request.form.get(f"p-{product_id}", "").strip()
        price = whole_number(price_text, maximum=svc.MAX_PRICE, thousands=True) if price_text else None
        if price_text and price is None:
            errors[f"p-{product_id}"] = _("A price must be whole rupiah, not below zero.")
            continue
        lines.append(svc.LineInput(product_id, quantity, price, request.form.get(f"r-{product_id}", "")))
    method = request.form.get("method", "")
    if method not in {m.value for m in PayMethod}:
        errors["method"] = _("Choose how the buyer paid.")
    if not lines and not errors:
        errors["lines"] = _("Add at least one product to the sale.")
    if errors:
        return None, errors
    return svc.SaleInput(request.form.get("client_id", ""), PayMethod(method), lines), {}


@sales.route("/staf/penjualan/<int:point_id>", methods=["GET", "POST"])
@login_required
@role_required(*SELLERS)
def screen(point_id: int) -> Any:
    point = _point(point_id)
    if request.method == "GET":
        page, status = _screen(point)
        response = make_response(page, status)
        response.headers["Cache-Control"] = "no-store"  # Back brings a fresh sale id, never the last sale's
        return response
    data, errors = _form_sale()
    if data is None:
        return _screen(point, errors, request.form, 422)
    try:
        done = svc.record_with_retry(point.id, data, seller=current_user)
    except svc.SaleRefused as refused:
        return _screen(db.session.get_one(PointOfSale, point_id), {"lines": str(refused)}, request.form, 422)
    except svc.SaleTaken:
        return _screen(db.session.get_one(PointOfSale, point_id),
                       {"lines": _("The shop is busy: record the sale again.")}, request.form, 503)
    if done.new:
        flash(_("Sale %(number)s recorded: %(total)s.", number=done.sale.number,
                total=rupiah(done.sale.total)), "success")
        for warning in done.warnings:
            flash(warning, "warning")
    else:
        flash(_("This sale was already recorded as %(number)s: nothing was recorded twice.",
                number=done.sale.number), "warning")
    return redirect(url_for("sales.sale", sale_id=done.sale.id))


def _json_sale(item: Any) -> svc.SaleInput:
    """One sale as the phone sends it; SaleRefused for anything that is not one."""
    if not isinstance(item, dict) or not isinstance(item.get("lines"), list) or len(item["lines"]) > 200:
        raise svc.SaleRefused(_("The sale could not be read."))
    method = item.get("method")
    if method not in {m.value for m in PayMethod}:
        raise svc.SaleRefused(_("Choose how the buyer paid."))
    lines = []
    for line in item["lines"]:
        if not isinstance(line, dict):
            raise svc.SaleRefused(_("The sale could not be read."))
        product_id = positive_int(str(line.get("product_id")))
        quantity, price, seen = line.get("quantity"), line.get("unit_price"), line.get("seen_price")
        if not all(value is None or (isinstance(value, int) and not isinstance(value, bool))
                   for value in (quantity, price, seen)):
            raise svc.SaleRefused(_("A quantity must be a whole number from 1 to %(most)s, a price whole rupiah.",
                                    most=svc.MAX_QUANTITY))
        reason = str(line.get("reason") or "")[:300]
        if price is None and seen is not None:
            # Not changed by the seller: the catalogue price the phone showed, even if it changed since.
            price, reason = seen, reason or _("the catalogue price on the phone when it was sold")
        if product_id is None or not isinstance(quantity, int) or not 0 < quantity <= svc.MAX_QUANTITY or \
                (price is not None and not 0 <= price <= svc.MAX_PRICE):
            raise svc.SaleRefused(_("A quantity must be a whole number from 1 to %(most)s, a price whole rupiah.",
                                    most=svc.MAX_QUANTITY))
        lines.append(svc.LineInput(product_id, quantity, price, reason))
    sold_at = None
    if isinstance(item.get("sold_at"), str):
        try:
            sold_at = datetime.fromisoformat(item["sold_at"].replace("Z", "+00:00"))
        except ValueError:
            sold_at = None
        if sold_at is not None and sold_at.tzinfo is None:
            sold_at = None
    if sold_at is not None and sold_at < utcnow() - OLDEST_OFFLINE:
        raise svc.SaleRefused(_("The sale is dated %(day)s, more than a month ago: the phone's clock is wrong. Set "
                                "the clock, then record the sale again.", day=f"{sold_at:%Y-%m-%d}"))
    return svc.SaleInput(str(item.get("client_id") or "")[:64], PayMethod(method), lines, sold_at=sold_at)


@sales.post("/staf/penjualan/<int:point_id>/kirim")
@login_required
@role_required(*SELLERS)
def sync(point_id: int) -> Any:
    """Sales the phone kept while offline (or sends at once): each recorded once, by the id the phone made."""
    point = _point(point_id)
    payload = request.get_json(silent=True)
    items = payload.get("sales") if isinstance(payload, dict) else None
    if not isinstance(items, list) or len(items) > MAX_SYNC:
        return jsonify(error=_("The sales could not be read.")), 400
    results: list[dict[str, Any]] = []
    for item in items:
        client_id = str(item.get("client_id") or "") if isinstance(item, dict) else ""
        try:
            done = svc.record_with_retry(point.id, _json_sale(item), seller=current_user)
        except svc.SaleRefused as refused:
            results.append({"client_id": client_id, "status": "refused", "message": str(refused)})
            continue
        except Exception:  # one sale that fails (busy, a fault) must not hold back the rest: it is sent again later
            db.session.rollback()
            current_app.logger.exception("a direct sale from a phone could not be recorded")
            results.append({"client_id": client_id, "status": "retry"})
            continue
        results.append({"client_id": client_id, "status": "saved" if done.new else "duplicate",
                        "number": done.sale.number, "total": done.sale.total, "warnings": done.warnings,
                        "url": url_for("sales.sale", sale_id=done.sale.id),
                        "receipt": url_for("sales.receipt", token=done.sale.receipt_token, _external=True)})
    return jsonify(results=results)


@sales.get("/staf/penjualan/token")
@login_required
@role_required(*SELLERS)
def token() -> Response:
    """A fresh CSRF token for a phone that comes back online with a page older than the token's life."""
    response = jsonify(csrf_token=generate_csrf())
    response.headers["Cache-Control"] = "no-store"
    return response


@sales.get("/staf/penjualan/sw.js")
@login_required
@role_required(*SELLERS)
def service_worker() -> Response:
    """The sales screen's service worker, served under the screen's path so that its scope covers it."""
    script = (Path(current_app.static_folder or "") / "js" / "sales-sw.js").read_text()
    response = Response(script, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/staf/penjualan/"
    return response


# -- a sale, its void and its receipt

def _may_void(found: DirectSale) -> bool:
    return svc.may_void(current_user, found) and found.voided_at is None and found.day == svc.point_day(found.point)


@sales.get("/staf/penjualan/transaksi/<int:sale_id>")
@login_required
@role_required(*READERS)
def sale(sale_id: int) -> str:
    found = _sale(sale_id)
    link = url_for("sales.receipt", token=found.receipt_token, _external=True)
    text = svc.receipt_text(found, link)
    return render_template("sales/sale.html", sale=found, link=link, whatsapp=f"https://wa.me/?text={quote(text)}",
                           may_void=_may_void(found), errors={})


@sales.post("/staf/penjualan/transaksi/<int:sale_id>/batal")
@login_required
@role_required(*SELLERS)
def void(sale_id: int) -> Any:
    found = _sale(sale_id)
    try:
        svc.void_sale(found, actor=current_user, reason=request.form.get("reason", ""))
        db.session.commit()
    except svc.SaleRefused as refused:
        db.session.rollback()
        found = db.session.get_one(DirectSale, sale_id)
        link = url_for("sales.receipt", token=found.receipt_token, _external=True)
        return render_template("sales/sale.html", sale=found, link=link, whatsapp="", may_void=_may_void(found),
                               errors={"reason": str(refused)}, reason=request.form.get("reason", ""),
                               refused=str(refused)), 422
    flash(_("Sale %(number)s voided: its stock and ledger entries are reversed.", number=found.number), "success")
    return redirect(url_for("sales.sale", sale_id=sale_id))


@sales.get("/struk/<token>")
def receipt(token: str) -> str:
    found = db.session.scalar(select(DirectSale).options(selectinload(DirectSale.lines))
                              .where(DirectSale.receipt_token == token[:32])) or abort(404)
    return render_template("sales/receipt.html", sale=found)


# -- the day close

@sales.route("/staf/penjualan/<int:point_id>/tutup-hari", methods=["GET", "POST"])
@login_required
@role_required(*READERS)
def close_day(point_id: int) -> Any:
    point = _point(point_id) if request.method == "POST" else _readable_point(point_id)
    day = parse_day(request.values.get("tanggal")) or svc.point_day(point)
    errors: dict[str, str] = {}
    if request.method == "POST":
        counted = whole_number(request.form.get("counted_cash"), maximum=2_000_000_000, thousands=True)
        if counted is None:
            errors["counted_cash"] = _("Type the cash counted, in whole rupiah.")
        else:
            try:
                svc.close_day(point, day, counted, request.form.get("reason", ""), actor=current_user)
                db.session.commit()
                flash(_("The day %(day)s is closed at %(point)s.", day=day.isoformat(), point=point.name), "success")
                return redirect(url_for("sales.close_day", point_id=point.id, tanggal=day.isoformat()))
            except svc.SaleRefused as refused:
                db.session.rollback()
                point = db.session.get_one(PointOfSale, point_id)
                errors[refused.field or "counted_cash"] = str(refused)
    closed = svc.day_close_of(point, day)
    return render_template("sales/close.html", point=point, day=day, totals=svc.day_totals(point, day),
                           closed=closed, late=svc.after_close(point, day) if closed else (0, 0), errors=errors,
                           values=request.form, sales=svc.day_sales(point, day), methods=list(PayMethod),
                           may_close=svc.may_sell(current_user, point)), 422 if errors else 200


# -- imports

@sales.route("/staf/penjualan/impor", methods=["GET", "POST"])
@login_required
@role_required(*KEEPERS)
def import_file() -> Any:
    problems: list[BadRow] = []
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            problems = [BadRow(0, _("Choose a CSV or XLSX file."))]
        else:
            try:
                done = import_sales(upload.read(), upload.filename, request.form.get("point", ""),
                                    actor=current_user)
                db.session.commit()
                flash(_("%(count)s sales imported at %(point)s: %(total)s.", count=done.sales, point=done.point.name,
                        total=rupiah(done.total)), "success")
                return redirect(url_for("sales.points"))
            except ImportRefused as refused:
                db.session.rollback()
                problems = refused.problems
            except svc.SaleTaken:
                db.session.rollback()
                problems = [BadRow(0, _("Another sale was recorded at the same moment: import the file again."))]
    names = db.session.scalars(select(PointOfSale.name).order_by(PointOfSale.name)).all()
    return render_template("sales/import.html", problems=problems, names=names, values=request.form), \
        422 if problems else 200
