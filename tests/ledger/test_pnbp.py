"""The PNBP desk's rules: deposits and their validation, reversing deposits, reconciliation per facility and
month (accrued, deposited, outstanding, overdue by regime, report due by the 10th), closing and reopening a
month, and a late refund carried over past a closed month."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from shop.audit.models import AuditEntry
from shop.catalog.models import DepositRegime, Facility
from shop.extensions import db
from shop.finance import deposits, reconciliation
from shop.finance.deposits import DepositInput, DepositInvalid, PeriodError
from shop.finance.models import PnbpDeposit
from shop.ledger.models import LedgerEntry, Part, PeriodClose
from shop.payments import service as payments
from tests import factories as f
from tests.helpers import at_once, logged_in, text_of
from tests.ledger.factories import paid, rule

PDF = f.PDF
OCTOBER_SALE = datetime(2026, 10, 14, 3, 0, tzinfo=UTC)  # Wednesday 14 October, 11:00 in Palu


def at(app, moment: datetime) -> None:
    app.config["FROZEN_NOW"] = moment


def october_sale(app, price: int = 100_000, quantity: int = 1):
    """A facility with one sale paid in October 2026: PNBP 15 % of the price."""
    rule()
    palu = f.facility(name="Lapas Perempuan Kelas III Palu", slug="lapas-perempuan-palu")
    bag = f.product(facility=palu, price=price, stock=50)
    at(app, OCTOBER_SALE)
    order, payment = paid({bag: quantity})
    return palu, order, payment


def deposit_input(facility, **changes) -> DepositInput:
    values = dict(facility_id=facility.id, amount=15_000, months={"2026-10": 15_000}, billing_code="820261015000123",
                  billing_expires_on=date(2026, 11, 6), ntpn="0A1B2C3D4E5F6G7H", ntb="BRI000123456",
                  deposited_on=date(2026, 11, 3), bank="BRI Unit Palu")
    values.update(changes)
    return DepositInput(**values)


def record(facility, **changes) -> PnbpDeposit:
    deposit = deposits.record_deposit(deposit_input(facility, **changes), PDF, actor=None)
    db.session.commit()
    return deposit


def row(facility, month: str) -> reconciliation.MonthRow:
    return reconciliation.month_detail(facility, month)


def test_a_deposit_balances_the_month_whose_pnbp_it_pays(app):
    palu, order, _ = october_sale(app)
    at(app, datetime(2026, 11, 3, 2, 0, tzinfo=UTC))

    before = row(palu, "2026-10")
    assert (before.accrued, before.deposited, before.outstanding) == (15_000, 0, 15_000)
    assert before.state is reconciliation.MonthState.OUTSTANDING
    deposit = record(palu)

    after = row(palu, "2026-10")
    assert (after.accrued, after.deposited, after.outstanding, after.overdue) == (15_000, 15_000, 0, 0)
    assert after.state is reconciliation.MonthState.BALANCED
    assert deposit.receipt and deposit.receipt.startswith("pnbp/")
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.target_type == "PnbpDeposit")) == \
        "pnbp_deposit.record"


def test_one_deposit_may_pay_several_months_and_a_month_take_several_deposits(app):
    palu, _, _ = october_sale(app)
    at(app, datetime(2026, 11, 20, 2, 0, tzinfo=UTC))
    bag = f.product(facility=palu, price=40_000)
    paid({bag: 1})  # November: PNBP 6,000
    at(app, datetime(2026, 12, 2, 2, 0, tzinfo=UTC))

    record(palu, amount=10_000, months={"2026-10": 10_000}, ntpn="AAAAAAAAAAAAAAA1", deposited_on=date(2026, 11, 25),
           billing_expires_on=date(2026, 11, 27))
    record(palu, amount=11_000, months={"2026-10": 5_000, "2026-11": 6_000}, ntpn="AAAAAAAAAAAAAAA2",
           deposited_on=date(2026, 12, 1), billing_expires_on=date(2026, 12, 3))

    assert (row(palu, "2026-10").deposited, row(palu, "2026-10").state.value) == (15_000, "balanced")
    assert (row(palu, "2026-11").deposited, row(palu, "2026-11").state.value) == (6_000, "balanced")


@pytest.mark.parametrize(("changes", "field", "problem"), [
    ({"facility_id": None}, "facility_id", "required"),
    ({"amount": None}, "amount", "amount"),
    ({"amount": 16_000}, "amount", "sum"),
    ({"months": {}}, "months", "required"),
    ({"months": {"2026-13": 15_000}}, "months", "month"),
    ({"months": {"2026-10": 0}}, "months", "month_amount"),
    ({"months": {"2026-12": 15_000}}, "months", "future_month"),
    ({"billing_code": "82026101500012"}, "billing_code", "billing_code"),  # 14 digits
    ({"billing_code": "82026101500012A"}, "billing_code", "billing_code"),
    ({"billing_expires_on": None}, "billing_expires_on", "date"),
    ({"billing_expires_on": date(2026, 11, 2)}, "billing_expires_on", "expired"),
    ({"ntpn": "0A1B2C3D4E5F6G7"}, "ntpn", "ntpn"),  # 15 characters
    ({"ntpn": "0A1B2C3D4E5F6G7-"}, "ntpn", "ntpn"),
    ({"ntb": ""}, "ntb", "ntb"),
    ({"bank": "  "}, "bank", "required"),
    ({"bank": "B" * 81}, "bank", "too_long"),
    ({"deposited_on": None}, "deposited_on", "date"),
    ({"deposited_on": date(2026, 11, 4)}, "deposited_on", "future"),
    ({"deposited_on": date(2026, 9, 30)}, "deposited_on", "before_month"),
])
def test_every_field_of_a_deposit_is_checked(app, changes, field, problem):
    palu, _, _ = october_sale(app)
    at(app, datetime(2026, 11, 3, 2, 0, tzinfo=UTC))

    with pytest.raises(DepositInvalid) as refused:
        deposits.record_deposit(deposit_input(palu, **changes), PDF, actor=None)

    assert refused.value.problems.get(field) == problem
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(PnbpDeposit)) == 0


@pytest.mark.parametrize(("receipt", "problem"), [(None, "empty"), (b"", "empty"), (b"GIF89a...", "type")])
def test_the_scanned_receipt_must_be_a_pdf_or_an_image(app, receipt, problem):
    palu, _, _ = october_sale(app)
    at(app, datetime(2026, 11, 3, 2, 0, tzinfo=UTC))

    with pytest.raises(DepositInvalid) as refused:
        deposits.record_deposit(deposit_input(palu), receipt, actor=None)
    assert refused.value.problems == {"receipt": problem}


def test_an_ntpn_is_recorded_once_even_when_two_people_record_it_at_once(app):
    palu, _, _ = october_sale(app)
    at(app, datetime(2026, 11, 3, 2, 0, tzinfo=UTC))
    record(palu, amount=5_000, months={"2026-10": 5_000})
    with pytest.raises(DepositInvalid) as refused:
        deposits.record_deposit(deposit_input(palu, amount=5_000, months={"2026-10": 5_000}), PDF, actor=None)
    assert refused.value.problems == {"ntpn": "ntpn_taken"}
    db.session.rollback()
    facility = SimpleNamespace(id=palu.id)  # the threads must not touch this test's session

    def second(ntpn_owner: str):
        def call():
            with app.app_context():
                app.config["FROZEN_NOW"] = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
                try:
                    deposits.record_deposit(deposit_input(facility, amount=5_000, months={"2026-10": 5_000},
                                                          ntpn="ZZZZZZZZZZZZZZZ9", note=ntpn_owner), PDF, actor=None)
                    db.session.commit()
                    return "recorded"
                except DepositInvalid as invalid:
                    db.session.rollback()
                    return invalid.problems
                finally:
                    db.session.remove()
        return call

    outcomes = at_once(second("a"), second("b"))
    assert sorted(map(str, outcomes)) == sorted(["recorded", str({"ntpn": "ntpn_taken"})])
    assert row(palu, "2026-10").deposited == 10_000


def test_a_deposit_is_corrected_by_a_reversing_deposit_with_a_reason(app):
    palu, _, _ = october_sale(app)
    at(app, datetime(2026, 11, 3, 2, 0, tzinfo=UTC))
    wrong = record(palu)

    with pytest.raises(PeriodError, match="reason"):
        deposits.reverse_deposit(wrong, "  ", actor=None)
    reversal = deposits.reverse_deposit(wrong, "nominal salah ketik", actor=None)
    db.session.commit()

    assert (reversal.amount, reversal.reverses_id, reversal.ntpn) == (-15_000, wrong.id, None)
    assert [(m.month, m.amount) for m in reversal.months] == [("2026-10", -15_000)]
    assert row(palu, "2026-10").deposited == 0 and row(palu, "2026-10").outstanding == 15_000
    for again in (wrong, reversal):
        with pytest.raises(PeriodError):
            deposits.reverse_deposit(again, "lagi", actor=None)
    db.session.rollback()
    assert db.session.scalar(select(AuditEntry.note).where(AuditEntry.action == "pnbp_deposit.reverse")) == \
        "nominal salah ketik"
    # The corrected deposit is recorded again with the treasury's own NTPN: the reversed record no longer holds it.
    corrected = record(palu)
    assert corrected.ntpn == wrong.ntpn and corrected.ntpn_use == 2
    assert row(palu, "2026-10").state is reconciliation.MonthState.BALANCED
    with pytest.raises(DepositInvalid) as refused:  # while the corrected one stands, the NTPN is taken
        deposits.record_deposit(deposit_input(palu), PDF, actor=None)
    assert refused.value.problems["ntpn"] == "ntpn_taken"


def test_a_month_closes_only_after_it_ends_and_once_it_balances(app):
    palu, _, _ = october_sale(app)
    at(app, datetime(2026, 10, 30, 2, 0, tzinfo=UTC))
    with pytest.raises(PeriodError, match="not_ended"):
        deposits.close_month(palu, "2026-10", actor=None)
    at(app, datetime(2026, 11, 3, 2, 0, tzinfo=UTC))
    with pytest.raises(PeriodError, match="not_balanced"):
        deposits.close_month(palu, "2026-10", actor=None)
    record(palu, amount=20_000, months={"2026-10": 20_000})
    with pytest.raises(PeriodError, match="not_balanced"):  # over-deposited does not balance either
        deposits.close_month(palu, "2026-10", actor=None)
    deposits.reverse_deposit(db.session.scalars(select(PnbpDeposit)).one(), "salah nominal", actor=None)
    record(palu, ntpn="0A1B2C3D4E5F6G7J")

    deposits.close_month(palu, "2026-10", actor=None)
    db.session.commit()

    assert row(palu, "2026-10").state is reconciliation.MonthState.CLOSED
    with pytest.raises(PeriodError, match="already_closed"):
        deposits.close_month(palu, "2026-10", actor=None)
    with pytest.raises(DepositInvalid) as refused:  # nothing more is deposited into a closed month
        deposits.record_deposit(deposit_input(palu, ntpn="QQQQQQQQQQQQQQQ1"), PDF, actor=None)
    assert refused.value.problems == {"months": "closed_month"}


def test_verify_compares_each_closed_months_snapshot_with_the_live_ledger(app):
    """#21.21: an entry slipped into a closed month behind the shop's back (an INSERT the guard allows) shows."""
    from shop.ledger.queries import verify

    palu, _, _ = october_sale(app)
    at(app, datetime(2026, 11, 3, 2, 0, tzinfo=UTC))
    record(palu)
    deposits.close_month(palu, "2026-10", actor=None)
    db.session.commit()
    assert verify() == []

    table = LedgerEntry.__table__
    row = db.session.execute(select(table).where(table.c.part == Part.PNBP.value)).mappings().first()
    db.session.execute(table.insert().values({**{k: v for k, v in row.items() if k != "id"},
                                              "set_key": "sneaked", "amount": 1}))
    db.session.commit()

    assert [(b.order_number, b.problem) for b in verify()][-1] == (
        f"{palu.slug} 2026-10", "closed with PNBP 15000, its entries now sum to 15001")


def test_a_late_refund_of_a_closed_months_sale_is_carried_into_the_next_open_month(app):
    palu, order, payment = october_sale(app)
    at(app, datetime(2026, 11, 3, 2, 0, tzinfo=UTC))
    record(palu)
    deposits.close_month(palu, "2026-10", actor=None)
    db.session.commit()

    at(app, datetime(2026, 11, 12, 2, 0, tzinfo=UTC))
    payments.refund(payment, amount=order.total, reason="barang rusak", key="r1", actor=None,
                    transfer_reference="BRI 77")
    db.session.commit()

    october, november = row(palu, "2026-10"), row(palu, "2026-11")
    assert (october.accrued, october.state.value) == (15_000, "closed")  # the closed month did not move
    assert (november.accrued, november.carried_in) == (-15_000, -15_000)
    # #21.3: October's PNBP was deposited, so it is reclaimed from the treasury, not "owed −15.000" in November
    assert (november.reclaim, november.outstanding, november.over_deposit) == (15_000, 0, 0)
    assert november.state is reconciliation.MonthState.OPEN
    carried = reconciliation.carried_out(palu.id, "2026-10")
    assert [(e.month, e.origin_month, e.amount) for e in carried] == [("2026-11", "2026-10", -15_000)]
    refund_pnbp = db.session.scalars(select(LedgerEntry).where(LedgerEntry.part == Part.PNBP,
                                                               LedgerEntry.amount < 0)).one()
    assert refund_pnbp.day == date(2026, 11, 12)
    # Every part of the refund was carried, not only PNBP: nothing of it was written into October.
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry).where(
        LedgerEntry.month == "2026-10", LedgerEntry.amount < 0, LedgerEntry.refund_id.is_not(None))) == 0

    at(app, datetime(2026, 12, 3, 2, 0, tzinfo=UTC))  # November ended: balanced, and it closes, owing nothing
    assert row(palu, "2026-11").state is reconciliation.MonthState.BALANCED
    deposits.close_month(palu, "2026-11", actor=None)
    db.session.commit()
    page = text_of(logged_in(app, "finance").get("/staf/keuangan/pnbp/lapas-perempuan-palu/2026-11"))
    assert "Diminta kembali ke kas negara: Rp15.000" in page and "lebih setor" not in page


def test_only_an_admin_reopens_a_closed_month_and_says_why(app):
    palu, _, _ = october_sale(app)
    at(app, datetime(2026, 11, 3, 2, 0, tzinfo=UTC))
    record(palu)
    deposits.close_month(palu, "2026-10", actor=None)
    finance, admin = f.user("finance"), f.user("admin")
    db.session.commit()

    with pytest.raises(PeriodError, match="admin_only"):
        deposits.reopen_month(palu, "2026-10", "salah", actor=finance)
    with pytest.raises(PeriodError, match="reason"):
        deposits.reopen_month(palu, "2026-10", " ", actor=admin)
    deposits.reopen_month(palu, "2026-10", "NTPN salah dicatat", actor=admin)
    db.session.commit()

    assert row(palu, "2026-10").state is reconciliation.MonthState.BALANCED
    actions = db.session.execute(select(AuditEntry.action, AuditEntry.note).order_by(AuditEntry.id)).tuples().all()
    assert ("period.close", "") in actions and ("period.reopen", "NTPN salah dicatat") in actions
    deposits.close_month(palu, "2026-10", actor=finance)
    db.session.commit()
    page = text_of(logged_in(app, "finance").get("/staf/keuangan/pnbp/lapas-perempuan-palu/2026-10"))
    history = page[page.index("Ditutup dan dibuka kembali"):]
    reopened = f"dibuka kembali oleh {admin.email}, karena: NTPN salah dicatat"
    assert history.index("ditutup oleh") < history.index(reopened)
    assert f"ditutup oleh {finance.email}" in history  # the second close, by finance, after the reopen


def test_closing_a_month_and_a_refund_at_the_same_moment_never_leave_a_closed_month_unbalanced(app):
    palu, order, payment = october_sale(app)
    at(app, datetime(2026, 11, 3, 2, 0, tzinfo=UTC))
    record(palu)
    # The refund is dated in October (the shop's clock for this refund), racing the close of October.
    refund_moment = datetime(2026, 10, 31, 8, 0, tzinfo=UTC)
    facility_id, payment_id = palu.id, payment.id

    def close():
        with app.app_context():
            app.config["FROZEN_NOW"] = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
            try:
                deposits.close_month(db.session.get(type(palu), facility_id), "2026-10", actor=None)
                db.session.commit()
                return "closed"
            except PeriodError as error:
                db.session.rollback()
                return str(error)
            finally:
                db.session.remove()

    def refund():
        with app.app_context():
            from shop.payments.models import Payment, Refund

            item = Refund(payment_id=payment_id, amount=10_000, reason="rusak", idempotency_key="race",
                          transfer_reference="BRI 1", created_at=refund_moment)
            db.session.add(item)
            live = db.session.get(Payment, payment_id)
            live.refunded += 10_000
            db.session.flush()
            from shop.ledger.service import book_refund

            book_refund(item)
            db.session.commit()
            db.session.remove()
            return "refunded"

    outcomes = at_once(close, refund)
    at(app, datetime(2026, 11, 3, 2, 0, tzinfo=UTC))
    db.session.expire_all()
    closing = db.session.scalar(select(PeriodClose))
    october = row(palu, "2026-10")
    if outcomes[0] == "closed":  # the refund waited, then went to November (dated the day it was booked, #21.12)
        assert db.session.scalar(select(LedgerEntry.day).where(LedgerEntry.refund_id.is_not(None))) == \
            date(2026, 11, 3)
        november = row(palu, "2026-11")
        assert october.accrued == closing.accrued == 15_000 and november.accrued == november.carried_in < 0
    else:  # the refund came first: October no longer balanced, so it did not close
        assert outcomes[0] == "not_balanced" and closing is None and october.accrued < 15_000


def test_overdue_follows_the_facilitys_deposit_regime_and_working_days(app, monkeypatch):
    palu, _, _ = october_sale(app)  # PNBP of Wednesday 14 October
    assert deposits.deposit_due(date(2026, 10, 14), 1) == date(2026, 10, 15)
    assert deposits.deposit_due(date(2026, 10, 16), 1) == date(2026, 10, 19)  # Friday → Monday
    assert deposits.deposit_due(date(2026, 10, 14), 7) == date(2026, 10, 21)
    from shop.finance import holidays
    from shop.finance.models import HolidayKind

    holidays.add(date(2026, 12, 24), "Cuti bersama Natal", HolidayKind.COLLECTIVE, actor=None)  # kept by finance
    holidays.add(date(2026, 12, 25), "Natal", HolidayKind.NATIONAL, actor=None)
    assert deposits.deposit_due(date(2026, 12, 23), 1) == date(2026, 12, 28)  # cuti bersama, Christmas, weekend

    at(app, datetime(2026, 10, 15, 8, 0, tzinfo=UTC))  # the due day itself: not yet overdue
    assert row(palu, "2026-10").overdue == 0
    at(app, datetime(2026, 10, 16, 2, 0, tzinfo=UTC))
    assert row(palu, "2026-10").overdue == 15_000
    deposits.set_deposit_regime(palu, DepositRegime.PERIODIC, 7, actor=None)  # from 16 October on
    db.session.commit()
    assert row(palu, "2026-10").overdue == 15_000  # #21.4: the 14th's PNBP keeps its deadline of the 15th
    paid({f.product(facility=palu, price=100_000, stock=5): 1})  # PNBP of the 16th, under the new regime
    db.session.commit()
    assert row(palu, "2026-10").due(date(2026, 10, 16)) == date(2026, 10, 23)
    assert row(palu, "2026-10").due(date(2026, 10, 14)) == date(2026, 10, 15)
    at(app, datetime(2026, 10, 22, 2, 0, tzinfo=UTC))
    assert row(palu, "2026-10").overdue == 15_000
    record(palu, amount=5_000, months={"2026-10": 5_000}, deposited_on=date(2026, 10, 22),
           billing_expires_on=date(2026, 10, 25))
    assert row(palu, "2026-10").overdue == 10_000
    at(app, datetime(2026, 10, 24, 2, 0, tzinfo=UTC))  # past the 16th's deadline too
    assert row(palu, "2026-10").overdue == 25_000


def test_the_overview_lists_facility_months_newest_first_with_the_report_due_by_the_tenth(app):
    palu, _, _ = october_sale(app)
    jambi = f.facility(name="Lapas Kelas IIB Kuala Tungkal", timezone="Asia/Jakarta")
    at(app, datetime(2026, 9, 20, 2, 0, tzinfo=UTC))
    paid({f.product(facility=jambi, price=20_000): 1})
    at(app, datetime(2026, 11, 5, 2, 0, tzinfo=UTC))

    rows = reconciliation.overview()
    listed = [(r.facility.name, r.month, r.state.value) for r in rows]
    assert listed.index(("Lapas Perempuan Kelas III Palu", "2026-11", "open")) < \
        listed.index(("Lapas Perempuan Kelas III Palu", "2026-10", "outstanding")) < \
        listed.index(("Lapas Kelas IIB Kuala Tungkal", "2026-09", "outstanding"))
    october = next(r for r in rows if r.month == "2026-10")
    september = next(r for r in rows if r.month == "2026-09")
    assert (october.report_due, october.report_pending, october.report_late) == (date(2026, 11, 10), True, False)
    assert september.report_late and september.report_due == date(2026, 10, 10)
    assert [r.month for r in reconciliation.overview(reconciliation.Filters(facility_id=jambi.id))] == \
        ["2026-11", "2026-09"]


def test_a_deposit_that_loses_the_ntpn_race_leaves_no_receipt_file_behind(app, monkeypatch):
    """The insert fails as it does when another facility's clerk recorded the same NTPN a moment earlier (a
    stand-in for that race: the flush raises the database's unique violation)."""
    from pathlib import Path

    from sqlalchemy.exc import IntegrityError

    def private_root():
        return Path(app.config["PRIVATE_UPLOAD_FOLDER"])

    palu, _, _ = october_sale(app)
    at(app, datetime(2026, 11, 3, 2, 0, tzinfo=UTC))
    before = sorted(private_root().rglob("*.*"))

    def lost_race() -> None:
        raise IntegrityError("INSERT INTO pnbp_deposit", {}, Exception("uq_pnbp_deposit_ntpn_use"))

    monkeypatch.setattr(db.session, "flush", lost_race)
    with pytest.raises(DepositInvalid) as refused:
        deposits.record_deposit(deposit_input(palu), PDF, actor=None)
    monkeypatch.undo()
    db.session.rollback()

    assert refused.value.problems == {"ntpn": "ntpn_taken"}
    assert sorted(private_root().rglob("*.*")) == before


def test_a_refund_of_an_open_earlier_months_sale_is_not_called_carried_over(app):
    """Only a closed month's sales are carried over; a refund in November of a sale of October, still open, is
    November's PNBP (reduced) like any other, and the figure labelled "carried over from closed months" stays 0."""
    palu, order, payment = october_sale(app)
    at(app, datetime(2026, 11, 12, 2, 0, tzinfo=UTC))
    payments.refund(payment, amount=order.total, reason="barang rusak", key="r1", actor=None,
                    transfer_reference="BRI 77")
    db.session.commit()

    november = row(palu, "2026-11")
    assert (november.accrued, november.carried_in) == (-15_000, 0)


def test_an_entry_carried_past_a_closed_month_counts_its_deadline_from_the_day_it_is_booked(app):
    """#21.12: an October sale first booked on 20 November (book-missing), October being closed, lands in
    November dated the 20th, not the 1st, so its PNBP is not overdue the moment it is booked."""
    from tests.ledger.test_booking import _unbook

    palu, order, _payment = october_sale(app)
    db.session.commit()
    palu_id = palu.id
    _unbook(order.id)
    palu = db.session.get(Facility, palu_id)
    at(app, datetime(2026, 11, 3, 2, 0, tzinfo=UTC))
    deposits.close_month(palu, "2026-10", actor=None)  # nothing booked, nothing owed: it balances
    db.session.commit()

    at(app, datetime(2026, 11, 20, 2, 0, tzinfo=UTC))
    assert app.test_cli_runner().invoke(args=["ledger", "book-missing"]).exit_code == 0

    pnbp = db.session.scalars(select(LedgerEntry).where(LedgerEntry.part == Part.PNBP)).one()
    assert (pnbp.month, pnbp.origin_month, pnbp.day) == ("2026-11", "2026-10", date(2026, 11, 20))
    assert (row(palu, "2026-11").accrued, reconciliation.overdue(row(palu, "2026-11"))) == (15_000, 0)


def test_lateness_counts_each_days_pnbp_against_the_deposits_that_paid_it_earliest_first():
    """#21.15, by hand: 1 October (due the 2nd) paid on the 1st; 5 October (due the 6th) paid on the 10th,
    reversed on the 12th and paid again on the 20th: Rp10.000 late, 14 days."""
    palu = SimpleNamespace(deposit_period_days=1)
    month = reconciliation.MonthRow(palu, "2026-10", days={date(2026, 10, 1): 5_000, date(2026, 10, 5): 10_000},
                                    payments=[(date(2026, 10, 1), 5_000), (date(2026, 10, 10), 10_000),
                                              (date(2026, 10, 12), -10_000), (date(2026, 10, 20), 10_000)])
    assert month.late == (10_000, 14)
    on_time = reconciliation.MonthRow(palu, "2026-10", days={date(2026, 10, 5): 10_000},
                                      payments=[(date(2026, 10, 6), 10_000)])
    assert on_time.late == (0, 0)
