"""The finance desk for PNBP: reconciliation per facility and month, deposits, closing months, the yearly
summary and its exports; and the public impact page."""

from __future__ import annotations

import re
from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from shop.accounts import register_staff_link
from shop.accounts.decorators import role_required
from shop.accounts.models import Role
from shop.catalog.models import DepositRegime, Facility, Region
from shop.extensions import db
from shop.finance import deposits, reconciliation, reports
from shop.finance.models import PnbpDeposit
from shop.i18n import current_language
from shop.ledger import ledger
from shop.ledger.queries import LedgerFilter
from shop.timeutil import today
from shop.uploads import REJECTIONS, send_private_document
from shop.web import commit_or_refuse, non_negative_int, parse_day, positive_int, problem, safe_next

FINANCE = (Role.ADMIN, Role.FINANCE)
READERS = (Role.ADMIN, Role.FINANCE, Role.FACILITY)  # facility staff: their own facility, read-only
register_staff_link("ledger.reconciliation", _l("PNBP reconciliation"), *READERS)
register_staff_link("ledger.deposits_page", _l("PNBP deposits"), *READERS)
register_staff_link("ledger.summary", _l("Yearly summary"), *READERS)

DEPOSIT_PROBLEMS = {
    "required": _l("This field is required."),
    "month": _l("Choose the accounting month as YYYY-MM."),
    "month_amount": _l("Enter the amount for each month as a whole number of rupiah above zero."),
    "future_month": _l("A deposit cannot pay a month that has not begun."),
    "closed_month": _l("That month is closed: an admin must reopen it before its deposits change."),
    "amount": _l("Enter the amount on the receipt as a whole number of rupiah above zero."),
    "sum": _l("The amounts per month must add up to the amount on the receipt."),
    "billing_code": _l("The billing code (kode billing) is exactly 15 digits."),
    "date": _l("Enter a date."),
    "expired": _l("The billing code had expired before the deposit date: check both dates."),
    "ntpn": _l("The NTPN is exactly 16 letters and digits."),
    "ntpn_taken": _l("A deposit with this NTPN is already recorded."),
    "ntb": _l("Enter the NTB from the bank's receipt (letters and digits, at most 32)."),
    "too_long": _l("At most 80 characters."),
    "future": _l("The deposit date cannot be in the future."),
    "before_month": _l("The deposit date is before the first month it pays."),
    "too_old": _l("That date is too long ago to be right: check the year."),
    "repeated_month": _l("Each month once: put a month's whole amount on one line."),
    "nothing_owed": _l("Nothing is owed for that facility and month: check you chose the right facility and month. "
                       "To record it anyway (an over-deposit, reclaimed from the treasury later), tick the box "
                       "below the months."),
    **REJECTIONS,
    "empty": _l("Attach the scanned receipt (PDF, JPEG or PNG); choose it again after an error."),
}
PERIOD_PROBLEMS = {
    "not_ended": _l("A month can be closed only after it has ended."),
    "already_closed": _l("This month is already closed."),
    "not_balanced": _l("This month does not balance: deposit what is outstanding (or reverse what is over) first."),
    "admin_only": _l("Only an admin may reopen a closed month."),
    "reason": _l("Give the reason."),
    "not_closed": _l("This month is not closed."),
    "is_reversal": _l("A reversing deposit cannot itself be reversed."),
    "already_reversed": _l("This deposit was already reversed."),
    "closed_month": _l("That month is closed: an admin must reopen it before its deposits change."),
    "period_days": _l("The deposit period is 1 to 31 days."),
}
ENTRIES_PER_PAGE = 100  # ledger entries on a month's page
EXPORTS = {"csv": "text/csv",  # Werkzeug adds "; charset=utf-8" to text types itself
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _own_facility(requested: int | None) -> int | None:
    """Facility staff see only their own facility, whatever they ask for."""
    if not current_user.has_role(*FINANCE):
        return current_user.facility_id or -1
    return requested


def _facility(slug: str) -> Facility:
    facility = db.session.scalar(select(Facility).where(Facility.slug == slug))
    if facility is None:
        abort(404)
    if _own_facility(facility.id) != facility.id:
        abort(403)
    return facility


def _year(value: str | None) -> int | None:
    year = positive_int(value)
    return year if year and 2000 <= year <= 2100 else None


def _filters() -> reconciliation.Filters:
    return reconciliation.Filters(facility_id=_own_facility(positive_int(request.args.get("facility"))),
                                  year=_year(request.args.get("year")))


def _facilities() -> list[Facility]:
    own = _own_facility(None)
    query = select(Facility).order_by(Facility.name)
    return list(db.session.scalars(query.where(Facility.id == own) if own else query))


def _download(table: reports.Table, fmt: str, name: str) -> Response:
    return Response(table.render(fmt), mimetype=EXPORTS[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


# -- reconciliation

@ledger.get("/staf/keuangan/pnbp", endpoint="reconciliation")
@login_required
@role_required(*READERS)
def reconciliation_overview() -> str:
    filters = _filters()
    rows = reconciliation.overview(filters)
    state = request.args.get("state")
    if state in {s.value for s in reconciliation.MonthState}:
        rows = [row for row in rows if row.state.value == state]
    return render_template("ledger/reconciliation.html", rows=rows, filters=filters, state=state,
                           totals=reconciliation.totals(rows), states=list(reconciliation.MonthState),
                           facilities=_facilities(), today=today())


@ledger.get("/staf/keuangan/buku-besar/ekspor.<any(csv, xlsx):fmt>")
@login_required
@role_required(*FINANCE)
def ledger_export(fmt: str) -> Response:
    """The ledger browser's entries, as filtered on the screen."""
    filters = LedgerFilter.from_args(request.args)
    return _download(reports.ledger_table(filters), fmt, f"buku-besar{'-' + filters.month if filters.month else ''}")


@ledger.get("/staf/keuangan/pnbp/ekspor.<any(csv, xlsx):fmt>")
@login_required
@role_required(*READERS)
def reconciliation_export(fmt: str) -> Response:
    filters = _filters()
    return _download(reports.reconciliation_table(reconciliation.overview(filters)), fmt,
                     f"rekonsiliasi-pnbp{'-' + str(filters.year) if filters.year else ''}")


@ledger.get("/staf/keuangan/pnbp/<slug>/<month>")
@login_required
@role_required(*READERS)
def reconciliation_month(slug: str, month: str) -> str:
    facility = _facility(slug)
    if not deposits.MONTH.fullmatch(month):
        abort(404)
    page = db.paginate(reconciliation.month_entries(facility.id, month), page=positive_int(request.args.get("page"), 1),
                       per_page=ENTRIES_PER_PAGE, error_out=False)
    row = reconciliation.month_detail(facility, month)
    return render_template("ledger/reconciliation_month.html", facility=facility, row=row, page=page,
                           carried_out=reconciliation.carried_out(facility.id, month),
                           deposits=reconciliation.month_deposits(facility.id, month),
                           history=reconciliation.period_history(facility.id, month),
                           due={day: row.due(day) for day in row.days},
                           may_change=current_user.has_role(*FINANCE), regimes=list(DepositRegime))


@ledger.post("/staf/keuangan/pnbp/<slug>/<month>/tutup")
@login_required
@role_required(*FINANCE)
def close_month(slug: str, month: str) -> Response:
    facility = _facility(slug)
    commit_or_refuse(lambda: deposits.close_month(facility, month, actor=current_user),
                     {deposits.PeriodError: problem(PERIOD_PROBLEMS)},
                     _("%(month)s closed for %(facility)s. Later refunds of its sales are booked in the next open "
                       "month.", month=month, facility=facility.name))
    return redirect(url_for("ledger.reconciliation_month", slug=slug, month=month))


@ledger.post("/staf/keuangan/pnbp/<slug>/<month>/buka")
@login_required
@role_required(Role.ADMIN)
def reopen_month(slug: str, month: str) -> Response:
    facility = _facility(slug)
    commit_or_refuse(lambda: deposits.reopen_month(facility, month, request.form.get("reason", "")[:500],
                                                   actor=current_user),
                     {deposits.PeriodError: problem(PERIOD_PROBLEMS)},
                     _("%(month)s reopened for %(facility)s.", month=month, facility=facility.name))
    return redirect(url_for("ledger.reconciliation_month", slug=slug, month=month))


@ledger.post("/staf/keuangan/pnbp/<slug>/rezim")
@login_required
@role_required(*FINANCE)
def deposit_regime(slug: str) -> Response:
    facility = _facility(slug)
    regime = request.form.get("regime", "")

    def save() -> None:
        if regime not in {r.value for r in DepositRegime}:
            raise deposits.PeriodError("period_days")
        deposits.set_deposit_regime(facility, DepositRegime(regime), positive_int(request.form.get("days"), 0) or 0,
                                    actor=current_user)

    commit_or_refuse(save, {deposits.PeriodError: problem(PERIOD_PROBLEMS)}, _("Deposit regime saved."))
    return redirect(safe_next(request.form.get("back"), url_for("ledger.reconciliation")))


# -- deposits

@ledger.route("/staf/keuangan/setoran", methods=["GET", "POST"])
@login_required
@role_required(*READERS)
def deposits_page() -> str | Response | tuple[str, int]:
    errors: dict[str, str] = {}
    if request.method == "POST":
        if not current_user.has_role(*FINANCE):
            abort(403)
        upload = request.files.get("receipt")
        try:
            deposit = deposits.record_deposit(_deposit_input(request.form), upload.read() if upload else None,
                                              actor=current_user)
        except deposits.DepositInvalid as invalid:
            db.session.rollback()
            errors = {name: str(DEPOSIT_PROBLEMS[problem]) for name, problem in invalid.problems.items()}
        else:
            db.session.commit()
            flash(_("Deposit %(ntpn)s recorded.", ntpn=deposit.ntpn), "success")
            month = deposit.months[0].month
            return redirect(url_for("ledger.reconciliation_month", slug=deposit.facility.slug, month=month))
    filters = _filters()
    values = request.form if request.method == "POST" else _prefill()
    return render_template("ledger/deposits.html", deposits=reconciliation.deposits(filters.facility_id, filters.year),
                           reversed=reconciliation.reversed_ids(), filters=filters, errors=errors, values=values,
                           facilities=_facilities(), may_change=current_user.has_role(*FINANCE),
                           today=today()), 400 if errors else 200


def _prefill() -> dict[str, str]:
    """From a month's reconciliation: its facility, month and what is outstanding."""
    args = request.args
    return {"facility_id": args.get("facility", ""), "month_1": args.get("month", ""),
            "amount_1": args.get("amount", ""), "amount": args.get("amount", "")}


def _deposit_input(form: dict[str, str]) -> deposits.DepositInput:
    months: dict[str, int | None] = {}
    repeated = []
    for index in (1, 2, 3):
        month = form.get(f"month_{index}", "").strip()
        if month in months:
            repeated.append(month)
        elif month:
            months[month] = non_negative_int(form.get(f"amount_{index}"))
    return deposits.DepositInput(
        facility_id=positive_int(form.get("facility_id")), amount=non_negative_int(form.get("amount")), months=months,
        billing_code=re.sub(r"\s", "", form.get("billing_code", "")),
        billing_expires_on=_date(form.get("billing_expires_on")),
        ntpn=re.sub(r"\s", "", form.get("ntpn", "")).upper(), ntb=form.get("ntb", "").strip(),
        deposited_on=_date(form.get("deposited_on")), bank=form.get("bank", "")[:200], note=form.get("note", "")[:500],
        repeated_months=tuple(repeated), nothing_owed_confirmed=form.get("nothing_owed") == "1")


def _date(value: str | None) -> date | None:
    """A date as typed, from year 1000 on (a year like 1900 is then refused by name, not as "not a date")."""
    day = parse_day(value)
    if day is None:
        try:
            typed = date.fromisoformat((value or "").strip())
        except ValueError:
            return None
        return typed if 1000 <= typed.year < 2000 else None  # refused as "too long ago" by check_deposit
    return day


@ledger.post("/staf/keuangan/setoran/<int:deposit_id>/batalkan")
@login_required
@role_required(*FINANCE)
def reverse_deposit(deposit_id: int) -> Response:
    deposit = db.get_or_404(PnbpDeposit, deposit_id)
    commit_or_refuse(lambda: deposits.reverse_deposit(deposit, request.form.get("reason", "")[:500],
                                                      actor=current_user),
                     {deposits.PeriodError: problem(PERIOD_PROBLEMS)},
                     _("Deposit reversed. The months it paid show the amount as outstanding again."))
    return redirect(url_for("ledger.deposits_page"))


@ledger.get("/staf/keuangan/setoran/<int:deposit_id>/bukti")
@login_required
@role_required(*READERS)
def deposit_receipt(deposit_id: int) -> Response:
    deposit = db.get_or_404(PnbpDeposit, deposit_id)
    if _own_facility(deposit.facility_id) != deposit.facility_id:
        abort(403)
    if not deposit.receipt:
        abort(404)
    return send_private_document(deposit.receipt)


@ledger.get("/staf/keuangan/setoran/ekspor.<any(csv, xlsx):fmt>")
@login_required
@role_required(*READERS)
def deposits_export(fmt: str) -> Response:
    filters = _filters()
    return _download(reports.deposits_table(reconciliation.deposits(filters.facility_id, filters.year)), fmt,
                     f"setoran-pnbp{'-' + str(filters.year) if filters.year else ''}")


# -- the yearly summary

@ledger.get("/staf/keuangan/ringkasan")
@login_required
@role_required(*READERS)
def summary() -> str:
    year = _year(request.args.get("year")) or today().year
    report = reports.summary(year, _own_facility(positive_int(request.args.get("facility"))),
                             positive_int(request.args.get("region")))
    return render_template("ledger/summary.html", report=report, chart=report.chart(), year=year,
                           region_id=positive_int(request.args.get("region")),
                           regions=db.session.scalars(select(Region).order_by(Region.name)).all(),
                           parts=reports.shown_parts(report))


@ledger.get("/staf/keuangan/ringkasan/ekspor.<any(csv, xlsx):fmt>")
@login_required
@role_required(*READERS)
def summary_export(fmt: str) -> Response:
    year = _year(request.args.get("year")) or today().year
    report = reports.summary(year, _own_facility(positive_int(request.args.get("facility"))),
                             positive_int(request.args.get("region")))
    return _download(reports.summary_table(report), fmt, f"ringkasan-pnbp-{year}")


# -- the public impact page

@ledger.get("/dampak")
@ledger.get("/impact")
def impact() -> Response | str:
    """One page, two addresses: /dampak in Indonesian, /impact in English (the language switch moves between)."""
    wanted = "/impact" if current_language() == "en" else "/dampak"
    if request.path != wanted:
        return redirect(wanted)
    return render_template("ledger/impact.html", impact=reports.impact())
