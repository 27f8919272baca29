"""Stock adjustments with a reason; the stock on hand is always explained by its movements."""

from __future__ import annotations

from sqlalchemy import select

from shop import demo
from shop.catalog import stock
from shop.catalog.models import Product, StockMovement, StockReason
from shop.extensions import db
from shop.orders import service as orders
from tests import factories as f
from tests.helpers import logged_in, text_of


def test_stock_on_hand_always_equals_the_sum_of_its_movements_through_orders_and_adjustments():
    demo.load(with_images=False)
    bag = db.session.scalar(select(Product).where(Product.slug == "tas-rajut-selempang"))
    staff = f.user("fulfilment")
    assert stock.movements_total(bag.id) == bag.stock == 15  # the opening movement of the demo seed

    placed = f.order({bag: 4})
    stock.adjust_stock(bag, 10, StockReason.PRODUCTION, note="batch November", actor=staff)
    stock.adjust_stock(bag, -2, StockReason.DAMAGED, note="benang lepas", actor=staff)
    orders.cancel_order(placed, reason="pembeli batal")
    f.order({bag: 3})
    db.session.commit()

    assert stock.current_stock(bag.id) == 15 - 4 + 10 - 2 + 4 - 3 == stock.movements_total(bag.id)
    reasons = [m.reason for m in db.session.scalars(select(StockMovement).order_by(StockMovement.id))
               if m.product_id == bag.id]
    assert reasons == [StockReason.OPENING, StockReason.ORDER, StockReason.PRODUCTION, StockReason.DAMAGED,
                       StockReason.ORDER_RELEASED, StockReason.ORDER]


def test_staff_adjust_stock_on_the_stock_screen_with_a_reason(app):
    item = f.product(name_id="Kursi Kayu Jati", stock=0)
    desk = logged_in(app, "fulfilment")

    no_reason = desk.post(f"/staf/stok/{item.id}", data={"quantity": "5", "reason": ""})
    assert "Pilih alasannya." in text_of(no_reason) and 'value="5"' in no_reason.get_data(as_text=True)
    too_many = desk.post(f"/staf/stok/{item.id}", data={"quantity": "-1", "reason": "damaged"})
    assert "Stok hanya 0: tidak bisa kurang dari nol." in text_of(too_many)
    desk.post(f"/staf/stok/{item.id}", data={"quantity": "5", "reason": "production", "note": "batch 12"})

    page = text_of(desk.get(f"/staf/stok/{item.id}"))
    assert "+5 hasil produksi diterima batch 12" in page
    assert stock.current_stock(item.id) == 5


def test_facility_staff_adjust_only_their_own_facilitys_stock(app):
    mine = f.product(name_id="Tas Rajut")
    theirs = f.product(name_id="Abon Ikan")
    clerk = logged_in(app, "facility", facility_id=mine.facility_id)

    assert clerk.get(f"/staf/stok/{theirs.id}").status_code == 403
    listing = text_of(clerk.get("/staf/stok"))
    assert "Tas Rajut" in listing and "Abon Ikan" not in listing
    clerk.post(f"/staf/stok/{mine.id}", data={"quantity": "-1", "reason": "correction", "note": "hitung ulang"})
    assert stock.current_stock(mine.id) == 9
