"""#27 food lots: each delivery from a workshop is a lot with its code and dates; sales take the first expiring
units first and remember which; a cancellation gives them back to their lot; lots near their best-before date are
set aside and never sold; a product's stock is always what its lots may still sell."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from shop import jobs
from shop.catalog.models import Lot, Product, StockMovement, StockReason
from shop.catalog.stock import LotInvalid, adjust_stock, receive_lot, set_aside_due_lots
from shop.extensions import db
from shop.orders import service as orders
from shop.orders.models import OrderStatus
from shop.outbox.service import deliver_due
from shop.timeutil import today
from tests import factories as f
from tests.conftest import is_postgres
from tests.helpers import at_once, logged_in, text_of
from tests.orders.test_buyer_mail import body


def days(n: int) -> date:
    return today() + timedelta(days=n)


def lots_of(product: Product) -> dict[str, tuple[int, int]]:
    """Each lot's code → (units for sale, units set aside), read afresh."""
    db.session.expire_all()
    return {lot.code: (lot.on_hand, lot.set_aside)
            for lot in db.session.scalars(select(Lot).where(Lot.product_id == product.id))}


def stock_agrees(product: Product) -> None:
    """The product's stock is what its lots may sell, and the sum of its movements."""
    db.session.expire_all()
    item = db.session.get(Product, product.id)
    held = db.session.scalar(select(func.sum(Lot.on_hand)).where(Lot.product_id == product.id)) or 0
    moved = db.session.scalar(select(func.sum(StockMovement.delta)).where(StockMovement.product_id == product.id))
    assert item.stock == held == moved, (item.stock, held, moved)


@pytest.fixture
def shallots():
    """Fried shallots with no stock yet, received as two lots: the later one first."""
    item = f.certified_food(name_id="Bawang Goreng Palu", slug="bawang-goreng", stock=0)
    f.courier()
    receive_lot(item, "BG-2612-B", days(-5), days(120), 10, actor=None)
    receive_lot(item, "bg-2611-a", days(-30), days(60), 4, actor=None)  # codes are kept in capitals
    db.session.commit()
    return item


def test_a_sale_takes_the_first_expiring_units_and_a_cancellation_gives_them_back_to_their_lot(shallots):
    order = f.order({shallots: 6})
    db.session.commit()

    assert lots_of(shallots) == {"BG-2611-A": (0, 0), "BG-2612-B": (8, 0)}  # 4 of the earlier lot, then 2
    taken = db.session.execute(select(Lot.code, StockMovement.delta).join(Lot)
                               .where(StockMovement.order_id == order.id)).all()
    assert sorted(taken) == [("BG-2611-A", -4), ("BG-2612-B", -2)]  # the order line's units, by lot
    stock_agrees(shallots)

    orders.transition(order, OrderStatus.CANCELLED, note="pembeli batal")
    db.session.commit()
    assert lots_of(shallots) == {"BG-2611-A": (4, 0), "BG-2612-B": (10, 0)}
    stock_agrees(shallots)


def test_the_product_page_says_the_best_before_date_of_the_units_a_buyer_would_receive(client, shallots):
    page = text_of(client.get("/produk/bawang-goreng"))
    assert f"Baik digunakan sebelum {days(60).day} " in page and "Stok: 14" in page
    f.order({shallots: 4})  # the earlier lot is sold out: the next units are the later lot's
    db.session.commit()
    page = text_of(client.get("/produk/bawang-goreng"))
    assert f"Baik digunakan sebelum {days(120).day} " in page and "Stok: 10" in page


def test_a_lot_near_its_best_before_date_is_not_sold_and_is_set_aside_once(shallots):
    receive_lot(shallots, "BG-2610-OLD", days(-100), days(20), 5, actor=None)  # 20 days left: under 30
    db.session.commit()

    order = f.order({shallots: 5})  # not from the old lot, though it expires first
    db.session.commit()
    assert lots_of(shallots)["BG-2610-OLD"] == (5, 0)
    assert lots_of(shallots)["BG-2611-A"] == (0, 0)
    assert order.lines[0].quantity == 5

    assert set_aside_due_lots() == 1
    assert set_aside_due_lots() == 0  # already done
    assert lots_of(shallots)["BG-2610-OLD"] == (0, 5)
    expired = db.session.scalar(select(StockMovement).where(StockMovement.reason == StockReason.EXPIRED))
    assert expired.delta == -5 and expired.lot.code == "BG-2610-OLD"
    stock_agrees(shallots)

    orders.transition(order, OrderStatus.CANCELLED, note="batal")  # its units go back to lots still on sale
    db.session.commit()
    stock_agrees(shallots)


def test_units_given_back_to_a_lot_set_aside_meanwhile_stay_off_sale(shallots):
    order = f.order({shallots: 3})  # from BG-2611-A (best before in 60 days)
    db.session.commit()
    db.session.execute(Lot.__table__.update().where(Lot.code == "BG-2611-A").values(best_before=days(10)))
    db.session.commit()
    set_aside_due_lots()

    orders.transition(order, OrderStatus.CANCELLED, note="batal")
    db.session.commit()

    assert lots_of(shallots)["BG-2611-A"] == (0, 4)  # its 1 unsold and the 3 given back
    assert db.session.get(Product, shallots.id).stock == 10
    stock_agrees(shallots)


@pytest.mark.parametrize("change, message", [
    ({"best_before": "produced"}, "tidak boleh lebih awal dari tanggal produksi"),
    ({"code": "BG-2612-B"}, "sudah punya batch BG-2612-B"),
    ({"quantity": 0}, "bilangan bulat dari 1"),
    ({"best_before": None}, "wajib punya tanggal produksi dan tanggal baik digunakan sebelum"),
    ({"code": "kode batch?"}, "Kode batch terdiri dari"),
])
def test_a_lot_that_cannot_be_right_is_refused_whole(shallots, change, message):
    values = {"code": "BG-2701-C", "produced_on": days(-1), "best_before": days(90), "quantity": 5, **change}
    if values["best_before"] == "produced":
        values["best_before"] = days(-3)
    with pytest.raises(LotInvalid) as refused:
        receive_lot(shallots, values["code"], values["produced_on"], values["best_before"], values["quantity"],
                    actor=None)
    db.session.rollback()
    assert message in " ".join(str(text) for text in refused.value.errors.values())
    assert set(lots_of(shallots)) == {"BG-2611-A", "BG-2612-B"}
    stock_agrees(shallots)


def test_a_craft_keeps_a_plain_stock_and_may_be_received_as_a_lot_without_dates():
    bag = f.product(name_id="Tas Rajut", stock=3)
    f.courier()
    f.order({bag: 1})
    db.session.commit()
    assert db.session.scalar(select(StockMovement.lot_id).where(StockMovement.product_id == bag.id)) is None

    receive_lot(bag, "RAJUT-01", None, None, 5, actor=None)  # crafts need no dates
    db.session.commit()
    f.order({bag: 3})  # the 2 units from before its first lot go first, then 1 of the lot
    db.session.commit()
    assert lots_of(bag) == {"RAJUT-01": (4, 0)}
    assert db.session.get(Product, bag.id).stock == 4


def test_staff_receive_a_lot_on_the_stock_screen_and_food_cannot_come_in_without_one(app, shallots):
    desk = logged_in(app, "fulfilment")
    refused = desk.post(f"/staf/stok/{shallots.id}/lot", data={"code": "BG-2701-C", "produced_on": "2026-13-01",
                                                               "best_before": "", "lot_quantity": "12"})
    assert "Isi tanggal, misalnya 2026-12-31." in text_of(refused)
    assert 'value="BG-2701-C"' in refused.get_data(as_text=True)  # what was typed stays

    desk.post(f"/staf/stok/{shallots.id}/lot", data={
        "code": "BG-2701-C", "produced_on": days(-1).isoformat(), "best_before": days(200).isoformat(),
        "lot_quantity": "12"})
    screen = desk.get(f"/staf/stok/{shallots.id}").get_data(as_text=True)
    assert "BG-2701-C" in screen and '<strong class="stock-count">26<' in screen
    assert lots_of(shallots)["BG-2701-C"] == (12, 0)
    stock_agrees(shallots)

    plain = text_of(desk.post(f"/staf/stok/{shallots.id}", data={"quantity": "5", "reason": "production"}))
    assert "masuk sebagai batch, dengan kode dan tanggalnya" in plain
    assert db.session.get(Product, shallots.id).stock == 26

    lot = db.session.scalar(select(Lot).where(Lot.code == "BG-2612-B"))
    desk.post(f"/staf/stok/{shallots.id}", data={"quantity": "-2", "reason": "damaged", "lot_id": str(lot.id),
                                                  "note": "kemasan sobek"})
    assert lots_of(shallots)["BG-2612-B"] == (8, 0)
    stock_agrees(shallots)


def test_the_command_receives_a_lot_and_refuses_what_cannot_be_right_writing_nothing(app, shallots):
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app.cli, ["batches", "receive", *args])

    done = run("bawang-goreng", "--lot", "BG-2701-C", "--produced", days(-2).isoformat(), "--best-before",
               days(180).isoformat(), "--quantity", "20")
    assert done.exit_code == 0, done.output
    assert "lot BG-2701-C received, 20 units" in done.output
    for args, said in (
            (("no-such", "--lot", "X1", "--quantity", "1"), "no product 'no-such'"),
            (("bawang-goreng", "--lot", "BG-2701-C", "--produced", days(-2).isoformat(), "--best-before",
              days(180).isoformat(), "--quantity", "3"), "sudah punya batch"),
            (("bawang-goreng", "--lot", "X2", "--produced", days(-2).isoformat(), "--best-before",
              days(-9).isoformat(), "--quantity", "3"), "tidak boleh lebih awal"),
            (("bawang-goreng", "--lot", "X3", "--produced", "2026-02-30", "--quantity", "3"), "YYYY-MM-DD"),
            (("bawang-goreng", "--lot", "X4", "--quantity", "-3"), "positive whole number"),
            (("bawang-goreng", "--lot", "X5", "--quantity", "2.5"), "positive whole number")):
        refused = run(*args)
        assert refused.exit_code != 0 and said in refused.output, (args, refused.output)
    assert set(lots_of(shallots)) == {"BG-2611-A", "BG-2612-B", "BG-2701-C"}
    stock_agrees(shallots)


def test_a_count_found_more_goes_to_an_opening_lot_that_is_sold_first(shallots):
    adjust_stock(shallots, 2, StockReason.CORRECTION, note="hitung ulang", actor=None)
    db.session.commit()
    assert lots_of(shallots)["AWAL"] == (2, 0)
    f.order({shallots: 3})
    db.session.commit()
    assert lots_of(shallots)["AWAL"] == (0, 0) and lots_of(shallots)["BG-2611-A"] == (3, 0)
    stock_agrees(shallots)


def buy_one(app, item_id: int, courier_id: int) -> str:
    """A buyer's checkout of one unit in a request of its own: "bought" or "sold out"."""
    with app.app_context():
        try:
            orders.place_order({item_id: 1}, f.BUYER, courier_id)
            db.session.commit()
            return "bought"
        except orders.OutOfStock:
            db.session.rollback()
            return "sold out"
        finally:
            db.session.remove()


@pytest.mark.skipif(not is_postgres(), reason="runs in the PostgreSQL pass of scripts/test (CI runs both)")
def test_buyers_racing_for_the_last_units_of_the_lots_never_oversell_a_lot(app):
    item = f.certified_food(stock=0)
    ship = f.courier()
    receive_lot(item, "A", days(-3), days(60), 3, actor=None)
    receive_lot(item, "B", days(-3), days(90), 2, actor=None)
    db.session.commit()
    item_id, courier_id = item.id, ship.id

    results = at_once(*[lambda: buy_one(app, item_id, courier_id) for _ in range(12)])

    assert results.count("bought") == 5 and results.count("sold out") == 7, results
    assert lots_of(item) == {"A": (0, 0), "B": (0, 0)}
    stock_agrees(item)


def test_the_packing_slip_and_the_label_name_each_lines_lots_and_best_before_dates(app, shallots):
    order = f.order({shallots: 6})
    db.session.commit()
    desk = logged_in(app, "fulfilment")
    slip = text_of(desk.get(f"/staf/pesanan/{order.number}/slip/{shallots.facility_id}"))
    label = text_of(desk.get(f"/staf/pesanan/{order.number}/label/{shallots.facility_id}"))
    assert f"4× BG-2611-A (baik digunakan sebelum {days(60).day} " in slip and "2× BG-2612-B" in slip
    assert "[BG-2611-A Baik sebelum" in label and "[BG-2612-B Baik sebelum" in label


def test_lots_that_leave_sale_within_two_weeks_show_on_the_staff_home_and_in_the_daily_mail(app, shallots,
                                                                                             smtp_inbox):
    receive_lot(shallots, "BG-SOON", days(-100), days(40), 7, actor=None)  # off sale in 10 days (40 - 30)
    db.session.commit()
    home = text_of(logged_in(app, "fulfilment").get("/staf"))
    assert "Batch mendekati tanggal baik digunakan sebelum" in home
    assert f"batch BG-SOON, 7 unit, berhenti dijual mulai {days(10).day} " in home
    assert "BG-2611-A" not in home  # 60 days: not yet

    jobs.certificate_alerts()
    jobs.certificate_alerts()  # the daily list goes once a day
    deliver_due()
    [mail] = [m for m in smtp_inbox.messages if "Batch mendekati" in m["Subject"]]
    assert "BG-SOON" in body(mail) and "harga lebih rendah" in body(mail)


def test_lots_received_and_sold_in_one_transaction_are_counted_right():
    """Lots change by UPDATE statements past the ORM: a sale in the same transaction as the receipt must see the
    units just received (it once took them as units in no lot)."""
    item = f.certified_food(stock=0)
    f.courier()
    one = receive_lot(item, "ONE", days(-3), days(60), 3, actor=None)  # kept: the session keeps its copies
    two = receive_lot(item, "TWO", days(-3), days(90), 4, actor=None)
    f.order({item: 5})  # no commit in between
    db.session.commit()
    assert one.code == "ONE" and two.code == "TWO"
    assert lots_of(item) == {"ONE": (0, 0), "TWO": (2, 0)}
    stock_agrees(item)


@pytest.mark.skipif(not is_postgres(), reason="runs in the PostgreSQL pass of scripts/test (CI runs both)")
def test_the_same_lot_received_twice_at_once_is_received_once(app):
    item = f.certified_food(stock=0)
    db.session.commit()
    item_id = item.id

    def receive() -> str:
        with app.app_context():
            try:
                receive_lot(db.session.get(Product, item_id), "DOUBLE", days(-1), days(90), 4, actor=None)
                db.session.commit()
                return "received"
            except LotInvalid as refused:
                db.session.rollback()
                return refused.errors["code"]
            finally:
                db.session.remove()

    results = at_once(receive, receive, receive)

    assert results.count("received") == 1, results
    assert all("sudah punya batch DOUBLE" in result for result in results if result != "received")
    assert lots_of(item) == {"DOUBLE": (4, 0)}
    stock_agrees(item)
