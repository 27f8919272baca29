"""Finance screens (the ledger by facility, month and part; split rules with their history) and the public
"where your money goes" page."""

from __future__ import annotations

import re

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
from shop.catalog.models import Category, Facility, Product
from shop.extensions import db
from shop.i18n import format_day
from shop.ledger import ledger, queries, service
from shop.ledger.models import SHARES, Part, SplitBase, SplitRule
from shop.orders.models import Order
from shop.timeutil import today
from shop.web import commit_or_refuse, parse_day, positive_int, problem

FINANCE = (Role.ADMIN, Role.FINANCE)
register_staff_link("ledger.entries", _l("Ledger"), *FINANCE)
register_staff_link("ledger.rules", _l("Split rules"), *FINANCE)

RULE_PROBLEMS = {
    "nothing": _l("This order has no money waiting for a rule."),
    "unknown": _l("There is no such sale."),
    "no_rule": _l("Still no split rule is in force for this order's products: add one first."),
    "shares": _l("Enter every share as a percentage from 0 to 100, with at most two decimals."),
    "sum": _l("The shares must add up to exactly 100 %."),
    "same_day": _l("This scope already has a rule from that date: choose another date."),
    "used": _l("Sales were booked with this rule: it stays. Add a new rule from a later date instead."),
    "date": _l("Enter the date from which the rule applies."),
    "scope": _l("Choose the facility and the category from the lists."),
    "past": _l("Sales were already booked on or after that date, and they keep the rule they were booked with: "
               "start the new rule today or later. Money booked without a rule is shared from “Money waiting for a "
               "rule” on this page."),
}


@ledger.get("/staf/keuangan/buku-besar")
@login_required
@role_required(*FINANCE)
def entries() -> str:
    filters = queries.LedgerFilter.from_args(request.args)
    page = db.paginate(queries.entries(filters), page=positive_int(request.args.get("page"), 1), per_page=100,
                       error_out=False)
    facilities = db.session.scalars(select(Facility).order_by(Facility.name)).all()
    zones = {facility.id: facility.timezone for facility in facilities}  # each entry in its facility's time zone
    return render_template("ledger/entries.html", page=page, filters=filters, totals=queries.totals(filters),
                           months=queries.months(), parts=list(Part), zones=zones,
                           facilities=facilities)


@ledger.route("/staf/keuangan/aturan", methods=["GET", "POST"])
@login_required
@role_required(*FINANCE)
def rules() -> str | Response:
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            rule = service.create_rule(_rule_input(request.form), actor=current_user)
        except service.RuleError as error:
            db.session.rollback()
            errors["rule"] = str(RULE_PROBLEMS[str(error)])
        else:
            db.session.commit()
            flash(_("Split rule saved. Sales paid from %(day)s on are shared by it, and product pages show it from "
                    "that day; sales booked before keep the rule they were booked with.",
                    day=format_day(rule.effective_from)), "success")
            return redirect(url_for("ledger.rules"))
    product = db.session.get(Product, positive_int(request.args.get("product")) or 0)
    all_rules = db.session.scalars(select(SplitRule).options(selectinload(SplitRule.facility),
                                                             selectinload(SplitRule.category))
                                   .order_by(SplitRule.facility_id.is_not(None), SplitRule.facility_id,
                                             SplitRule.category_id.is_not(None), SplitRule.category_id,
                                             SplitRule.effective_from.desc(), SplitRule.id.desc())).all()
    used = service.used_rule_ids()
    return render_template("ledger/rules.html", rules=all_rules, used=used, errors=errors, values=request.form,
                           unallocated=service.unallocated_orders(),
                           shares=SHARES, bases=list(SplitBase), explained=product and service.preview_product(product),
                           product=product, today=today(),
                           facilities=db.session.scalars(select(Facility).order_by(Facility.name)).all(),
                           categories=db.session.scalars(select(Category).order_by(Category.position)).all(),
                           products=db.session.scalars(select(Product).order_by(Product.name_id)).all())


def _rule_input(form: dict[str, str]) -> service.RuleInput:
    since = parse_day(form.get("effective_from"))
    if since is None:
        raise service.RuleError("date")
    shares = {part: _basis_points(form.get(part.value)) for part in SHARES}
    if any(value is None for value in shares.values()):
        raise service.RuleError("shares")
    base = form.get("base", SplitBase.GROSS.value)
    return service.RuleInput(effective_from=since, shares={p: v for p, v in shares.items() if v is not None},
                             base=SplitBase(base) if base in {b.value for b in SplitBase} else SplitBase.GROSS,
                             facility_id=positive_int(form.get("facility_id")),
                             category_id=positive_int(form.get("category_id")), note=form.get("note", "")[:500])


def _basis_points(value: str | None) -> int | None:
    """A percentage as typed ("15", "12,5", "33.33") in basis points, or None when it is not one."""
    text = (value or "").strip().replace(",", ".")
    match = re.fullmatch(r"(\d{1,3})(?:\.(\d{1,2}))?", text)
    if not match:
        return None
    points = int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))
    return points if points <= 10_000 else None


@ledger.post("/staf/keuangan/aturan/<int:rule_id>/hapus")
@login_required
@role_required(*FINANCE)
def delete_rule(rule_id: int) -> Response:
    rule = db.session.get(SplitRule, rule_id)
    if rule is None:
        abort(404)
    commit_or_refuse(lambda: service.delete_rule(rule, actor=current_user),
                     {service.RuleError: problem(RULE_PROBLEMS)}, _("Split rule removed."))
    return redirect(url_for("ledger.rules"))


@ledger.post("/staf/keuangan/alokasi/<number>")
@login_required
@role_required(*FINANCE)
def allocate(number: str) -> Response:
    if number.startswith("PJ-"):  # a direct sale (#28)
        work = lambda: service.allocate_direct_sale(number, actor=current_user)  # noqa: E731
    else:
        order = db.session.scalar(select(Order).where(Order.number == number))
        if order is None:
            abort(404)
        work = lambda: service.allocate_order(order, actor=current_user)  # noqa: E731
    commit_or_refuse(work,
                     {service.RuleError: problem(RULE_PROBLEMS)},
                     _("The money of %(number)s is now shared by the rule in force.", number=number))
    return redirect(url_for("ledger.rules"))


@ledger.get("/ke-mana-uang-anda")
def where_money_goes() -> str:
    """The public page: what each part of a sale is, and the shares in force today."""
    rule = db.session.scalars(select(SplitRule).where(SplitRule.facility_id.is_(None),
                                                      SplitRule.category_id.is_(None),
                                                      SplitRule.effective_from <= today())
                              .order_by(SplitRule.effective_from.desc(), SplitRule.id.desc()).limit(1)).first()
    return render_template("ledger/where_money_goes.html", rule=rule, shares=SHARES)
