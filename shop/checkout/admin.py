"""Admin screen for couriers and their shipping rates by origin region and destination province."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from shop.accounts import register_staff_link
from shop.accounts.decorators import role_required
from shop.accounts.models import Role
from shop.audit.service import record, snapshot
from shop.catalog.models import Region
from shop.checkout import checkout
from shop.extensions import db
from shop.shipping.models import Courier, ShippingRate
from shop.shipping.provinces import PROVINCES
from shop.web import positive_int, whole_number

register_staff_link("checkout.couriers", _l("Couriers and shipping rates"), Role.ADMIN)


def _whole(value: str | None) -> int | None:
    return whole_number(value, thousands=True)


@checkout.get("/staf/kurir")
@login_required
@role_required(Role.ADMIN)
def couriers() -> str:
    rows = db.session.scalars(select(Courier).options(selectinload(Courier.rates)).order_by(Courier.position)).all()
    regions = db.session.scalars(select(Region).order_by(Region.name)).all()
    return render_template("checkout/couriers.html", couriers=rows, provinces=list(PROVINCES), regions=regions,
                           region_names={region.id: region.name for region in regions})


@checkout.post("/staf/kurir/<int:courier_id>")
@login_required
@role_required(Role.ADMIN)
def save_rate(courier_id: int) -> Response:
    """Set one courier's rate to one province, its active flag, or how it charges bulk (volumetric divisor, crate)."""
    courier = db.session.get(Courier, courier_id)
    if courier is None:
        abort(404)
    if "volumetric_divisor" in request.form:
        divisor = whole_number(request.form.get("volumetric_divisor"), maximum=20_000)
        crate = _whole(request.form.get("crate_fee") or "0")
        least_kg = whole_number(request.form.get("min_weight_kg") or "0", maximum=1_000)
        if divisor is None or crate is None or crate > 10_000_000:
            flash(_("Enter the divisor (like 6000, or 0 for weight alone) and the crate fee in whole rupiah."),
                  "error")
            return redirect(url_for("checkout.couriers"))
        cargo = request.form.get("cargo") == "1"
        if least_kg is None or (cargo and not least_kg):
            flash(_("Enter the least weight a parcel is charged, in whole kilograms (a cargo service has one, "
                    "like 10)."), "error")
            return redirect(url_for("checkout.couriers"))
        fields = ["volumetric_divisor", "crate_fee", "cargo", "min_weight_g"]
        before = snapshot(courier, fields)
        courier.volumetric_divisor, courier.crate_fee = divisor, crate
        courier.cargo, courier.min_weight_g = cargo, least_kg * 1000
        record("courier.update", courier, before, snapshot(courier, fields), actor=current_user)
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("checkout.couriers"))
    if "active" in request.form:
        before = snapshot(courier, ["active"])
        courier.active = request.form["active"] == "1"
        record("courier.update", courier, before, snapshot(courier, ["active"]), actor=current_user)
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("checkout.couriers"))
    province = request.form.get("province", "")
    first, nxt = _whole(request.form.get("first_kg")), _whole(request.form.get("next_kg"))
    origin = positive_int(request.form.get("origin_region_id"))
    if origin is not None and db.session.get(Region, origin) is None:
        origin = -1
    if province not in PROVINCES or first is None or nxt is None or origin == -1:
        flash(_("Choose a province and enter both prices in whole rupiah."), "error")
        return redirect(url_for("checkout.couriers"))
    same_origin = ShippingRate.origin_region_id == origin if origin else ShippingRate.origin_region_id.is_(None)
    rate = db.session.scalar(select(ShippingRate).where(ShippingRate.courier_id == courier.id,
                                                        ShippingRate.province == province, same_origin))
    rate_before = snapshot(rate, ["first_kg", "next_kg"]) if rate else None
    if rate is None:
        rate = ShippingRate(courier=courier, origin_region_id=origin, province=province, first_kg=first, next_kg=nxt)
        db.session.add(rate)
    rate.first_kg, rate.next_kg = first, nxt
    db.session.flush()
    record("shipping_rate.update", rate, rate_before, {"origin_region_id": origin, "province": province,
                                                       "first_kg": first, "next_kg": nxt},
           actor=current_user, note=courier.name)
    db.session.commit()
    flash(_("Rate saved."), "success")
    return redirect(url_for("checkout.couriers"))
