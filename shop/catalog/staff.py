"""Staff product management: edit names, prices, weight, visibility and photos (facility staff: their own)."""

from __future__ import annotations

import random
import time
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from slugify import slugify
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from shop.accounts import register_staff_link
from shop.accounts.decorators import role_required
from shop.accounts.models import Role, User
from shop.audit.service import record, snapshot
from shop.catalog import catalog, lots
from shop.catalog.images import InvalidImage, make_cover, remove_product_image, save_product_image
from shop.catalog.models import Category, Facility, Product, StockReason
from shop.catalog.stock import change_stock
from shop.extensions import db
from shop.uploads import REJECTIONS, StorageUnavailable
from shop.web import column_limit, whole_number

EDITORS = (Role.ADMIN, Role.FULFILMENT, Role.FACILITY)
FIELDS = ["name_id", "name_en", "description_id", "description_en", "price", "unit_cost", "weight_g", "net_content",
          "length_cm", "width_cm", "height_cm", "needs_crate", "active", "featured"]
SIZES = ("length_cm", "width_cm", "height_cm")  # the packed size, for the couriers' volumetric weight
register_staff_link("catalog.staff_products", _l("Manage products"), *EDITORS)


def product_for_staff(product_id: int) -> Product:
    """The product, if the logged-in staff member may manage it (404 unknown, 403 another facility's)."""
    product = db.session.get(Product, product_id)
    if product is None:
        abort(404)
    if not current_user.can_manage_facility(product.facility_id):
        abort(403)
    return product


class ProductInvalid(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


def field_errors(values: dict[str, Any]) -> dict[str, str]:
    """Every problem of a product's own fields at once (name, prices, weight), by field."""
    errors: dict[str, str] = {}
    if not (values.get("name_id") or "").strip():
        errors["name_id"] = str(_l("This field is required."))
    for key in ("name_id", "name_en", "net_content"):
        limit = column_limit(getattr(Product, key))
        if len((values.get(key) or "").strip()) > limit:
            errors[key] = str(_l("At most %(count)d characters.", count=limit))
    for key, number in _numbers(values).items():
        if number is None or (key == "weight_g" and number == 0):
            errors[key] = str(_l("Enter a whole number (rupiah or grams), like 25000."))
    for key in SIZES:
        size = whole_number(str(values.get(key) or "0").strip() or "0", maximum=500)
        if size is None:
            errors[key] = str(_l("Enter the packed size in whole centimetres, at most 500 (or leave it empty)."))
    return errors


def _numbers(values: dict[str, Any]) -> dict[str, int | None]:
    """Price, weight and unit cost as typed ("Rp35.000" and "14.000" too); a missing unit cost is 0."""
    return {key: whole_number(str(values.get(key, "")).strip() or ("0" if key == "unit_cost" else ""),
                              thousands=True) for key in ("price", "weight_g", "unit_cost")}


def update_product(product: Product, values: dict[str, Any], *, actor: User | None, audit: bool = True) -> Product:
    """Apply an edit; price and every other change are audited with before → after."""
    if actor is not None and not actor.can_manage_facility(product.facility_id):
        raise PermissionError("not this facility's staff")
    errors = field_errors(values)
    if errors:
        raise ProductInvalid(errors)
    numbers = _numbers(values)
    before = snapshot(product, FIELDS)
    product.name_id = (values.get("name_id") or "").strip()
    product.name_en = (values.get("name_en") or "").strip()
    product.description_id = (values.get("description_id") or "").strip()
    product.description_en = (values.get("description_en") or "").strip()
    product.net_content = (values.get("net_content") or "").strip()
    for key in SIZES:
        setattr(product, key, whole_number(str(values.get(key) or "0").strip() or "0", maximum=500) or 0)
    product.price, product.weight_g, product.unit_cost = (numbers["price"] or 0, numbers["weight_g"] or 0,
                                                          numbers["unit_cost"] or 0)
    product.needs_crate = bool(values.get("needs_crate"))
    product.active = bool(values.get("active"))
    product.featured = bool(values.get("featured"))
    after = snapshot(product, FIELDS)
    changed = {k for k in FIELDS if before[k] != after[k]}
    if changed and audit:
        record("product.price" if "price" in changed else "product.update", product,
               {k: before[k] for k in changed}, {k: after[k] for k in changed}, actor=actor)
    db.session.flush()
    return product


def photo_problem(invalid: InvalidImage) -> str:
    return str(REJECTIONS["pixels"]) if invalid.reason == "pixels" else _("Upload a JPEG, PNG or WEBP photo.")


def _slug(name: str) -> str:
    """A free slug for a product name ("Tas Rajut Motif Palu" → "tas-rajut-motif-palu", then "-2", "-3"…).

    Two staff adding the same name at the same moment may both find one slug free: the unique index
    refuses the second, and the view tries again (see staff_new_product)."""
    base = slugify(name, max_length=100, word_boundary=True) or "produk"
    slug, n = base, 1
    while db.session.scalar(select(Product.id).where(Product.slug == slug)) is not None:
        n += 1
        slug = f"{base}-{n}"
    return slug


def create_product(values: dict[str, Any], *, actor: User | None) -> Product:
    """A new product of a facility (facility staff: their own), with its opening stock as a movement."""
    errors: dict[str, str] = {}
    facility = db.session.get(Facility, whole_number(values.get("facility_id")) or 0)
    category = db.session.get(Category, whole_number(values.get("category_id")) or 0)
    if facility is None:
        errors["facility_id"] = str(_l("Choose the facility."))
    elif actor is not None and not actor.can_manage_facility(facility.id):
        raise PermissionError("not this facility's staff")
    if category is None:
        errors["category_id"] = str(_l("Choose the category."))
    stock = whole_number(str(values.get("stock", "0")).strip() or "0", maximum=1_000_000)
    if stock is None:
        errors["stock"] = str(_l("Enter how many pieces are in stock as a whole number, like 12."))
    errors.update(field_errors(values))  # every problem in one round, not one field after another
    if errors:
        raise ProductInvalid(errors)
    assert facility is not None and category is not None  # both checked above
    product = Product(slug="", price=0, weight_g=1, stock=0, active=False)
    product.facility_id, product.category_id = facility.id, category.id
    update_product(product, values, actor=None, audit=False)  # audited below as one creation
    product.slug = _slug(product.name_id)
    db.session.add(product)
    db.session.flush()
    if stock:  # food keeps its stock in lots: the opening stock is its lot AWAL until the real lots come in
        opening = lots.opening_lot(product.id) if category.required_certs else None
        change_stock(product.id, stock, StockReason.OPENING, user_id=getattr(actor, "id", None),
                     note="", lot_id=opening.id if opening else None)  # the reason is said in the reader's language
    record("product.create", product, None, snapshot(product, FIELDS), actor=actor)
    return product


ATTEMPTS = 6  # rounds a new product gets when other writers take its slug or, on SQLite, the database


@catalog.route("/staf/produk/baru", methods=["GET", "POST"])
@login_required
@role_required(*EDITORS)
def staff_new_product() -> str | Response:
    errors: dict[str, str] = {}
    for attempt in range(ATTEMPTS) if request.method == "POST" else ():
        try:
            product = create_product(request.form, actor=current_user)
            photo = request.files.get("photo")
            if photo and photo.filename:  # the photo in the same round: the product and its photo, or neither
                save_product_image(product, photo.read(), alt_id=product.name_id, alt_en=product.name_en,
                                   square=request.form.get("square") == "1")
            db.session.commit()
        except PermissionError:
            abort(403)
        except ProductInvalid as error:
            db.session.rollback()
            errors = error.errors
            break
        except InvalidImage as invalid:
            db.session.rollback()
            errors = {"photo": photo_problem(invalid)}
            break
        except StorageUnavailable:
            db.session.rollback()
            current_app.logger.exception("a product photo could not be stored")
            errors = {"photo": str(REJECTIONS["storage"])}
            break
        except (IntegrityError, OperationalError) as error:
            # The slug was taken by another request in the meantime (the unique index), or, on SQLite, another
            # writer committed while this transaction read ("database is locked" at once: SQLite cannot wait
            # there): the transaction was rolled back whole, so take the next free slug. A short, random wait
            # lets writers that met at once go one after another (CI saw 3 clerks at once lose 3 rounds in a row).
            db.session.rollback()
            if attempt == ATTEMPTS - 1 or (isinstance(error, OperationalError) and "locked" not in str(error.orig)):
                raise
            time.sleep(random.uniform(0, 0.05 * (attempt + 1)))
        else:
            flash(_("Product saved."), "success")
            return redirect(url_for("catalog.staff_product", product_id=product.id))
    facilities = select(Facility).order_by(Facility.name)
    if not current_user.has_role(Role.ADMIN, Role.FULFILMENT):
        facilities = facilities.where(Facility.id == current_user.facility_id)
    values = request.form if request.method == "POST" else {"facility_id": str(current_user.facility_id or "")}
    return render_template("catalog/staff_new_product.html", errors=errors, values=values,
                           facilities=db.session.scalars(facilities).all(),
                           categories=db.session.scalars(select(Category).order_by(Category.position)).all())


@catalog.get("/staf/produk")
@login_required
@role_required(*EDITORS)
def staff_products() -> str:
    query = select(Product).options(selectinload(Product.facility)).order_by(Product.name_id)
    if not current_user.has_role(Role.ADMIN, Role.FULFILMENT):
        query = query.where(Product.facility_id == current_user.facility_id)
    return render_template("catalog/staff_products.html", products=db.session.scalars(query).all())


@catalog.route("/staf/produk/<int:product_id>", methods=["GET", "POST"])
@login_required
@role_required(*EDITORS)
def staff_product(product_id: int) -> str | Response:
    product = product_for_staff(product_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            update_product(product, request.form, actor=current_user)
            photo = request.files.get("photo")
            if photo and photo.filename:
                save_product_image(product, photo.read(), alt_id=product.name_id, alt_en=product.name_en,
                                   square=request.form.get("square") == "1")
        except ProductInvalid as error:
            db.session.rollback()
            errors = error.errors
        except InvalidImage as invalid:
            db.session.rollback()
            errors = {"photo": photo_problem(invalid)}
        except StorageUnavailable:
            db.session.rollback()
            current_app.logger.exception("a product photo could not be stored")
            errors = {"photo": str(REJECTIONS["storage"])}
        else:
            db.session.commit()
            flash(_("Product saved."), "success")
            return redirect(url_for("catalog.staff_product", product_id=product.id))
    values = request.form if request.method == "POST" else {k: getattr(product, k) for k in FIELDS}
    return render_template("catalog/staff_product.html", product=product, values=values, errors=errors)


@catalog.post("/staf/produk/<int:product_id>/foto/<int:image_id>")
@login_required
@role_required(*EDITORS)
def staff_photo(product_id: int, image_id: int) -> Response:
    """Use a photo as the cover, or remove it."""
    product = product_for_staff(product_id)
    image = next((item for item in product.images if item.id == image_id), None)
    if image is None:
        abort(404)
    if request.form.get("action") == "remove":
        remove_product_image(image)
        record("product.photo_removed", product, {"photo": image.filename}, None, actor=current_user)
        flash(_("Photo removed."), "success")
    else:
        make_cover(product, image)
        record("product.cover", product, None, {"photo": image.filename}, actor=current_user)
        flash(_("Cover photo changed."), "success")
    db.session.commit()
    return redirect(url_for("catalog.staff_product", product_id=product.id))
