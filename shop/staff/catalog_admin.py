"""Admin screens for facilities (story, active) and categories (names, required certificates)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from shop.accounts import register_staff_link
from shop.accounts.decorators import role_required
from shop.accounts.models import Role
from shop.audit.service import record, snapshot
from shop.catalog import catalog
from shop.catalog.models import Category, Facility
from shop.certification.service import REQUIREMENTS
from shop.extensions import db
from shop.web import column_limit

register_staff_link("catalog.admin_facilities", _l("Facilities and categories"), Role.ADMIN)
FACILITY_FIELDS = ["name", "city", "facility_class", "story_id", "story_en", "active"]
CATEGORY_FIELDS = ["name_id", "name_en", "required_certs"]


@catalog.get("/staf/fasilitas")
@login_required
@role_required(Role.ADMIN)
def admin_facilities() -> str:
    return render_template("catalog/admin_facilities.html",
                           facilities=db.session.scalars(select(Facility).order_by(Facility.name)).all(),
                           categories=db.session.scalars(select(Category).order_by(Category.position)).all(),
                           requirements=list(REQUIREMENTS))


@catalog.post("/staf/fasilitas/<int:facility_id>")
@login_required
@role_required(Role.ADMIN)
def admin_facility(facility_id: int) -> Response:
    facility = db.session.get(Facility, facility_id)
    if facility is None:
        abort(404)
    form = request.form
    name, city = form.get("name", "").strip(), form.get("city", "").strip()
    longest = {"name": column_limit(Facility.name), "city": column_limit(Facility.city)}
    if not name or not city or len(name) > longest["name"] or len(city) > longest["city"]:
        flash(_("Name and city are required: the name at most %(name)d characters, the city at most %(city)d.",
                **longest), "error")
        return redirect(url_for("catalog.admin_facilities"))
    before = snapshot(facility, FACILITY_FIELDS)
    facility.name, facility.city = name, city
    facility.facility_class = form.get("facility_class", "").strip()[:8]
    facility.story_id = form.get("story_id", "").strip()
    facility.story_en = form.get("story_en", "").strip()
    facility.active = form.get("active") == "1"
    after = snapshot(facility, FACILITY_FIELDS)
    if before != after:
        record("facility.update", facility, before, after, actor=current_user)
    db.session.commit()
    flash(_("Saved."), "success")
    return redirect(url_for("catalog.admin_facilities"))


@catalog.post("/staf/kategori/<int:category_id>")
@login_required
@role_required(Role.ADMIN)
def admin_category(category_id: int) -> Response:
    category = db.session.get(Category, category_id)
    if category is None:
        abort(404)
    form = request.form
    limit = column_limit(Category.name_id)
    if not form.get("name_id", "").strip() or max(len(form.get(key, "").strip()) for key in ("name_id", "name_en")) \
            > limit:
        flash(_("The Indonesian name is required; each name has at most %(count)d characters.", count=limit), "error")
        return redirect(url_for("catalog.admin_facilities"))
    before = snapshot(category, CATEGORY_FIELDS)
    category.name_id = form["name_id"].strip()
    category.name_en = form.get("name_en", "").strip()
    category.required_certs = sorted(name for name in form.getlist("required_certs") if name in REQUIREMENTS)
    after = snapshot(category, CATEGORY_FIELDS)
    if before != after:
        record("category.update", category, before, after, actor=current_user)
    db.session.commit()
    flash(_("Saved."), "success")
    return redirect(url_for("catalog.admin_facilities"))
