"""Booking sales and their reversals: exact rupiah, the rule in force at payment, append-only on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from shop.extensions import db
from shop.ledger import service as ledger
from shop.ledger.models import APPEND_ONLY_DDL, EntryKind, LedgerEntry, Part, SplitBase
from shop.ledger.queries import verify
from shop.payments import service as payments
from tests import factories as f
from tests.conftest import is_postgres, owner_engine
from tests.helpers import at_once
from tests.ledger.factories import paid, rule


def by_part(order, kind: EntryKind | None = None) -> dict[Part, int]:
    query = select(LedgerEntry.part, func.sum(LedgerEntry.amount)).where(LedgerEntry.order_id == order.id)
    if kind:
        query = query.where(LedgerEntry.kind == kind)
    return {Part(p): int(a) for p, a in db.session.execute(query.group_by(LedgerEntry.part)).tuples()}


def test_a_paid_order_books_each_line_under_the_rule_with_shipping_and_fee_and_balances(app):
    rule()
    shallots, bag = f.product(price=45_000), f.product(price=125_001)  # of a facility in Palu (WITA, UTC+8)
    app.config["FROZEN_NOW"] = datetime(2026, 10, 31, 20, 0, tzinfo=UTC)  # 1 November, 04.00 in Palu
    order, payment = paid({shallots: 2, bag: 1}, fee=2_900)

    sale = by_part(order, EntryKind.SALE)
    assert sale[Part.GROSS] == 215_001 == order.subtotal
    assert sale[Part.PNBP] + sale[Part.PREMI] + sale[Part.COOPERATIVE] + sale[Part.PRODUCTION_CAPITAL] == 215_001
    parts = by_part(order)
    assert parts[Part.PNBP] == 13_500 + 18_750  # 15 % of each line, the odd rupiah to the largest remainder
    assert parts[Part.SHIPPING] == order.shipping_cost and parts[Part.FEE] == 2_900
    assert parts[Part.COOPERATIVE] == 49_500 + 68_751 - 2_900  # the cooperative bears the fee by default
    rows = db.session.scalars(select(LedgerEntry).where(LedgerEntry.order_id == order.id)).all()
    assert {r.payment_id for r in rows} == {payment.id}
    assert {r.month for r in rows} == {"2026-11"}  # the facility's month, not October in UTC
    assert {r.day for r in rows if r.facility_id} == {date(2026, 11, 1)}
    assert verify() == []


def test_the_fee_can_be_shared_pro_rata_by_every_part_but_the_states_which_a_full_refund_brings_to_zero(app):
    rule()
    app.config["LEDGER_FEE_SHARING"] = "pro_rata"
    try:
        order, payment = paid({f.product(price=100_000): 1}, fee=3_000)
    finally:
        app.config.pop("LEDGER_FEE_SHARING")

    parts = by_part(order)
    assert (parts[Part.PNBP], parts[Part.PREMI], parts[Part.COOPERATIVE], parts[Part.PRODUCTION_CAPITAL]) \
        == (15_000, 15_000 - 530, 55_000 - 1_941, 15_000 - 529)  # 3,000 over 15 : 55 : 15
    assert verify() == []

    payments.refund(payment, amount=payment.amount, reason="batal", key="all", actor=None,
                    transfer_reference="BRI 1")
    db.session.commit()
    assert by_part(order)[Part.PNBP] == 0
    assert verify() == []


def test_the_most_specific_rule_in_force_wins():
    palu, tungkal = f.facility(), f.facility()
    food = f.category()
    rule({Part.PNBP: 1000, Part.PREMI: 1000, Part.COOPERATIVE: 7000, Part.PRODUCTION_CAPITAL: 1000})
    rule({Part.PNBP: 2000, Part.PREMI: 1000, Part.COOPERATIVE: 6000, Part.PRODUCTION_CAPITAL: 1000}, category=food)
    rule({Part.PNBP: 3000, Part.PREMI: 1000, Part.COOPERATIVE: 5000, Part.PRODUCTION_CAPITAL: 1000}, facility=palu)
    rule({Part.PNBP: 4000, Part.PREMI: 1000, Part.COOPERATIVE: 4000, Part.PRODUCTION_CAPITAL: 1000},
         facility=palu, category=food)
    rule({Part.PNBP: 9000, Part.PREMI: 0, Part.COOPERATIVE: 1000, Part.PRODUCTION_CAPITAL: 0},
         since=date(2099, 1, 1))  # not yet in force

    def pnbp_of(facility, category) -> int:
        return ledger.preview_product(f.product(facility=facility, category=category, price=10_000)).parts[Part.PNBP]

    assert pnbp_of(tungkal, f.category()) == 1_000
    assert pnbp_of(tungkal, food) == 2_000
    assert pnbp_of(palu, f.category()) == 3_000
    assert pnbp_of(palu, food) == 4_000


def test_a_margin_rule_first_gives_back_the_production_cost():
    rule({Part.PNBP: 1500, Part.PREMI: 5000, Part.COOPERATIVE: 0, Part.PRODUCTION_CAPITAL: 3500},
         base=SplitBase.MARGIN)
    order, _ = paid({f.product(price=50_000, unit_cost=20_000): 3})

    parts = by_part(order)
    assert parts[Part.PRODUCTION_COST] == 60_000
    assert (parts[Part.PNBP], parts[Part.PREMI], parts[Part.PRODUCTION_CAPITAL]) == (13_500, 45_000, 31_500)


def test_a_rule_change_between_two_orders_books_each_under_its_own_rule_and_the_first_stays(app):
    old = rule()
    first, _ = paid({f.product(price=100_000): 1})
    later = datetime.now(UTC) + timedelta(days=2)
    new = rule({Part.PNBP: 2500, Part.PREMI: 1500, Part.COOPERATIVE: 4500, Part.PRODUCTION_CAPITAL: 1500},
               since=later.date())
    app.config["FROZEN_NOW"] = later
    second, _ = paid({f.product(price=100_000): 1})

    assert by_part(first)[Part.PNBP] == 15_000 and by_part(second)[Part.PNBP] == 25_000
    rules_used = {o.id: set(db.session.scalars(select(LedgerEntry.rule_id).where(LedgerEntry.order_id == o.id,
                                                                                  LedgerEntry.rule_id.is_not(None))))
                  for o in (first, second)}
    assert rules_used == {first.id: {old.id}, second.id: {new.id}}
    with pytest.raises(ledger.RuleError, match="used"):
        ledger.delete_rule(old, actor=None)


def test_without_a_rule_the_money_waits_unallocated_and_verify_names_the_order():
    order, _ = paid({f.product(price=30_000): 1})

    assert by_part(order)[Part.UNALLOCATED] == 30_000
    assert [b.order_number for b in verify()] == [order.number]


def test_partial_then_full_refunds_reverse_in_proportion_down_to_exactly_zero():
    rule()
    order, payment = paid({f.product(price=33_333): 1, f.product(price=10_001): 2})
    total = order.total

    payments.refund(payment, amount=10_000, reason="satu rusak", key="a", actor=None, transfer_reference="BRI 1")
    payments.refund(payment, amount=7, reason="selisih", key="b", actor=None, transfer_reference="BRI 2")
    db.session.commit()
    partly = by_part(order)
    assert partly[Part.GROSS] + partly[Part.SHIPPING] == total - 10_007
    assert verify() == []

    payments.refund(payment, amount=total - 10_007, reason="sisa", key="c", actor=None, transfer_reference="BRI 3")
    db.session.commit()

    assert set(by_part(order).values()) == {0}
    reversals = by_part(order, EntryKind.REFUND_REVERSAL)
    assert reversals[Part.GROSS] == -order.subtotal and reversals[Part.SHIPPING] == -order.shipping_cost
    assert verify() == []


def test_a_cancellation_after_payment_books_cancellation_reversals():
    from shop.fulfilment import service as desk

    rule()
    order, _ = paid({f.product(price=40_000): 1})

    desk.cancel(order, reason="stok rusak", actor=None, transfer_reference="BRI 4")
    db.session.commit()

    assert set(by_part(order).values()) == {0}
    assert by_part(order, EntryKind.CANCELLATION_REVERSAL)[Part.GROSS] == -40_000
    assert verify() == []


def test_the_ledger_refuses_update_and_delete_in_the_database_itself():
    rule()
    order, _ = paid({f.product(price=40_000): 1})
    entry_id = db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.order_id == order.id).limit(1))
    db.session.close()

    for statement in ("UPDATE ledger_entry SET amount = 1 WHERE id = :id", "DELETE FROM ledger_entry WHERE id = :id"):
        # as the tables' owner, whom grants do not stop: the trigger itself refuses
        with pytest.raises(DatabaseError, match="append-only"), owner_engine().begin() as connection:
            connection.execute(text(statement), {"id": entry_id})
    assert db.session.get(LedgerEntry, entry_id).amount == 40_000


def test_booking_the_same_sale_twice_is_refused_by_the_unique_key():
    rule()
    order, payment = paid({f.product(price=40_000): 1})

    with pytest.raises(DatabaseError):
        ledger.book_sale(order, payment)
    db.session.rollback()


def test_book_missing_books_orders_paid_before_the_ledger_once(app):
    rule()
    order, payment = paid({f.product(price=40_000): 2})
    payments.refund(payment, amount=5_000, reason="x", key="k", actor=None, transfer_reference="BRI 5")
    db.session.commit()
    order_id = order.id
    db.session.close()
    with owner_engine().begin() as connection:  # as if the shop ran before the ledger existed
        if connection.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER ledger_entry_no_delete"))
            connection.execute(text("DELETE FROM ledger_entry"))
        else:  # the guard refuses DELETE and TRUNCATE: lifted for this transaction alone
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            connection.execute(text("DELETE FROM ledger_entry"))
    runner = app.test_cli_runner()

    first = runner.invoke(args=["ledger", "book-missing"])
    second = runner.invoke(args=["ledger", "book-missing"])
    checked = runner.invoke(args=["ledger", "verify"])

    assert "1 orders booked" in first.output and "0 orders booked" in second.output
    assert checked.exit_code == 0, checked.output
    assert by_part(db.session.get(type(order), order_id), EntryKind.SALE)[Part.GROSS] == 80_000


def test_verify_exits_non_zero_naming_the_order_that_breaks_an_invariant(app):
    rule()
    order, payment = paid({f.product(price=40_000): 1})
    payment_row = db.session.get(type(payment), payment.id)
    payment_row.refunded = 1_000  # money went back but nothing was reversed
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["ledger", "verify"])

    assert result.exit_code == 1 and order.number in result.output


# -- the reversal rule, as a property over random orders and refund sequences

line_strategy = st.tuples(st.integers(min_value=1, max_value=2_000_000), st.integers(min_value=1, max_value=20))
shares_strategy = st.lists(st.integers(min_value=0, max_value=10_000), min_size=4, max_size=4).filter(
    lambda s: sum(s) > 0)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(lines=st.lists(line_strategy, min_size=1, max_size=5), shipping=st.integers(min_value=0, max_value=500_000),
       shares=shares_strategy, cuts=st.lists(st.floats(min_value=0, max_value=1), max_size=6))
def test_reversals_never_exceed_the_booking_and_a_full_refund_leaves_every_part_at_zero(lines, shipping, shares,
                                                                                        cuts):
    weights = dict(zip([p.value for p in ledger.SHARES], shares, strict=True))
    booked: dict[str, dict[Part, int]] = {}
    for n, (price, quantity) in enumerate(lines):
        gross = price * quantity
        parts = {Part(k): v for k, v in ledger.allocate(gross, weights).items()}
        assert sum(parts.values()) == gross
        booked[f"L{n}"] = {Part.GROSS: gross, **parts}
    if shipping:
        booked["S"] = {Part.GROSS: shipping, Part.SHIPPING: shipping}
    total = sum(b[Part.GROSS] for b in booked.values())

    refunded = 0
    for cut in [*cuts, 1.0]:
        amount = total - refunded if cut == 1.0 else int((total - refunded) * cut)
        reversed_ = ledger.reversal(booked, amount)
        assert sum(r[Part.GROSS] for r in reversed_.values()) == amount
        for key, parts in reversed_.items():
            assert parts[Part.GROSS] == sum(v for p, v in parts.items() if p is not Part.GROSS)
            for part, value in parts.items():
                assert 0 < value <= booked[key][part]
                booked[key][part] -= value
        refunded += amount
    assert all(value == 0 for parts in booked.values() for value in parts.values())


def test_the_accounting_month_follows_each_facilitys_time_zone(app):
    """Paid at 16:30 UTC on 31 October: 23:30 in Kuala Tungkal (WIB), already 1 November in Palu (WITA)."""
    rule()
    palu, tungkal = f.facility(timezone="Asia/Makassar"), f.facility(timezone="Asia/Jakarta")
    app.config["FROZEN_NOW"] = datetime(2026, 10, 31, 16, 30, tzinfo=UTC)
    order, _ = paid({f.product(facility=palu): 1, f.product(facility=tungkal): 1})

    months = dict(db.session.execute(select(LedgerEntry.facility_id, LedgerEntry.month).where(
        LedgerEntry.order_id == order.id, LedgerEntry.part == Part.PNBP)).tuples().all())
    assert months == {palu.id: "2026-11", tungkal.id: "2026-10"}


# -- a refund reverses what it gives back, nothing else

def _net(order, part: Part, facility) -> int:
    return int(db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
        LedgerEntry.order_id == order.id, LedgerEntry.part == part, LedgerEntry.facility_id == facility.id)))


def test_refunding_one_facilitys_goods_moves_only_that_facilitys_pnbp_and_never_the_shipping():
    """The reported case: Palu goods 135,000, Kuala Tungkal goods 54,000, shipping on top; the damaged Kuala
    Tungkal goods go back. Before, the refund was spread over every line and the shipping (−4,576 PNBP at Palu)."""
    rule()
    palu, tungkal = f.facility(timezone="Asia/Makassar"), f.facility(timezone="Asia/Jakarta")
    bag, shallots = f.product(facility=palu, price=45_000), f.product(facility=tungkal, price=27_000)
    order, payment = paid({bag: 3, shallots: 2})
    palu_pnbp, shipping = _net(order, Part.PNBP, palu), by_part(order)[Part.SHIPPING]
    assert palu_pnbp == 20_250 and _net(order, Part.PNBP, tungkal) == 8_100
    line = next(line for line in order.lines if line.product_id == shallots.id)

    items = payments.refund_items(order, quantities={line.id: 2})
    payments.refund(payment, amount=0, reason="rusak", key="kt", actor=None, transfer_reference="BRI 7", items=items)
    db.session.commit()

    assert payment.refunded == 54_000
    assert _net(order, Part.PNBP, palu) == 20_250  # untouched
    assert _net(order, Part.PNBP, tungkal) == 0 and _net(order, Part.GROSS, tungkal) == 0
    assert by_part(order)[Part.SHIPPING] == shipping
    units = db.session.scalar(select(func.sum(LedgerEntry.quantity)).where(
        LedgerEntry.order_line_id == line.id, LedgerEntry.part == Part.GROSS))
    assert units == 0  # both units count as unsold again
    assert verify() == []


def test_an_amount_is_spread_only_over_the_named_goods_and_the_units_stay_sold():
    rule()
    palu, tungkal = f.facility(), f.facility()
    bag, shallots = f.product(facility=palu, price=45_000), f.product(facility=tungkal, price=27_000)
    order, payment = paid({bag: 1, shallots: 2})
    line = next(line for line in order.lines if line.product_id == bag.id)

    items = payments.refund_items(order, quantities={line.id: 1}, amount=9_000)  # a scratch: 20 % back, bag kept
    payments.refund(payment, amount=0, reason="lecet", key="s", actor=None, transfer_reference="BRI 8", items=items)
    db.session.commit()

    assert _net(order, Part.GROSS, palu) == 36_000 and _net(order, Part.PNBP, palu) == 5_400
    assert _net(order, Part.GROSS, tungkal) == 54_000 and _net(order, Part.PNBP, tungkal) == 8_100
    assert db.session.scalar(select(func.sum(LedgerEntry.quantity)).where(
        LedgerEntry.order_line_id == line.id, LedgerEntry.part == Part.GROSS)) == 1
    assert verify() == []


def test_a_refund_cannot_name_nothing_nor_more_than_is_left_of_a_line():
    rule()
    bag = f.product(price=45_000)
    order, payment = paid({bag: 2})
    line = order.lines[0]

    with pytest.raises(payments.NothingChosen):
        payments.refund_items(order, quantities={line.id: 0})
    with pytest.raises(payments.TooManyUnits):
        payments.refund_items(order, quantities={line.id: 3})
    with pytest.raises(payments.RefundTooLarge, match="90000"):
        payments.refund_items(order, quantities={line.id: 2}, amount=90_001)
    payments.refund(payment, amount=0, reason="a", key="a", actor=None, transfer_reference="BRI 1",
                    items=payments.refund_items(order, quantities={line.id: 2}))
    db.session.commit()
    left = payments.refundable(order)
    assert [(item.quantity, item.amount) for item in left.lines] == [(0, 0)] and left.shipping == order.shipping_cost
    with pytest.raises(payments.TooManyUnits):
        payments.refund_items(order, quantities={line.id: 1})
    shipping_only = payments.refund_items(order, quantities={}, shipping=True)
    assert [(item.line_id, item.amount) for item in shipping_only] == [(None, order.shipping_cost)]


def test_the_odd_rupiah_of_a_refund_goes_to_the_parts_in_the_documented_split_order():
    """Four equal shares of 10,000 and a refund of 10,001 − 10,000 … the one rupiah left over goes to PNBP first,
    then premi, cooperative, production capital, whatever order the database returns rows in."""
    rule({Part.PNBP: 2500, Part.PREMI: 2500, Part.COOPERATIVE: 2500, Part.PRODUCTION_CAPITAL: 2500})
    order, payment = paid({f.product(price=10_000): 1})
    line = order.lines[0]

    for n, expected in enumerate([Part.PNBP, Part.PREMI, Part.COOPERATIVE]):
        items = payments.refund_items(order, quantities={line.id: 1}, amount=1)
        entries = payments.refund(payment, amount=0, reason="1", key=f"k{n}", actor=None,
                                  transfer_reference=f"BRI {n}", items=items)
        db.session.commit()
        moved = db.session.execute(select(LedgerEntry.part, LedgerEntry.amount).where(
            LedgerEntry.refund_id == entries.id, LedgerEntry.part != Part.GROSS)).tuples().all()
        assert moved == [(expected.value, -1)] or moved == [(expected, -1)]


def test_deleting_a_rule_that_a_sale_was_booked_with_meanwhile_is_refused_with_a_message(monkeypatch):
    """The race of a delete and a sale: the check saw no sale (as if it ran just before the sale committed), the
    database's foreign key refuses the delete, and finance is told the rule stays (not a server error)."""
    split = rule()
    paid({f.product(price=40_000): 1})
    monkeypatch.setattr(ledger, "is_used", lambda _rule: False)

    with pytest.raises(ledger.RuleError, match="used"):
        ledger.delete_rule(split, actor=None)
    db.session.rollback()
    assert db.session.get(type(split), split.id) is not None


def test_verify_names_an_order_whose_pnbp_does_not_end_at_zero_after_a_full_refund():
    rule()
    order, payment = paid({f.product(price=100_000): 1}, fee=3_000)
    payments.refund(payment, amount=payment.amount, reason="batal", key="all", actor=None, transfer_reference="BRI")
    # A fee set that balances but moves the state's share (what pro-rata sharing used to book).
    at = datetime(2026, 11, 3, tzinfo=UTC)
    for part, amount in ((Part.FEE, 450), (Part.PNBP, -450)):
        db.session.add(LedgerEntry(set_key=f"fee:test:{order.id}", kind=EntryKind.FEE, part=part, amount=amount,
                                   order_id=order.id, facility_id=order.lines[0].facility_id, month="2026-11",
                                   day=at.date(), origin_month="2026-11", booked_at=at))
    db.session.commit()

    assert [(b.order_number, b.problem) for b in verify()] == [(order.number, "PNBP -450 after its payments kept 0")]


def _unbook(order_id: int) -> None:
    db.session.close()
    with owner_engine().begin() as connection:  # as if the shop ran before the ledger existed
        if connection.dialect.name == "sqlite":
            for trigger in ("ledger_entry_no_update", "ledger_entry_no_delete"):
                connection.execute(text(f"DROP TRIGGER {trigger}"))
            connection.execute(text("DELETE FROM ledger_entry"))
            for statement in APPEND_ONLY_DDL["sqlite"]:
                connection.execute(text(statement))
        else:  # the guard refuses DELETE and TRUNCATE: lifted for this transaction alone
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            connection.execute(text("DELETE FROM ledger_entry"))


@pytest.mark.skipif(not is_postgres(), reason="runs in the PostgreSQL pass of scripts/test (CI runs both)")
def test_book_missing_and_a_refund_at_the_same_moment_lose_no_refund(app):
    """book-missing has booked the old sale and not yet committed when staff refund the order: the refund waits
    for the order's lock, then reverses the booked sale (before, it saw no sale, reversed nothing, and was lost)."""
    import threading
    import time

    rule()
    order, payment = paid({f.product(price=40_000): 2})
    order_id, payment_id = order.id, payment.id
    _unbook(order_id)
    booked = threading.Event()

    def book_missing() -> str:
        with app.app_context():
            try:
                ledger.book_missing_order(order_id)
                booked.set()
                time.sleep(1.0)  # the window in which the refund arrives
                db.session.commit()
                return "booked"
            finally:
                booked.set()
                db.session.remove()

    def refund() -> str:
        booked.wait(10)
        with app.app_context():
            try:
                row = db.session.get_one(type(payment), payment_id)
                payments.refund(row, amount=0, reason="rusak", key="race", actor=None, transfer_reference="BRI",
                                items=payments.refund_items(row.order, quantities={row.order.lines[0].id: 1}))
                db.session.commit()
                return "refunded"
            finally:
                db.session.remove()

    assert at_once(book_missing, refund) == ["booked", "refunded"]
    db.session.expire_all()
    assert verify() == []
    assert by_part(db.session.get_one(type(order), order_id))[Part.GROSS] == 40_000


def test_two_book_missing_runs_at_once_book_each_order_once_without_an_error(app):
    rule()
    order, _ = paid({f.product(price=40_000): 1})
    order_id = order.id
    _unbook(order_id)

    def run() -> int:
        with app.app_context():
            try:
                written = ledger.book_missing_order(order_id)
                db.session.commit()
                return written
            finally:
                db.session.remove()

    results = at_once(run, run)
    assert sorted(results) == [0, 6]  # gross, four parts and shipping once; the other run found it booked
    assert verify() == []


def test_money_paid_without_a_rule_is_shared_later_by_the_rule_in_force_and_verify_is_clean_again(app):
    """Paid in October while no rule was in force; finance adds a rule in November and allocates: the parts are
    booked as adjustments in November, the unallocated money is back to zero, and a later refund reverses parts."""
    from tests.helpers import logged_in, text_of

    app.config["FROZEN_NOW"] = datetime(2026, 10, 14, 3, 0, tzinfo=UTC)
    order, payment = paid({f.product(price=100_000): 1})
    assert [b.order_number for b in verify()] == [order.number]
    app.config["FROZEN_NOW"] = datetime(2026, 11, 3, 3, 0, tzinfo=UTC)
    finance = logged_in(app, "finance")
    refused = finance.post(f"/staf/keuangan/alokasi/{order.number}", follow_redirects=True)
    assert "Belum ada aturan pembagian yang berlaku" in text_of(refused)
    rule(since=date(2026, 11, 1))
    db.session.commit()

    page = finance.get("/staf/keuangan/aturan")
    assert order.number in text_of(page) and "Uang yang menunggu aturan" in text_of(page)
    done = finance.post(f"/staf/keuangan/alokasi/{order.number}", follow_redirects=True)

    assert f"Uang {order.number} kini dibagi" in text_of(done)
    parts = by_part(order)
    assert parts[Part.UNALLOCATED] == 0 and parts[Part.PNBP] == 15_000 and parts[Part.COOPERATIVE] == 55_000
    months = set(db.session.scalars(select(LedgerEntry.month).where(LedgerEntry.kind == EntryKind.ADJUSTMENT)))
    assert months == {"2026-11"}
    assert verify() == []
    again = app.test_cli_runner().invoke(args=["ledger", "allocate", "--order", order.number])
    assert again.exit_code != 0 and "no unallocated money" in again.output

    payments.refund(payment, amount=0, reason="rusak", key="r", actor=None, transfer_reference="BRI",
                    items=payments.refund_items(order, quantities={order.lines[0].id: 1}))
    db.session.commit()
    assert all(amount == 0 for part, amount in by_part(order).items() if part is not Part.SHIPPING)
    assert verify() == []


def test_the_allocate_command_shares_an_orders_waiting_money(app):
    order, _ = paid({f.product(price=40_000): 1})
    rule()
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["ledger", "allocate", "--order", order.number])

    assert result.exit_code == 0, result.output
    assert by_part(order)[Part.UNALLOCATED] == 0 and by_part(order)[Part.PNBP] == 6_000
    assert verify() == []
