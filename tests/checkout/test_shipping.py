"""Shipping is priced per parcel: each facility's goods leave from its own region, priced by their own weight
to the buyer's province; the order keeps each parcel's price."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shop.accounts.models import Role
from shop.extensions import db
from shop.orders.models import Order
from shop.shipping.models import Courier, ShippingRate
from tests import factories as f
from tests.helpers import logged_in, text_of

JAKARTA = {"name": "Yusuf Hidayat", "email": "yusuf@example.id", "phone": "081234567890", "street": "Jl. Kemang 5",
           "rt_rw": "", "kelurahan": "Bangka", "kecamatan": "Mampang Prapatan", "city": "Jakarta Selatan",
           "province": "DKI Jakarta", "postal_code": "12730", "notes": ""}


@pytest.fixture
def two_regions():
    sulteng, jambi = f.region(name="Sulawesi Tengah"), f.region(name="Jambi")
    palu = f.facility(region=sulteng, name="Lapas Perempuan Kelas III Palu")
    tungkal = f.facility(region=jambi, name="Lapas Kelas IIB Kuala Tungkal", timezone="Asia/Jakarta")
    bag = f.product(facility=palu, name_id="Tas Rajut", price=175_000, weight_g=400, stock=9)
    chips = f.product(facility=tungkal, name_id="Keripik Nanas", price=20_000, weight_g=100, stock=9)
    jne = f.courier("jne", {"DKI Jakarta": (40_000, 30_000)})  # from any region without its own rate
    jne.rates.append(ShippingRate(origin_region_id=sulteng.id, province="DKI Jakarta", first_kg=32_000,
                                  next_kg=24_000))
    jne.rates.append(ShippingRate(origin_region_id=jambi.id, province="DKI Jakarta", first_kg=18_000, next_kg=12_000))
    only_sulteng = f.courier("pos", {})
    only_sulteng.rates.append(ShippingRate(origin_region_id=sulteng.id, province="DKI Jakarta", first_kg=20_000,
                                           next_kg=15_000))
    db.session.commit()
    return bag, chips, jne


def test_an_order_from_two_regions_ships_as_two_parcels_each_priced_from_its_own_region(client, two_regions):
    bag, chips, _jne = two_regions
    client.post("/keranjang/tambah", data={"product_id": bag.id, "quantity": 3})  # 1.2 kg from Palu
    client.post("/keranjang/tambah", data={"product_id": chips.id, "quantity": 3})  # 300 g from Kuala Tungkal

    quote = text_of(client.post("/checkout", data={**JAKARTA, "courier": "jne", "action": "quote"}))

    assert "Dikirim sebagai 2 paket" in quote
    assert "Dari Lapas Perempuan Kelas III Palu (Sulawesi Tengah), 1,2 kg: Rp56.000" in quote  # 32.000 + 24.000
    assert "Dari Lapas Kelas IIB Kuala Tungkal (Jambi), 300 g: Rp18.000" in quote
    assert "Rp74.000" in quote  # the two parcels together
    response = client.post("/checkout", data={**JAKARTA, "courier": "jne", "action": "place"})

    assert response.status_code == 302
    order = db.session.scalar(select(Order))
    assert order.shipping_cost == 74_000 and order.total == 3 * 175_000 + 3 * 20_000 + 74_000
    assert [(p.facility_name, p.origin, p.weight_g, p.shipping_cost) for p in order.parcels] == [
        ("Lapas Perempuan Kelas III Palu", "Sulawesi Tengah", 1_200, 56_000),
        ("Lapas Kelas IIB Kuala Tungkal", "Jambi", 300, 18_000)]
    page = text_of(client.get(f"/pesanan/{order.number}"))
    assert "paket dari Lapas Perempuan Kelas III Palu, 1,2 kg Rp56.000" in page
    assert "paket dari Lapas Kelas IIB Kuala Tungkal, 300 g Rp18.000" in page


def test_a_courier_that_cannot_carry_every_parcel_is_not_offered(client, two_regions):
    bag, chips, _jne = two_regions
    client.post("/keranjang/tambah", data={"product_id": bag.id})
    client.post("/keranjang/tambah", data={"product_id": chips.id})

    html = client.post("/checkout", data={**JAKARTA, "action": "quote"}).get_data(as_text=True)
    assert 'value="jne"' in html and 'value="pos"' not in html  # POS has no rate from Jambi

    refused = client.post("/checkout", data={**JAKARTA, "courier": "pos", "action": "place"})
    assert refused.status_code == 200 and db.session.scalar(select(Order)) is None


def test_asking_for_shipping_prices_without_a_province_says_what_is_missing(client, two_regions):
    bag, _chips, _jne = two_regions
    client.post("/keranjang/tambah", data={"product_id": bag.id})

    html = client.post("/checkout", data={**JAKARTA, "province": "", "action": "quote"}).get_data(as_text=True)

    assert "Pilih provinsi Anda dulu: ongkos kirim bergantung padanya." in html
    assert "Jl. Kemang 5" in html  # what was typed stays


def test_each_courier_shows_its_delivery_estimate_and_the_prices_come_back_in_view(client, two_regions):
    """The slowest parcel sets the estimate; "Show shipping prices" returns at the couriers (#couriers), while
    placing the order keeps the page's plain address (its errors may be above)."""
    bag, chips, jne = two_regions
    for rate in jne.rates:
        rate.days_min, rate.days_max = (2, 3) if rate.origin_region_id else (4, 4)
    jne.rates[-1].days_min, jne.rates[-1].days_max = 3, 6  # from Jambi
    db.session.commit()
    client.post("/keranjang/tambah", data={"product_id": bag.id})
    client.post("/keranjang/tambah", data={"product_id": chips.id})

    html = client.post("/checkout", data={**JAKARTA, "action": "quote"}).get_data(as_text=True)

    # Palu 2–3 days, Kuala Tungkal 3–6: the order arrives in 3–6
    assert "· 3–6 hari" in text_of(client.post("/checkout", data={**JAKARTA, "action": "quote"}))
    assert 'formaction="/checkout#couriers"' in html and 'id="couriers"' in html
    assert '<form method="post" action="/checkout"' in html


def test_a_bulky_parcel_is_priced_by_its_volumetric_weight_when_that_is_more(client):
    """#23.17: a 7 kg teak chair packed 50 × 50 × 95 cm weighs 39.58 kg to a courier dividing by 6000; a courier by
    weight alone (divisor 0) charges its 7 kg."""
    region = f.region(name="Sulawesi Tengah")
    chair = f.product(facility=f.facility(region=region), name_id="Kursi Kayu Jati", price=1_250_000,
                      weight_g=7_000, stock=3)
    chair.length_cm, chair.width_cm, chair.height_cm = 50, 50, 95
    f.courier("jne", {"DKI Jakarta": (40_000, 30_000)})  # divides by 6000
    by_weight = f.courier("kargo", {"DKI Jakarta": (40_000, 30_000)})
    by_weight.volumetric_divisor = 0
    db.session.commit()
    client.post("/keranjang/tambah", data={"product_id": chair.id})

    quote = text_of(client.post("/checkout", data={**JAKARTA, "courier": "jne", "action": "quote"}))

    assert "dihitung 39,58 kg menurut ukurannya" in quote  # 237,500 cm³ ÷ 6000
    assert f"Rp{40_000 + 39 * 30_000:,}".replace(",", ".") in quote  # 40 started kilograms
    assert f"Rp{40_000 + 6 * 30_000:,}".replace(",", ".") in quote  # the cargo courier: 7 kg


def test_a_parcel_in_a_wooden_crate_carries_the_couriers_crate_fee_and_says_so(client):
    """#23.17: furniture ships in a wooden crate (packing kayu), which the courier charges per parcel."""
    chair = f.product(name_id="Kursi Kayu Jati", price=1_250_000, weight_g=7_000, stock=3)
    chair.needs_crate = True
    bag = f.product(name_id="Tas Rajut", price=175_000, weight_g=400, stock=3)
    jne = f.courier("jne", {"DKI Jakarta": (40_000, 30_000)})
    jne.volumetric_divisor, jne.crate_fee = 0, 75_000
    db.session.commit()
    client.post("/keranjang/tambah", data={"product_id": chair.id})
    client.post("/keranjang/tambah", data={"product_id": bag.id})  # another facility: its own parcel, no crate

    quote = text_of(client.post("/checkout", data={**JAKARTA, "courier": "jne", "action": "quote"}))

    assert "dengan packing kayu, Rp75.000" in quote
    assert f"Rp{40_000 + 6 * 30_000 + 75_000:,}".replace(",", ".") in quote  # 7 kg and the crate
    assert quote.count("packing kayu") == 1  # the bag's parcel has none
    response = client.post("/checkout", data={**JAKARTA, "courier": "jne", "action": "place"})
    assert response.status_code == 302
    order = db.session.scalar(select(Order))
    assert sorted(p.shipping_cost for p in order.parcels) == [40_000, 40_000 + 6 * 30_000 + 75_000]


def test_a_cargo_service_carries_furniture_at_its_least_weight_and_is_not_offered_for_small_goods(client):
    """#23.17: a cargo service (trucking) is cheaper per kilogram but charges every parcel at least its least
    weight; it is offered for the teak chair, and the buyer is told it is cargo and what each parcel is charged
    by, but not for a lone 400 g bag (always dearer there), nor can such an order be placed with it."""
    region = f.region(name="Sulawesi Tengah")
    palu, tungkal = f.facility(region=region), f.facility(region=region)
    chair = f.product(facility=palu, name_id="Kursi Kayu Jati", price=1_250_000, weight_g=7_000, stock=3)
    chair.length_cm, chair.width_cm, chair.height_cm = 50, 50, 95
    bag = f.product(facility=tungkal, name_id="Tas Rajut", price=175_000, weight_g=400, stock=3)
    f.courier("jne", {"DKI Jakarta": (40_000, 30_000)})
    truck = f.courier("jtr", {"DKI Jakarta": (12_000, 10_000)})
    truck.cargo, truck.min_weight_g, truck.volumetric_divisor = True, 10_000, 4000
    db.session.commit()

    client.post("/keranjang/tambah", data={"product_id": bag.id})
    only_bag = text_of(client.post("/checkout", data={**JAKARTA, "action": "quote"}))
    assert "kargo untuk barang besar" not in only_bag
    refused = client.post("/checkout", data={**JAKARTA, "courier": "jtr", "action": "place"})
    assert refused.status_code == 200 and db.session.scalar(select(Order)) is None

    client.post("/keranjang/tambah", data={"product_id": chair.id})
    quote = text_of(client.post("/checkout", data={**JAKARTA, "courier": "jtr", "action": "quote"}))
    assert "kargo untuk barang besar, minimal 10 kg per paket" in quote
    assert "dihitung 59,38 kg menurut ukurannya" in quote  # 237,500 cm³ ÷ 4000
    assert "dihitung 10 kg, bobot terendah yang ditagih layanan kargo" in quote  # the bag's parcel
    chair_price, bag_price = 12_000 + 59 * 10_000, 12_000 + 9 * 10_000
    assert f"Rp{chair_price:,}".replace(",", ".") in quote and f"Rp{bag_price:,}".replace(",", ".") in quote

    assert client.post("/checkout", data={**JAKARTA, "courier": "jtr", "action": "place"}).status_code == 302
    order = db.session.scalar(select(Order))
    assert sorted(p.shipping_cost for p in order.parcels) == sorted([chair_price, bag_price])


def test_the_admin_makes_a_courier_a_cargo_service_with_its_least_weight(app):
    truck = f.courier("jtr", {"DKI Jakarta": (12_000, 10_000)})
    db.session.commit()
    admin = logged_in(app, Role.ADMIN)
    refused = admin.post(f"/staf/kurir/{truck.id}", data={"volumetric_divisor": "4000", "crate_fee": "0",
                                                          "cargo": "1", "min_weight_kg": ""}, follow_redirects=True)
    assert "bobot terendah yang ditagih per paket" in text_of(refused)
    db.session.expire_all()
    assert db.session.get(Courier, truck.id).cargo is False
    admin.post(f"/staf/kurir/{truck.id}", data={"volumetric_divisor": "4000", "crate_fee": "0", "cargo": "1",
                                                "min_weight_kg": "10"})
    db.session.expire_all()
    saved = db.session.get(Courier, truck.id)
    assert (saved.cargo, saved.min_weight_g, saved.volumetric_divisor) == (True, 10_000, 4000)
    assert "layanan kargo" in text_of(admin.get("/staf/audit"))


def test_a_landline_is_told_it_gets_no_whatsapp_as_soon_as_prices_are_asked_for(client):
    """#23.8: the courier can call a landline but cannot message it on WhatsApp; a mobile number hears nothing."""
    bag = f.product(name_id="Tas Rajut", price=175_000, weight_g=400, stock=3)
    f.courier("jne", {"DKI Jakarta": (40_000, 30_000)})
    db.session.commit()
    client.post("/keranjang/tambah", data={"product_id": bag.id})

    landline = text_of(client.post("/checkout", data={**JAKARTA, "phone": "021 7654 321", "action": "quote"}))
    mobile = text_of(client.post("/checkout", data={**JAKARTA, "action": "quote"}))

    assert "tidak bisa menerima pesan WhatsApp" in landline
    assert "tidak bisa menerima pesan WhatsApp" not in mobile
