"""Admin screens: users and roles, couriers and rates, facilities and categories, product prices; all audited.
The audit log can be read and filtered, never changed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shop.accounts.models import User
from shop.audit.models import AuditEntry, AuditLogIsAppendOnly
from shop.audit.service import record
from shop.extensions import db
from shop.shipping.models import ShippingRate
from tests import factories as f
from tests.helpers import text_of


@pytest.fixture
def admin(app):
    user = f.user("admin", email="admin@koperasi.id")
    db.session.commit()
    client = app.test_client()
    client.post("/masuk", data={"email": user.email, "password": f.PASSWORD})
    return client


def actions() -> list[str]:
    return [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_an_admin_creates_a_user_and_changes_roles_and_the_log_shows_before_and_after(app, admin):
    facility = f.facility()
    db.session.commit()
    admin.post("/staf/pengguna", data={"email": "rina@koperasi.id", "name": "Rina", "password": "kata sandi baru",
                                       "roles": ["fulfilment"]})
    rina = db.session.scalar(select(User).where(User.email == "rina@koperasi.id"))
    admin.post(f"/staf/pengguna/{rina.id}", data={"roles": ["facility"], "facility_id": facility.id, "active": "1"})

    db.session.expire_all()
    assert rina.roles == ["facility"] and rina.facility_id == facility.id
    change = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.update"))
    assert change.before["roles"] == ["fulfilment"] and change.after["roles"] == ["facility"]
    assert change.actor_email == "admin@koperasi.id"
    log = text_of(admin.get("/staf/audit?action=user."))
    assert "pengguna diubah" in log and "pengguna ditambahkan" in log and "kata sandi baru" not in log


def test_an_admin_cannot_lock_themself_out(app, admin):
    me = db.session.scalar(select(User).where(User.email == "admin@koperasi.id"))
    response = admin.post(f"/staf/pengguna/{me.id}", data={"roles": ["finance"], "active": "1"},
                          follow_redirects=True)
    db.session.refresh(me)
    assert me.roles == ["admin"] and "Tidak disimpan" in text_of(response)
    assert "mencabut peran admin Anda sendiri" in text_of(response)


@pytest.mark.parametrize(("data", "problem"), [
    ({"email": "bukan email", "password": "kata sandi baru"}, "masukkan alamat email yang benar"),
    ({"email": "rina@koperasi.id", "password": "pendek"}, "kata sandi perlu paling sedikit"),
    ({"email": "admin@koperasi.id", "password": "kata sandi baru"},
     "pengguna dengan email admin@koperasi.id sudah ada"),
    ({"email": "rina@koperasi.id", "password": "kata sandi baru", "roles": ["facility"]}, "staf UPT perlu UPT-nya"),
    ({"email": "rina@koperasi.id", "password": "kata sandi baru", "roles": ["kepala"]}, "pilih peran dari daftar"),
])
def test_a_user_that_cannot_be_created_is_explained_in_the_admins_language(admin, data, problem):
    page = text_of(admin.post("/staf/pengguna", data=data, follow_redirects=True))
    assert "Pengguna tidak dibuat" in page and problem in page
    assert db.session.scalar(select(User).where(User.email == "rina@koperasi.id")) is None

    admin.get("/bahasa/en")
    english = text_of(admin.post("/staf/pengguna", data=data, follow_redirects=True))
    assert "The user was not created" in english and problem not in english


def test_deactivating_a_user_logs_them_out_at_once(app, admin):
    clerk = f.user("fulfilment")
    db.session.commit()
    session = app.test_client()
    session.post("/masuk", data={"email": clerk.email, "password": f.PASSWORD})
    assert session.get("/staf").status_code == 200

    admin.post(f"/staf/pengguna/{clerk.id}", data={"roles": ["fulfilment"]})

    assert session.get("/staf").status_code == 302


def test_an_admin_sets_how_a_courier_charges_bulky_parcels(app, admin):
    """#23.17: the volumetric divisor and the wooden crate fee are the admin's to set, audited; nonsense refused."""
    courier = f.courier("jne")
    db.session.commit()
    assert 'name="volumetric_divisor" inputmode="numeric" size="6" value="6000"' in admin.get(
        "/staf/kurir").get_data(as_text=True)

    refused = text_of(admin.post(f"/staf/kurir/{courier.id}", follow_redirects=True,
                                 data={"volumetric_divisor": "enam ribu", "crate_fee": "75.000"}))
    admin.post(f"/staf/kurir/{courier.id}", data={"volumetric_divisor": "5000", "crate_fee": "Rp75.000"})

    assert "Masukkan pembagi (misalnya 6000" in refused
    db.session.expire_all()
    assert (courier.volumetric_divisor, courier.crate_fee) == (5000, 75_000)
    log = text_of(admin.get("/staf/audit")).replace(" :", ":")
    assert "pembagi volumetrik: 6000 → 5000" in log and "biaya packing kayu: Rp0 → Rp75.000" in log


def test_rates_facilities_and_categories_are_edited_and_audited(app, admin):
    courier = f.courier("jne")
    facility = f.facility(name="Rutan Donggala")
    category = f.category()
    db.session.commit()

    admin.post(f"/staf/kurir/{courier.id}", data={"province": "Papua", "first_kg": "70.000", "next_kg": "55000"})
    admin.post(f"/staf/fasilitas/{facility.id}", data={"name": "Rutan Kelas IIB Donggala", "city": "Donggala",
                                                       "story_id": "Tenun ikat", "active": "1"})
    admin.post(f"/staf/kategori/{category.id}", data={"name_id": "Olahan Pangan", "required_certs": ["halal"]})

    rate = db.session.scalar(select(ShippingRate).where(ShippingRate.province == "Papua"))
    assert (rate.first_kg, rate.next_kg) == (70_000, 55_000)
    db.session.expire_all()
    assert facility.name == "Rutan Kelas IIB Donggala" and category.required_certs == ["halal"]
    assert actions() == ["shipping_rate.update", "facility.update", "category.update"]


def test_a_price_change_is_audited_with_the_old_and_new_price(app, admin):
    item = f.product(name_id="Tas Rajut", price=175_000)
    db.session.commit()

    bad = admin.post(f"/staf/produk/{item.id}", data={"name_id": "Tas Rajut", "price": "mahal", "weight_g": "400"})
    assert "Masukkan bilangan bulat" in text_of(bad) and 'value="mahal"' in bad.get_data(as_text=True)
    admin.post(f"/staf/produk/{item.id}", data={"name_id": "Tas Rajut", "price": "185.000", "weight_g": "400",
                                                "active": "1"})

    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "product.price"))
    assert entry.before["price"] == 175_000 and entry.after["price"] == 185_000


def test_the_audit_log_reads_in_the_readers_language_with_objects_by_name(app, admin):
    from shop.fulfilment import service as desk
    from shop.orders import service as orders
    from shop.payments.models import Payment, PaymentMethod, PaymentStatus

    item = f.product(name_id="Tas Rajut", price=175_000)
    order = f.order({item: 1})
    db.session.add(Payment(order=order, method=PaymentMethod.BANK_TRANSFER, amount=order.total,
                           status=PaymentStatus.SUCCEEDED))
    orders.mark_paid(order)
    desk.mark_packed(order, actor=None)
    db.session.commit()
    admin.post(f"/staf/produk/{item.id}", data={"name_id": "Tas Rajut", "price": "185.000", "weight_g": "400",
                                                "active": "1"})

    html = admin.get("/staf/audit").get_data(as_text=True)
    log = text_of(admin.get("/staf/audit")).replace(" :", ":")
    assert "pesanan dikemas" in log and order.number in log and "Order #" not in log
    assert "status: dikemas" in log and "{'status'" not in html and "{&#39;status" not in html
    assert "harga diubah" in log and "harga: Rp175.000 → Rp185.000" in log
    assert f'href="/staf/pesanan/{order.number}"' in html and f'href="/staf/produk/{item.id}"' in html
    admin.get("/bahasa/en")
    assert "order packed" in text_of(admin.get("/staf/audit"))


def test_stock_notes_in_the_audit_log_name_the_reason_in_words(app, admin):
    from shop.catalog.models import StockReason
    from shop.catalog.stock import adjust_stock

    item = f.product(name_id="Tas Rajut", stock=5)
    adjust_stock(item, -1, StockReason.DAMAGED, note="jahitan lepas", actor=None)
    db.session.commit()

    log = text_of(admin.get("/staf/audit"))

    assert "rusak: jahitan lepas" in log and "damaged" not in log


def test_the_audit_log_cannot_be_changed_or_deleted():
    entry = record("test.entry", ("Thing", 1), None, {"x": 1})
    db.session.commit()

    entry.note = "rewritten"
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEntry, entry.id))
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()


def test_the_audit_log_has_no_edit_or_delete_routes(app):
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("audit.")]
    assert [r.rule for r in rules] == ["/staf/audit"] and all(r.methods <= {"GET", "HEAD", "OPTIONS"} for r in rules)


def test_facility_staff_add_a_product_to_their_own_facility_with_its_opening_stock(app):
    from shop.catalog import stock
    from shop.catalog.models import Product
    from tests.helpers import logged_in

    own = f.facility()
    other = f.facility()
    category = f.category()
    clerk = logged_in(app, "facility", facility_id=own.id)

    refused = clerk.post("/staf/produk/baru", data={"facility_id": other.id, "category_id": category.id,
                                                    "name_id": "Tas", "price": "1000", "weight_g": "100"})
    missing = clerk.post("/staf/produk/baru", data={"facility_id": own.id, "name_id": "Tas Rajut Mini",
                                                    "price": "", "weight_g": "200"})
    clerk.post("/staf/produk/baru", data={"facility_id": own.id, "category_id": category.id,
                                          "name_id": "Tas Rajut Mini", "price": "95.000", "weight_g": "200",
                                          "stock": "12", "active": "1"})

    assert refused.status_code == 403
    assert "Pilih kategori." in text_of(missing) and 'value="Tas Rajut Mini"' in missing.get_data(as_text=True)
    product = db.session.scalar(select(Product).where(Product.slug == "tas-rajut-mini"))
    assert (product.price, product.stock, product.facility_id) == (95_000, 12, own.id)
    assert stock.movements_total(product.id) == 12
    assert "Tas Rajut Mini" in text_of(app.test_client().get("/produk/tas-rajut-mini"))
    assert [e.action for e in db.session.scalars(select(AuditEntry).where(AuditEntry.target_type == "Product"))] \
        == ["product.create"]


def test_the_new_product_form_takes_prices_as_written_says_every_problem_at_once_and_saves_text_and_photo(app):
    """#23.26: "Rp35.000" is 35000; every wrong field in one round; a facility's own staff find their facility
    chosen; the description and a photo go in with the first save; the opening stock has no English note."""
    import io

    from shop.catalog.models import Product, ProductImage, StockMovement
    from tests.helpers import logged_in

    own, category = f.facility(), f.category()
    clerk = logged_in(app, "facility", facility_id=own.id)

    form = clerk.get("/staf/produk/baru").get_data(as_text=True)
    assert f'<option value="{own.id}" selected>' in form and 'enctype="multipart/form-data"' in form

    everything_wrong = text_of(clerk.post("/staf/produk/baru", data={
        "facility_id": own.id, "name_id": "", "price": "tiga puluh", "weight_g": "0", "stock": "banyak"}))
    for message in ("Pilih kategori.", "Kolom ini wajib diisi.", "Masukkan jumlah stok sebagai bilangan bulat"):
        assert message in everything_wrong
    assert everything_wrong.count("Masukkan bilangan bulat (rupiah atau gram)") == 2  # the price and the weight

    saved = clerk.post("/staf/produk/baru", content_type="multipart/form-data", data={
        "facility_id": own.id, "category_id": category.id, "name_id": "Bawang Goreng", "price": "Rp35.000",
        "unit_cost": "Rp 14.000,-", "weight_g": "250", "stock": "10", "description_id": "Bawang merah Palu.",
        "description_en": "Palu shallots.", "photo": (io.BytesIO(f.PNG), "bawang.png")})

    assert saved.status_code == 302
    product = db.session.scalar(select(Product).where(Product.slug == "bawang-goreng"))
    assert (product.price, product.unit_cost, product.description_id) == (35_000, 14_000, "Bawang merah Palu.")
    assert db.session.scalar(select(ProductImage).where(ProductImage.product_id == product.id)) is not None
    assert db.session.scalar(select(StockMovement.note).where(StockMovement.product_id == product.id)) == ""
    assert "stok awal" in text_of(clerk.get(f"/staf/stok/{product.id}"))


def test_products_added_with_the_same_name_at_the_same_moment_each_get_their_own_address(app):
    from shop.catalog.models import Product
    from tests.helpers import at_once, logged_in

    own, category = f.facility(), f.category()
    clerks = [logged_in(app, "fulfilment") for _ in range(3)]
    form = {"facility_id": own.id, "category_id": category.id, "name_id": "Bawang Goreng Khas Palu (250 g)",
            "price": "35000", "weight_g": "250", "stock": "5"}

    answers = at_once(*[lambda c=c: c.post("/staf/produk/baru", data=form) for c in clerks])

    assert [a.status_code for a in answers] == [302, 302, 302]
    slugs = sorted(db.session.scalars(select(Product.slug)))
    assert slugs == ["bawang-goreng-khas-palu-250-g", "bawang-goreng-khas-palu-250-g-2",
                     "bawang-goreng-khas-palu-250-g-3"]


def test_staff_record_the_unit_production_cost_and_new_orders_keep_it(app):
    from shop.catalog.models import Product
    from tests.helpers import logged_in

    product = f.product(price=50_000)
    db.session.commit()
    staff = logged_in(app, "fulfilment")

    staff.post(f"/staf/produk/{product.id}", data={"name_id": product.name_id, "price": "50.000", "unit_cost": "18.500",
                                                  "weight_g": "250", "active": "1"})

    db.session.expire_all()
    assert db.session.get(Product, product.id).unit_cost == 18_500
    order = f.order({product: 2})
    assert (order.lines[0].unit_cost, order.lines[0].category_id) == (18_500, product.category_id)
