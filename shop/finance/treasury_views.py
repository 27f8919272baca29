"""The treasurer's month (#29) on screen: a facility's cash book (BKU) and monthly statement with their files and
"sent", the public holidays finance keeps, and what the cooperative owes facilities and makers."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from shop.accounts import register_staff_link
from shop.accounts.decorators import role_required
from shop.catalog.models import Facility
from shop.extensions import db
from shop.finance import cashbook, holidays, onward, paperwork, reports
from shop.finance.deposits import MONTH
from shop.finance.models import HolidayKind, OnwardPart, OnwardTransfer, PublicHoliday
from shop.finance.views import EXPORTS, FINANCE, READERS, _facility, _own_facility, _year
from shop.i18n import rupiah
from shop.ledger import ledger
from shop.timeutil import local_today, today
from shop.uploads import send_private_document
from shop.web import parse_day, positive_int, whole_number

FILES = {**EXPORTS, "pdf": "application/pdf"}
register_staff_link("ledger.onward", _l("Owed to facilities"), *READERS)
register_staff_link("ledger.holidays", _l("Public holidays"), *FINANCE)


def _month(slug: str, month: str) -> Facility:
    facility = _facility(slug)
    if not MONTH.fullmatch(month):
        abort(404)
    return facility


def _file(data: bytes, fmt: str, name: str) -> Response:
    return Response(data, mimetype=FILES[fmt], headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


# -- the cash book and the statement

@ledger.get("/staf/keuangan/pnbp/<slug>/<month>/bku")
@login_required
@role_required(*READERS)
def cash_book(slug: str, month: str) -> str:
    facility = _month(slug, month)
    return render_template("ledger/cash_book.html", facility=facility, month=month,
                           book=cashbook.cash_book(facility, month), first_day=cashbook.month_bounds(month)[0])


@ledger.get("/staf/keuangan/pnbp/<slug>/<month>/bku.<any(xlsx, pdf):fmt>")
@login_required
@role_required(*READERS)
def cash_book_file(slug: str, month: str, fmt: str) -> Response:
    facility = _month(slug, month)
    book = cashbook.cash_book(facility, month)
    data = paperwork.cash_book_pdf(book) if fmt == "pdf" else paperwork.cash_book_table(book).xlsx()
    return _file(data, fmt, f"bku-{facility.slug}-{month}")


@ledger.get("/staf/keuangan/pnbp/<slug>/<month>/laporan")
@login_required
@role_required(*READERS)
def statement(slug: str, month: str) -> str:
    facility = _month(slug, month)
    return render_template("ledger/statement.html", facility=facility, month=month,
                           report=cashbook.statement(facility, month), today=local_today(facility.timezone),
                           errors={})


@ledger.get("/staf/keuangan/pnbp/<slug>/<month>/laporan.<any(xlsx, pdf):fmt>")
@login_required
@role_required(*READERS)
def statement_file(slug: str, month: str, fmt: str) -> Response:
    facility = _month(slug, month)
    report = cashbook.statement(facility, month)
    data = paperwork.statement_pdf(report) if fmt == "pdf" else paperwork.statement_table(report).xlsx()
    return _file(data, fmt, f"laporan-pnbp-{facility.slug}-{month}")


@ledger.post("/staf/keuangan/pnbp/<slug>/<month>/laporan/terkirim")
@login_required
@role_required(*READERS)  # finance, admins, and the facility's own treasurer
def statement_sent(slug: str, month: str) -> Any:
    facility = _month(slug, month)
    sent_on = parse_day(request.form.get("sent_on"))
    try:
        if sent_on is None:
            raise cashbook.StatementRefused(_("Enter the date it was sent."))
        cashbook.mark_sent(facility, month, sent_on, actor=current_user)
        db.session.commit()
    except cashbook.StatementRefused as refused:
        db.session.rollback()
        return render_template("ledger/statement.html", facility=facility, month=month,
                               report=cashbook.statement(facility, month), today=today(),
                               errors={"sent_on": str(refused)}, sent_on=request.form.get("sent_on", "")), 422
    flash(_("The statement of %(month)s is recorded as sent.", month=month), "success")
    return redirect(url_for("ledger.statement", slug=slug, month=month))


# -- public holidays

@ledger.route("/staf/keuangan/libur", methods=["GET", "POST"], endpoint="holidays")
@login_required
@role_required(*FINANCE)
def holidays_page() -> Any:
    year = _year(request.values.get("year")) or today().year
    errors: dict[str, str] = {}
    if request.method == "POST":
        if request.form.get("load") == "1":
            added = holidays.load_known(year, actor=current_user)
            db.session.commit()
            flash(_("%(count)s holidays of %(year)s added.", count=added, year=year) if added else
                  _("No holiday to add: the shop knows no other holidays of %(year)s.", year=year), "success")
            return redirect(url_for("ledger.holidays", year=year))
        kind = request.form.get("kind", "")
        try:
            added_day = holidays.add(parse_day(request.form.get("day")), request.form.get("name", ""),
                                     HolidayKind(kind) if kind in {k.value for k in HolidayKind}
                                     else HolidayKind.NATIONAL, actor=current_user)
            db.session.commit()
            flash(_("%(day)s added.", day=added_day.day.isoformat()), "success")
            return redirect(url_for("ledger.holidays", year=added_day.day.year))
        except holidays.HolidayInvalid as invalid:
            db.session.rollback()
            errors = invalid.errors
    return render_template("ledger/holidays.html", year=year, days=holidays.of_year(year), kinds=list(HolidayKind),
                           errors=errors, values=request.form), 422 if errors else 200


@ledger.post("/staf/keuangan/libur/<int:holiday_id>/hapus")
@login_required
@role_required(*FINANCE)
def remove_holiday(holiday_id: int) -> Response:
    holiday = db.session.get(PublicHoliday, holiday_id) or abort(404)
    year = holiday.day.year
    removed = holidays.remove(holiday, actor=current_user)
    db.session.commit()
    flash(_("Holiday removed.") if removed else _("That day was already removed."), "success")
    return redirect(url_for("ledger.holidays", year=year))


# -- owed onward

def _onward_page(year: int, errors: dict[str, str], values: Any, status: int = 200) -> Any:
    own = _own_facility(positive_int(request.args.get("facility")))
    lines = onward.owed(year, own)
    facilities = db.session.scalars(select(Facility).order_by(Facility.name)).all()
    return render_template("ledger/onward.html", year=year, lines=lines, transfers=onward.transfers(year, own),
                           reversed=onward.reversed_ids(), facilities=facilities, parts=list(OnwardPart),
                           errors=errors, values=values, may_record=current_user.has_role(*FINANCE),
                           today=today()), status


@ledger.get("/staf/keuangan/terutang", endpoint="onward")
@login_required
@role_required(*READERS)
def onward_page() -> Any:
    return _onward_page(_year(request.args.get("year")) or today().year, {}, {})


@ledger.post("/staf/keuangan/terutang")
@login_required
@role_required(*FINANCE)
def record_transfer() -> Any:
    form = request.form
    facility = db.session.get(Facility, positive_int(form.get("facility_id")) or 0)
    part = form.get("part", "")
    upload = request.files.get("receipt")
    try:
        transfer = onward.record_transfer(
            facility, OnwardPart(part) if part in {p.value for p in OnwardPart} else None,
            whole_number(form.get("amount"), maximum=onward.MAX_AMOUNT, thousands=True),
            parse_day(form.get("transferred_on")), form.get("reference", ""),
            upload.read() if upload and upload.filename else None, form.get("note", ""), actor=current_user)
        db.session.commit()
    except onward.TransferInvalid as invalid:
        db.session.rollback()
        return _onward_page(today().year, invalid.errors, form, 422)
    flash(_("Transfer of %(amount)s to %(facility)s recorded.", amount=rupiah(transfer.amount),
            facility=transfer.facility.name), "success")
    return redirect(url_for("ledger.onward", year=transfer.transferred_on.year))


@ledger.post("/staf/keuangan/terutang/<int:transfer_id>/batal")
@login_required
@role_required(*FINANCE)
def reverse_transfer(transfer_id: int) -> Any:
    transfer = db.session.get(OnwardTransfer, transfer_id) or abort(404)
    try:
        onward.reverse_transfer(transfer, request.form.get("reason", ""), actor=current_user)
        db.session.commit()
    except onward.TransferInvalid as invalid:
        db.session.rollback()
        flash(next(iter(invalid.errors.values())), "error")
        return redirect(url_for("ledger.onward", year=transfer.transferred_on.year))
    flash(_("Transfer reversed."), "success")
    return redirect(url_for("ledger.onward", year=transfer.transferred_on.year))


@ledger.get("/staf/keuangan/terutang/<int:transfer_id>/bukti")
@login_required
@role_required(*READERS)
def transfer_receipt(transfer_id: int) -> Response:
    transfer = db.session.get(OnwardTransfer, transfer_id) or abort(404)
    if _own_facility(transfer.facility_id) != transfer.facility_id or not transfer.receipt:
        abort(403 if transfer.receipt else 404)
    return send_private_document(transfer.receipt)


@ledger.get("/staf/keuangan/terutang/ekspor.<any(csv, xlsx):fmt>")
@login_required
@role_required(*READERS)
def onward_export(fmt: str) -> Response:
    year = _year(request.args.get("year")) or today().year
    lines = onward.owed(year, _own_facility(positive_int(request.args.get("facility"))))
    rows = [[line.facility.name, line.part.label, month.month, month.earned, month.transferred, month.owed]
            for line in lines for month in line.months]
    table = reports.Table(f"Terutang {year}", ["UPT", "Bagian", "Bulan", "Diperoleh", "Ditransfer", "Masih terutang"],
                          rows, money={3, 4}, total_rows=[["Jumlah", "", "", sum(r[3] for r in rows),
                                                           sum(r[4] for r in rows), sum(line.owed for line in lines)]])
    return _file(table.render(fmt), fmt, f"terutang-{year}")
