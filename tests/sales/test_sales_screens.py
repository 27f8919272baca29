"""The direct-sales screens (#28) through HTTP: the plain form, the phone's JSON queue (once per id), the receipt a
buyer keeps, voiding, the day close, imports on a staff screen and by command, and finance seeing the channel."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from openpyxl import Workbook
from sqlalchemy import func, select

from shop.catalog.models import Product
from shop.extensions import db
from shop.ledger.models import Channel, LedgerEntry, PeriodClose
from shop.sales import service as svc
from shop.sales.models import DayClose, DirectSale, PointKind, PointOfSale, SalesImport
from tests import factories as f
from tests.helpers import text_of
from tests.ledger.factories import rule

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)  # 11.00 in Palu


def seller_client(app, *roles, facility_id=None):
    user = f.user(*(roles or ("fulfilment",)), facility_id=facility_id)
    db.session.commit()
    client = app.test_client()
    client.post("/masuk", data={"email": user.email, "password": f.PASSWORD})
    return client, user


def stand(*sellers, **values) -> PointOfSale:
    point = svc.save_point(svc.PointInput(name=values.pop("name", "Bazar HBP Palu"),
                                          kind=values.pop("kind", PointKind.EXHIBITION),
                                          seller_ids=[s.id for s in sellers], **values), actor=None)
    db.session.commit()
    return point


def csrf(client, url):
    html = client.get(url).get_data(as_text=True)
    return html.split('name="csrf_token" value="')[1].split('"')[0]


def test_a_seller_records_a_sale_with_the_plain_form_and_gets_a_receipt_to_share(app):
    rule()
    app.config["FROZEN_NOW"] = NOW
    bag = f.product(name_id="Tas Rajut Biru", price=125_000, stock=4)
    client, user = seller_client(app)
    point = stand(user)

    page = client.get(f"/staf/penjualan/{point.id}")
    assert page.status_code == 200 and "Tas Rajut Biru" in text_of(page)
    wrong = client.post(f"/staf/penjualan/{point.id}", data={"client_id": "form-1", "method": "cash",
                                                            f"q-{bag.id}": "1", f"p-{bag.id}": "100.000"})
    assert wrong.status_code == 422 and "alasan" in text_of(wrong)  # another price needs a reason
    assert 'value="100.000"' in wrong.get_data(as_text=True)  # what was typed is kept
    done = client.post(f"/staf/penjualan/{point.id}", data={"client_id": "form-1", "method": "qris",
                                                           f"q-{bag.id}": "2", f"p-{bag.id}": "125000"})
    assert done.status_code == 302
    db.session.expire_all()
    sale = db.session.scalar(select(DirectSale))
    assert sale.total == 250_000 and db.session.get(Product, bag.id).stock == 2
    shown = client.get(done.headers["Location"])
    assert sale.number in text_of(shown) and "wa.me" in shown.get_data(as_text=True)

    receipt = app.test_client().get(f"/struk/{sale.receipt_token}")  # anyone with the link: the buyer
    assert receipt.status_code == 200
    assert sale.number in text_of(receipt) and "Rp250.000" in text_of(receipt) and "QRIS" in text_of(receipt)
    assert app.test_client().get("/struk/not-a-token").status_code == 404


def test_the_phones_queue_is_recorded_once_per_id_and_a_refusal_is_said_per_sale(app, monkeypatch):
    rule()
    app.config["FROZEN_NOW"] = NOW
    bag = f.product(name_id="Tas Rajut Biru", price=125_000, stock=2)
    client, user = seller_client(app)
    point = stand(user)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)  # the phone fetches a fresh token before it sends
    token = client.get("/staf/penjualan/token").get_json()["csrf_token"]
    sales = {"sales": [
        {"client_id": "ph-1", "method": "cash", "sold_at": "2026-12-04T02:15:00Z",
         "lines": [{"product_id": bag.id, "quantity": 1, "unit_price": 125000, "reason": ""}]},
        {"client_id": "ph-2", "method": "transfer", "lines": [{"product_id": bag.id, "quantity": 5}]},
    ]}
    first = client.post(f"/staf/penjualan/{point.id}/kirim", json=sales, headers={"X-CSRFToken": token})
    again = client.post(f"/staf/penjualan/{point.id}/kirim", json=sales, headers={"X-CSRFToken": token})
    one, two = first.get_json()["results"]
    assert one["status"] == "saved" and one["number"].startswith("PJ-20261204-")
    assert two["status"] == "refused" and "Tas Rajut Biru" in two["message"]
    assert [r["status"] for r in again.get_json()["results"]] == ["duplicate", "refused"]
    assert db.session.scalar(select(func.count()).select_from(DirectSale)) == 1
    db.session.expire_all()
    assert db.session.get(Product, bag.id).stock == 1
    assert client.post(f"/staf/penjualan/{point.id}/kirim", json={"sales": "x"},
                       headers={"X-CSRFToken": token}).status_code == 400
    assert client.post(f"/staf/penjualan/{point.id}/kirim", json=sales).status_code == 400  # no CSRF token


def test_only_named_sellers_sell_at_a_point(app):
    point = stand()
    client, _user = seller_client(app)
    assert client.get(f"/staf/penjualan/{point.id}").status_code == 403
    finance, _ = seller_client(app, "finance")
    assert finance.get(f"/staf/penjualan/{point.id}").status_code == 403  # finance reads, never sells


def test_a_void_and_a_day_close_through_the_screens(app):
    rule()
    app.config["FROZEN_NOW"] = NOW
    bag = f.product(price=50_000, stock=5)
    client, user = seller_client(app)
    point = stand(user)
    done = svc.record_with_retry(point.id, svc.SaleInput("v-1", svc.PayMethod.CASH, [svc.LineInput(bag.id, 1)]),
                                 seller=user)
    token = csrf(client, f"/staf/penjualan/transaksi/{done.sale.id}")
    empty = client.post(f"/staf/penjualan/transaksi/{done.sale.id}/batal", data={"csrf_token": token, "reason": ""})
    assert empty.status_code == 422
    voided = client.post(f"/staf/penjualan/transaksi/{done.sale.id}/batal",
                         data={"csrf_token": token, "reason": "pembeli batal"})
    db.session.expire_all()
    assert voided.status_code == 302 and db.session.get(Product, bag.id).stock == 5
    svc.record_with_retry(point.id, svc.SaleInput("v-2", svc.PayMethod.CASH, [svc.LineInput(bag.id, 2)]), seller=user)

    url = f"/staf/penjualan/{point.id}/tutup-hari"
    token = csrf(client, url)
    short = client.post(url, data={"csrf_token": token, "tanggal": "2026-12-04", "counted_cash": "Rp90.000"})
    assert short.status_code == 422 and "Rp10.000" in text_of(short)
    closed = client.post(url, data={"csrf_token": token, "tanggal": "2026-12-04", "counted_cash": "90.000",
                                    "reason": "selisih kembalian"})
    assert closed.status_code == 302
    close = db.session.scalar(select(DayClose))
    assert (close.expected_cash, close.counted_cash) == (100_000, 90_000)
    assert "selisih kembalian" in text_of(client.get(url + "?tanggal=2026-12-04"))


def _csv(*rows: str) -> bytes:
    return ("tanggal,produk,jumlah,harga_satuan,pembayaran\n" + "\n".join(rows) + "\n").encode()


def test_an_import_with_any_bad_row_imports_nothing_and_lists_every_bad_row(app):
    rule()
    app.config["FROZEN_NOW"] = NOW
    bag = f.product(slug="tas-rajut-biru", price=125_000, stock=3)
    closed = f.product(slug="abon-tuna", price=30_000, stock=10)
    db.session.add(PeriodClose(facility_id=closed.facility_id, month="2026-10", accrued=0, deposited=0))
    client, user = seller_client(app)
    data = _csv("2026-12-01,tas-rajut-biru,1,125000,tunai",
                "2026-12-01,tidak-ada,1,1000,tunai",
                "2026-12-02,tas-rajut-biru,0,125000,qris",
                "2026-12-02,tas-rajut-biru,1,125000.50,qris",
                "2026-12-25,tas-rajut-biru,1,125000,transfer",
                "2026-10-10,abon-tuna,1,30000,tunai",
                "2026-12-03,tas-rajut-biru,5,125000,tunai",
                "2026-12-03,tas-rajut-biru,1,125000,gopay")
    token = csrf(client, "/staf/penjualan/impor")
    answer = client.post("/staf/penjualan/impor", data={"csrf_token": token, "point": "Bazar Jambi",
                                                        "file": (io.BytesIO(data), "bazar.csv")})
    body = text_of(answer)
    assert answer.status_code == 422
    for row in (3, 4, 5, 6, 7, 8, 9):
        assert f"Baris {row}" in body, row
    assert "Baris 2:" not in body
    assert db.session.scalar(select(func.count()).select_from(DirectSale)) == 0
    assert db.session.scalar(select(func.count()).select_from(PointOfSale)) == 0
    assert db.session.get(Product, bag.id).stock == 3


def test_a_good_file_imports_every_row_creates_the_point_and_is_refused_the_second_time(app, tmp_path):
    rule()
    app.config["FROZEN_NOW"] = NOW
    bag = f.product(slug="tas-rajut-biru", price=125_000, stock=5)
    db.session.commit()
    book = Workbook()
    sheet = book.active
    sheet.append(["tanggal", "produk", "jumlah", "harga_satuan", "pembayaran"])
    sheet.append([datetime(2026, 12, 1), "tas-rajut-biru", 2, 120000, "tunai"])
    sheet.append(["2026-12-02", "tas-rajut-biru", 1, "125.000", "QRIS"])
    out = io.BytesIO()
    book.save(out)
    path = tmp_path / "bazar.xlsx"
    path.write_bytes(out.getvalue())

    runner = app.test_cli_runner()
    result = runner.invoke(args=["sales", "import", str(path), "--point", "Bazar HBP Jambi"])
    assert result.exit_code == 0, result.output
    assert "2" in result.output
    point = db.session.scalar(select(PointOfSale).where(PointOfSale.name == "Bazar HBP Jambi"))
    assert point.kind is PointKind.EXHIBITION
    sales = db.session.scalars(select(DirectSale).order_by(DirectSale.day)).all()
    assert [(s.day.isoformat(), s.total, s.method.value) for s in sales] == [
        ("2026-12-01", 240_000, "cash"), ("2026-12-02", 125_000, "qris")]
    assert db.session.get(Product, bag.id).stock == 2
    assert set(db.session.scalars(select(LedgerEntry.channel))) == {Channel.DIRECT}

    again = runner.invoke(args=["sales", "import", str(path), "--point", "Bazar HBP Jambi"])
    assert again.exit_code == 1 and "sudah diimpor sebelumnya" in again.output
    assert db.session.scalar(select(func.count()).select_from(SalesImport)) == 1
    assert db.session.scalar(select(func.count()).select_from(DirectSale)) == 2


def test_finance_sees_the_direct_channel_in_the_ledger_export_and_the_pnbp_month(app):
    rule()
    app.config["FROZEN_NOW"] = NOW
    bag = f.product(price=100_000, stock=5)
    seller = f.user("fulfilment")
    point = stand(seller)
    done = svc.record_with_retry(point.id, svc.SaleInput("fin-1", svc.PayMethod.CASH, [svc.LineInput(bag.id, 1)]),
                                 seller=seller)
    finance, _user = seller_client(app, "finance")
    export = finance.get("/staf/keuangan/buku-besar/ekspor.csv").get_data(as_text=True)
    assert "Kanal" in export and "langsung" in export and done.sale.number in export
    month = finance.get(f"/staf/keuangan/pnbp/{bag.facility.slug}/2026-12")
    assert done.sale.number in text_of(month) and "langsung" in text_of(month)
    assert "Di antaranya Rp15.000 dari penjualan langsung" in text_of(month)
    exported = finance.get("/staf/keuangan/pnbp/ekspor.csv").get_data(as_text=True)
    assert "Di antaranya dari penjualan langsung" in exported.splitlines()[0]
    summary = text_of(finance.get("/staf/keuangan/ringkasan?year=2026"))
    assert "Di antaranya penjualan langsung" in summary
    from shop.finance import reports

    reports.clear_impact_cache()
    assert reports.impact(2026).total["units_year"] == 1  # the public impact page counts it too


def test_the_audit_log_says_what_happened_at_a_point_of_sale_in_words(app):
    rule()
    app.config["FROZEN_NOW"] = NOW
    bag = f.product(price=50_000, stock=5)
    seller = f.user("fulfilment")
    point = stand(seller)
    done = svc.record_with_retry(point.id, svc.SaleInput("a-1", svc.PayMethod.QRIS, [svc.LineInput(bag.id, 1)]),
                                 seller=seller)
    svc.void_sale(done.sale, actor=seller, reason="pembeli batal")
    db.session.commit()
    admin, _user = seller_client(app, "admin")
    log = text_of(admin.get("/staf/audit"))
    for words in ("penjualan langsung dicatat", "penjualan langsung dibatalkan", "tempat penjualan disimpan",
                  done.sale.number, "Bazar HBP Palu", "dibayar dengan", "QRIS", "Rp50.000"):
        assert words in log, words
    assert "direct_sale." not in log and "point_of_sale." not in log


def test_an_untouched_price_is_the_one_the_phone_showed_and_a_month_old_clock_is_refused(app):
    rule()
    app.config["FROZEN_NOW"] = NOW
    bag = f.product(name_id="Tas Rajut Biru", price=125_000, stock=5)
    client, user = seller_client(app)
    point = stand(user)
    bag.price = 130_000  # the catalogue price changed after the phone loaded the screen
    db.session.commit()
    answer = client.post(f"/staf/penjualan/{point.id}/kirim", json={"sales": [
        {"client_id": "p-1", "method": "cash",
         "lines": [{"product_id": bag.id, "quantity": 1, "unit_price": None, "seen_price": 125000}]},
        {"client_id": "p-2", "method": "cash", "sold_at": "2026-10-01T03:00:00Z",
         "lines": [{"product_id": bag.id, "quantity": 1, "seen_price": 130000}]},
        {"client_id": "p-3", "method": "cash", "lines": [{"product_id": bag.id, "quantity": 1.5}]},
    ]}).get_json()["results"]
    assert [r["status"] for r in answer] == ["saved", "refused", "refused"]
    assert "jam ponsel" in answer[1]["message"]
    line = db.session.scalar(select(DirectSale)).lines[0]
    assert (line.unit_price, line.catalog_price) == (125_000, 130_000) and "ponsel" in line.price_reason


def test_the_same_rows_saved_again_as_another_file_are_refused_and_rows_keep_their_spreadsheet_numbers(app):
    rule()
    app.config["FROZEN_NOW"] = NOW
    f.product(slug="tas-rajut-biru", price=125_000, stock=5)
    client, _user = seller_client(app)
    token = csrf(client, "/staf/penjualan/impor")
    first = client.post("/staf/penjualan/impor", data={"csrf_token": token, "point": "Bazar Jambi", "file": (
        io.BytesIO(_csv("2026-12-01,tas-rajut-biru,1,125000,tunai")), "bazar.csv")})
    assert first.status_code == 302
    resaved = _csv("2026-12-01,tas-rajut-biru,1,125000,tunai").replace(b"\n", b"\r\n") + b"\r\n"
    again = client.post("/staf/penjualan/impor", data={"csrf_token": token, "point": "bazar jambi", "file": (
        io.BytesIO(resaved), "bazar (1).csv")})
    assert again.status_code == 422 and "sudah diimpor sebelumnya" in text_of(again)
    assert db.session.scalar(select(func.count()).select_from(DirectSale)) == 1
    gappy = b"tanggal,produk,jumlah,harga_satuan,pembayaran\n\n\n2026-12-02,tas-rajut-biru,x,125000,tunai\n"
    bad = client.post("/staf/penjualan/impor", data={"csrf_token": token, "point": "Bazar Jambi", "file": (
        io.BytesIO(gappy), "b.csv")})
    assert "Baris 4" in text_of(bad)  # the row as the spreadsheet numbers it, blank rows counted
    assert db.session.scalar(select(func.count()).select_from(PointOfSale)) == 1  # "bazar jambi" is the same point


def test_finance_reads_a_direct_sale_and_its_days_close_but_cannot_sell_or_void(app):
    rule()
    app.config["FROZEN_NOW"] = NOW
    bag = f.product(price=50_000, stock=5)
    seller = f.user("fulfilment")
    point = stand(seller)
    done = svc.record_with_retry(point.id, svc.SaleInput("f-1", svc.PayMethod.CASH, [svc.LineInput(bag.id, 1)]),
                                 seller=seller)
    finance, _user = seller_client(app, "finance")
    page = finance.get(f"/staf/penjualan/transaksi/{done.sale.id}")
    assert page.status_code == 200 and "Batalkan penjualan" not in text_of(page)
    close = finance.get(f"/staf/penjualan/{point.id}/tutup-hari")
    assert close.status_code == 200 and "Belum ditutup" in text_of(close)
    assert finance.get(f"/staf/penjualan/{point.id}").status_code == 403
    assert finance.post(f"/staf/penjualan/transaksi/{done.sale.id}/batal", data={"reason": "x"}).status_code == 403
