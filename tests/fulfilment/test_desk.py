"""The fulfilment desk: from a paid order to delivered, with one parcel per facility, slips, labels and mail."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from shop.catalog.models import Product
from shop.extensions import db
from shop.fulfilment.models import Shipment
from shop.orders import service as orders
from shop.orders.models import OrderStatus
from shop.payments.models import Payment, PaymentMethod, PaymentStatus
from tests import factories as f
from tests.helpers import logged_in, text_of


def paid_order(items, method=PaymentMethod.BANK_TRANSFER):
    order = f.order(items)
    db.session.add(Payment(order=order, method=method, amount=order.total, status=PaymentStatus.SUCCEEDED))
    orders.mark_paid(order)
    db.session.commit()
    return order


@pytest.fixture
def two_facility_order():
    palu = f.facility(name="Lapas Perempuan Kelas III Palu")
    tungkal = f.facility(name="Lapas Kelas IIB Kuala Tungkal")
    bag = f.product(facility=palu, name_id="Tas Rajut", weight_g=400)
    chips = f.product(facility=tungkal, name_id="Keripik Nanas", weight_g=100)
    return paid_order({bag: 1, chips: 3}), palu, tungkal


def test_a_paid_order_goes_from_queue_to_delivered_with_a_parcel_per_facility(app, two_facility_order, smtp_inbox):
    order, palu, tungkal = two_facility_order
    desk = logged_in(app, "fulfilment")
    jne = db.session.scalar(select(f.Courier))

    queue = text_of(desk.get("/staf/pesanan"))
    assert order.number in queue
    screen = text_of(desk.get(f"/staf/pesanan/{order.number}"))
    assert "Lapas Perempuan Kelas III Palu" in screen and "Lapas Kelas IIB Kuala Tungkal" in screen

    desk.post(f"/staf/pesanan/{order.number}/kemas")
    desk.post(f"/staf/pesanan/{order.number}/kirim",
              data={"facility_id": palu.id, "courier_id": jne.id, "tracking_number": "jne0012345"})
    db.session.expire_all()
    assert order.status is OrderStatus.PACKED  # one parcel still to go
    desk.post(f"/staf/pesanan/{order.number}/kirim",
              data={"facility_id": tungkal.id, "courier_id": jne.id, "tracking_number": "JNE0067890"})
    db.session.expire_all()
    assert order.status is OrderStatus.SHIPPED

    assert [m["Subject"] for m in smtp_inbox.messages] == [f"Pesanan {order.number} Anda sedang dikirim"] * 2
    assert "JNE0012345" in smtp_inbox.messages[0].get_payload()[0].get_payload(decode=True).decode()

    desk.post(f"/staf/pesanan/{order.number}/diterima")
    db.session.expire_all()
    assert order.status is OrderStatus.DELIVERED
    moves = [(e.from_status, e.to_status) for e in order.events if e.to_status]
    assert moves[-3:] == [(OrderStatus.PAID, OrderStatus.PACKED), (OrderStatus.PACKED, OrderStatus.SHIPPED),
                          (OrderStatus.SHIPPED, OrderStatus.DELIVERED)]

    buyer = app.test_client()
    buyer.post("/pesanan/lacak", data={"number": order.number, "email": order.email})
    page = text_of(buyer.get(f"/pesanan/{order.number}"))
    assert "JNE0012345" in page and "JNE0067890" in page and "diterima" in page
    history = page.split("Riwayat", 1)[1]
    assert history.count("pesanan dibuat") == 1  # the first parcel's event is not shown as "order placed"
    assert f"paket dikirim lewat {jne.name}, nomor resi JNE0012345" in history
    assert f"dikirim — paket dikirim lewat {jne.name}, nomor resi JNE0067890" in history
    assert "parcel shipped" not in page and "order placed" not in page and "bank transfer" not in page
    staff = text_of(desk.get(f"/staf/pesanan/{order.number}"))
    assert f"paket dikirim lewat {jne.name}, nomor resi JNE0012345" in staff and "parcel shipped" not in staff


def test_shipping_needs_packing_first_and_a_tracking_number(app, two_facility_order):
    order, palu, _tungkal = two_facility_order
    desk = logged_in(app, "fulfilment")
    courier = db.session.scalar(select(f.Courier))

    early = desk.post(f"/staf/pesanan/{order.number}/kirim", follow_redirects=True,
                      data={"facility_id": palu.id, "courier_id": courier.id, "tracking_number": "X1"})
    assert "Tandai pesanan dikemas sebelum mengirimnya." in text_of(early)
    desk.post(f"/staf/pesanan/{order.number}/kemas")
    blank = desk.post(f"/staf/pesanan/{order.number}/kirim", follow_redirects=True,
                      data={"facility_id": palu.id, "courier_id": courier.id, "tracking_number": " "})
    assert "Masukkan nomor resi." in text_of(blank)
    twice = desk.post(f"/staf/pesanan/{order.number}/diterima", follow_redirects=True)
    assert "Tidak bisa sekarang: pesanan berstatus dikemas." in text_of(twice)


def test_cancelling_a_paid_order_releases_stock_and_refunds_what_was_paid(app, two_facility_order):
    order, _palu, _tungkal = two_facility_order
    desk = logged_in(app, "fulfilment")
    line = order.lines[1]

    refused = desk.post(f"/staf/pesanan/{order.number}/batal", data={"reason": "stok rusak"}, follow_redirects=True)
    assert "masukkan referensi transfer" in text_of(refused)
    page = refused.get_data(as_text=True)  # the cancel form open again, the reason as typed
    assert "<details open><summary>Batalkan pesanan" in page and ">stok rusak</textarea>" in page
    desk.post(f"/staf/pesanan/{order.number}/batal",
              data={"reason": "stok rusak", "transfer_reference": "BRI 777"})

    db.session.expire_all()
    assert order.status is OrderStatus.CANCELLED
    payment = db.session.scalar(select(Payment))
    assert payment.refunded == order.total and payment.refunds[0].transfer_reference == "BRI 777"
    assert db.session.scalar(select(Product.stock).where(Product.id == line.product_id)) == 10


def test_internal_notes_are_kept_but_not_shown_to_the_buyer(app, two_facility_order):
    order, _palu, _tungkal = two_facility_order
    desk = logged_in(app, "fulfilment")
    desk.post(f"/staf/pesanan/{order.number}/catatan", data={"note": "pembeli minta dikirim Senin"})

    assert "pembeli minta dikirim Senin" in text_of(desk.get(f"/staf/pesanan/{order.number}"))
    buyer = app.test_client()
    buyer.post("/pesanan/lacak", data={"number": order.number, "email": order.email})
    assert "dikirim Senin" not in text_of(buyer.get(f"/pesanan/{order.number}"))


def test_slip_and_label_are_printable_per_facility(app, two_facility_order):
    order, palu, tungkal = two_facility_order
    desk = logged_in(app, "fulfilment")

    slip = text_of(desk.get(f"/staf/pesanan/{order.number}/slip/{palu.id}"))
    label = desk.get(f"/staf/pesanan/{order.number}/label/{tungkal.id}").get_data(as_text=True)

    assert "Tas Rajut" in slip and "Keripik Nanas" not in slip and order.number in slip
    assert "Jl. Sisingamangaraja 12" in label and "print.css" in label
    assert "300 g" in label and "100 g" not in label  # 3 packs of 100 g: the parcel's weight, not one unit's
    assert "400 g" in slip
    assert desk.get(f"/staf/pesanan/{order.number}/slip/999").status_code == 404


def test_the_label_carries_what_couriers_ask_at_drop_off(app, two_facility_order):
    """The sender's street address and phone, the order number as a QR code, the parcel's contents, NON-COD."""
    order, _palu, tungkal = two_facility_order
    desk = logged_in(app, "fulfilment")
    contact = app.config["SHOP_CONTACT"]

    html = desk.get(f"/staf/pesanan/{order.number}/label/{tungkal.id}").get_data(as_text=True)
    label = text_of(desk.get(f"/staf/pesanan/{order.number}/label/{tungkal.id}"))

    assert contact["address"] in label and contact["phone"] in label
    assert re.search(r"<svg[^>]*>\s*<title>" + order.number + "</title>", html)  # the QR code, named
    assert "Isi paket (300 g): 3× Keripik Nanas" in label and "Tas Rajut" not in label
    assert "NON-COD" in label and "sudah dibayar" in label


def test_the_queue_puts_paid_orders_first_oldest_first_with_counts_and_filters(app, two_facility_order):
    first, palu, _tungkal = two_facility_order
    second = paid_order({f.product(): 1})
    packed = paid_order({f.product(): 1})
    orders.transition(packed, OrderStatus.PACKED)
    db.session.commit()
    desk = logged_in(app, "finance")  # finance may read the desk

    html = desk.get("/staf/pesanan").get_data(as_text=True)
    assert html.index(first.number) < html.index(second.number) < html.index(packed.number)
    assert 'data-count="paid">2<' in html and 'data-count="packed">1<' in html
    only_palu = desk.get(f"/staf/pesanan?facility={palu.id}").get_data(as_text=True)
    assert first.number in only_palu and second.number not in only_palu
    assert desk.post(f"/staf/pesanan/{first.number}/kemas").status_code == 403


def test_the_queue_runs_a_fixed_number_of_queries(app, count_queries):
    desk = logged_in(app, "fulfilment")
    counts = []
    for size in (2, 15):
        for _ in range(size):
            paid_order({f.product(): 1})
        with count_queries() as counter:
            assert desk.get("/staf/pesanan").status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


def test_a_resi_is_checked_and_another_courier_than_the_buyer_paid_for_needs_a_tick(app, two_facility_order):
    """#23.21: a resi of the wrong shape is refused (spaces as printed on the receipt are fine); shipping with a
    courier other than the one the buyer paid for needs staff to say they mean it."""
    order, palu, tungkal = two_facility_order
    desk = logged_in(app, "fulfilment")
    other = f.courier("jnt")
    db.session.commit()
    desk.post(f"/staf/pesanan/{order.number}/kemas")

    def ship(facility, **form):
        return text_of(desk.post(f"/staf/pesanan/{order.number}/kirim", follow_redirects=True,
                                 data={"facility_id": facility.id, **form}))

    assert "Nomor resi terdiri dari 8 sampai 40 huruf dan angka" in ship(
        palu, courier_id=order.courier_id, tracking_number="12/34")
    assert "Pembeli membayar untuk kurir lain: centang kotaknya" in ship(
        palu, courier_id=other.id, tracking_number="JP1234567890")
    assert f"Pembeli membayar untuk {order.courier.name}; tetap kirim dengan kurir lain" in text_of(
        desk.get(f"/staf/pesanan/{order.number}"))
    ship(palu, courier_id=other.id, tracking_number="JP 1234 5678 90", other_courier="1")
    ship(tungkal, courier_id=order.courier_id, tracking_number="jne-0067890")

    shipped = {s.facility_id: (s.courier_id, s.tracking_number) for s in db.session.scalars(select(Shipment))}
    assert shipped == {palu.id: (other.id, "JP1234567890"), tungkal.id: (order.courier_id, "JNE-0067890")}


def test_each_parcel_is_marked_delivered_on_its_own_and_the_last_one_delivers_the_order(app, two_facility_order):
    """#23.21: parcels from two facilities travel apart; "received" is said per parcel, and the order is delivered
    when the last one arrives."""
    order, palu, tungkal = two_facility_order
    desk = logged_in(app, "fulfilment")
    desk.post(f"/staf/pesanan/{order.number}/kemas")
    for facility, resi in ((palu, "JNE0012345"), (tungkal, "JNE0067890")):
        desk.post(f"/staf/pesanan/{order.number}/kirim",
                  data={"facility_id": facility.id, "courier_id": order.courier_id, "tracking_number": resi})

    assert text_of(desk.get(f"/staf/pesanan/{order.number}")).count("Paket ini sudah diterima") == 2
    desk.post(f"/staf/pesanan/{order.number}/diterima", data={"facility_id": palu.id})
    db.session.expire_all()
    assert order.status is OrderStatus.SHIPPED  # one parcel still on its way
    twice = desk.post(f"/staf/pesanan/{order.number}/diterima", data={"facility_id": palu.id}, follow_redirects=True)
    assert "Paket ini sudah ditandai diterima." in text_of(twice)
    desk.post(f"/staf/pesanan/{order.number}/diterima", data={"facility_id": tungkal.id})
    db.session.expire_all()
    assert order.status is OrderStatus.DELIVERED
    assert all(s.delivered_at for s in db.session.scalars(select(Shipment)))
