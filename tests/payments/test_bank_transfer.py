"""Bank transfer: exact amount and account shown, receipt uploaded (content checked), staff confirm or reject."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from shop.extensions import db
from shop.orders.models import OrderStatus
from shop.payments.models import Payment, PaymentStatus
from shop.payments.service import MoneyState, money_state
from tests import factories as f
from tests.helpers import logged_in, text_of

PNG = f.PNG
PDF = f.PDF



@pytest.fixture
def transfer(client):
    order = f.order({f.product(price=150_000): 1})
    db.session.commit()
    with client.session_transaction() as session:
        session["orders"] = [order.number]
    client.post(f"/pesanan/{order.number}/bayar/transfer")
    return order


def upload(client, order, data: bytes, name: str):
    return client.post(f"/pesanan/{order.number}/bayar/transfer/bukti", follow_redirects=True,
                       data={"receipt": (io.BytesIO(data), name), "note": "a.n. Siti, BRI"},
                       content_type="multipart/form-data")


def test_the_buyer_sees_the_account_and_exact_amount_and_uploads_a_receipt(app, client, transfer):
    page = text_of(client.get(f"/pesanan/{transfer.number}/bayar"))
    assert "Rp160.000" in page and app.config["BANK_ACCOUNT"]["number"] in page and transfer.number in page

    response = upload(client, transfer, PDF, "bukti.pdf")

    assert "Terima kasih! Kami memeriksa transfer Anda" in text_of(response)
    payment = db.session.scalar(select(Payment))
    assert payment.status is PaymentStatus.SUBMITTED and payment.receipt.endswith(".pdf")
    assert transfer.expires_at is None or transfer.expires_at > transfer.created_at
    history = text_of(client.get(f"/pesanan/{transfer.number}"))
    assert "bukti transfer dikirim, sedang diperiksa" in history  # the upload is in the order's history


def test_the_account_and_amount_show_before_the_buyer_chooses_transfer_with_copy_buttons(app, client):
    order = f.order({f.product(price=150_000): 1})
    db.session.commit()
    with client.session_transaction() as session:
        session["orders"] = [order.number]

    page = client.get(f"/pesanan/{order.number}/bayar").get_data(as_text=True)

    account = app.config["BANK_ACCOUNT"]["number"]
    assert account in page and "Rp160.000" in page and "Saya bayar dengan transfer" in page
    assert f'data-copy="{account.replace("-", "")}"' in page and 'data-copy="160000"' in page


@pytest.mark.parametrize("data, name, message", [
    (b"just text", "bukti.pdf", "Unggah berkas PDF, JPEG, atau PNG."),
    (b"", "bukti.png", "Pilih foto atau PDF bukti transfer Anda."),
    (PNG + b"\x00" * (5 * 1024 * 1024), "bukti.png", "Berkas terlalu besar"),
])
def test_a_bad_receipt_is_refused_by_its_content_not_its_name(client, transfer, data, name, message):
    response = upload(client, transfer, data, name)

    assert message in text_of(response)
    assert db.session.scalar(select(Payment)).status is PaymentStatus.PENDING


def test_a_png_named_pdf_is_stored_as_what_it_is(client, transfer):
    upload(client, transfer, PNG, "bukti.pdf")
    assert db.session.scalar(select(Payment)).receipt.endswith(".png")


def test_staff_confirm_a_transfer_and_the_order_is_paid(app, client, transfer):
    upload(client, transfer, PDF, "bukti.pdf")
    payment = db.session.scalar(select(Payment))
    staff = logged_in(app, "fulfilment")

    document = staff.get(f"/staf/pembayaran/{payment.id}/bukti")
    assert document.data == PDF
    document.close()
    assert client.get(f"/staf/pembayaran/{payment.id}/bukti").status_code == 302  # buyers are not staff
    staff.post(f"/staf/pembayaran/{payment.id}/konfirmasi", data={"reference": "BRI 2311 0042"})

    db.session.expire_all()
    assert transfer.status is OrderStatus.PAID and [e.to_status for e in transfer.events].count(OrderStatus.PAID) == 1
    assert (payment.status, payment.bank_reference) == (PaymentStatus.SUCCEEDED, "BRI 2311 0042")
    assert "Pembayaran diterima" in text_of(client.get(f"/pesanan/{transfer.number}/bayar"))


def test_staff_reject_a_transfer_with_a_reason_the_buyer_sees(app, client, transfer):
    upload(client, transfer, PDF, "bukti.pdf")
    payment = db.session.scalar(select(Payment))
    staff = logged_in(app, "fulfilment")

    refused = staff.post(f"/staf/pembayaran/{payment.id}/tolak", data={"reason": ""}, follow_redirects=True)
    assert "Berikan alasan" in text_of(refused)
    staff.post(f"/staf/pembayaran/{payment.id}/tolak", data={"reason": "Dana belum masuk ke rekening."})

    db.session.expire_all()
    assert payment.status is PaymentStatus.REJECTED and transfer.status is OrderStatus.AWAITING_PAYMENT
    assert "Dana belum masuk ke rekening." in text_of(client.get(f"/pesanan/{transfer.number}/bayar"))
    upload(client, transfer, PNG, "lagi.png")  # the buyer may send another receipt
    db.session.expire_all()
    assert payment.status is PaymentStatus.SUBMITTED


def test_a_bank_transfer_refund_needs_the_transfer_reference(app, client, transfer):
    payment = db.session.scalar(select(Payment))
    staff = logged_in(app, "fulfilment")
    staff.post(f"/staf/pembayaran/{payment.id}/konfirmasi", data={"reference": "BRI 1"})

    missing = staff.post(f"/staf/pembayaran/{payment.id}/refund", follow_redirects=True,
                         data={"key": "k1", "amount": 50_000, "reason": "rusak", f"qty-{transfer.lines[0].id}": 1})
    assert "Masukkan referensi transfer" in text_of(missing)
    staff.post(f"/staf/pembayaran/{payment.id}/refund",
               data={"key": "k2", "amount": 50_000, "reason": "rusak", "transfer_reference": "BRI 9",
                     f"qty-{transfer.lines[0].id}": 1})

    db.session.expire_all()
    assert payment.refunded == 50_000 and transfer.status is OrderStatus.PAID
    assert money_state(transfer).state is MoneyState.PARTLY_REFUNDED
    assert payment.refunds[0].transfer_reference == "BRI 9"


def test_finance_can_read_payments_but_not_act(app, transfer):
    payment = db.session.scalar(select(Payment))
    finance = logged_in(app, "finance")

    assert finance.get(f"/staf/pesanan/{transfer.number}/pembayaran").status_code == 200
    assert finance.post(f"/staf/pembayaran/{payment.id}/konfirmasi", data={"reference": "x"}).status_code == 403


def test_a_sent_receipt_holds_the_stock_until_staff_decide_and_a_rejection_starts_a_new_deadline(app, client,
                                                                                                  transfer):
    from datetime import timedelta

    from shop.timeutil import utcnow

    upload(client, transfer, PDF, "bukti.pdf")
    app.config["FROZEN_NOW"] = utcnow() + timedelta(days=3)  # staff were slow
    order_page = text_of(client.get(f"/pesanan/{transfer.number}"))
    assert "bukti transfer diterima, sedang diperiksa" in order_page  # not "awaiting payment", no empty date
    assert "Bayar sekarang" not in order_page and "Mohon bayar sebelum" not in order_page
    pay_page = text_of(client.get(f"/pesanan/{transfer.number}/bayar"))
    assert "sedang kami periksa" in pay_page and "disimpan sampai ." not in pay_page

    payment = db.session.scalar(select(Payment))
    logged_in(app, "fulfilment").post(f"/staf/pembayaran/{payment.id}/tolak", data={"reason": "Tidak ditemukan"})
    app.config["FROZEN_NOW"] = utcnow() + timedelta(hours=25)

    assert "dibatalkan" in text_of(client.get(f"/pesanan/{transfer.number}"))


def test_staff_see_the_receipt_beside_confirm_and_reject_kept_apart(app, client, transfer):
    upload(client, transfer, PNG, "bukti.png")
    payment = db.session.scalar(select(Payment))

    html = logged_in(app, "fulfilment").get(f"/staf/pesanan/{transfer.number}/pembayaran").get_data(as_text=True)

    assert f'<img src="/staf/pembayaran/{payment.id}/bukti"' in html
    confirm, reject = html.index('class="decision-confirm"'), html.index('class="decision-reject"')
    assert confirm < html.index("Konfirmasi pembayaran") < reject < html.index('name="reason"')
