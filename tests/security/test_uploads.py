"""Uploads found dangerous by probes over HTTP: a decompression bomb, a PNG that is also an HTML page, a "PDF"
that is really a zip, a PDF with JavaScript. Each is refused or defused, whatever its name says."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfWriter
from pypdf.actions import JavaScript
from sqlalchemy import select

from shop.extensions import db
from shop.payments.models import Payment, PaymentStatus
from shop.uploads import DocumentRejected, save_private_document
from tests import factories as f
from tests.helpers import text_of


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def decompression_bomb() -> bytes:
    """A few hundred bytes that claim 30,000 × 30,000 pixels."""
    header = struct.pack(">IIBBBBB", 30_000, 30_000, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header)
            + png_chunk(b"IDAT", zlib.compress(b"\x00" * 30_001 * 4)) + png_chunk(b"IEND", b""))


def polyglot() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 40), (200, 80, 20)).save(out, "PNG")
    return out.getvalue() + b"<html><body><script>alert(document.cookie)</script></body></html>"


def zip_named_pdf() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.exe", b"MZ" + b"\x00" * 100)
    return b"%PDF-1.4\n" + out.getvalue()


def pdf_with_javascript() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=300, height=400)
    writer.add_open_action(JavaScript("app.alert('hello');"))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_with_attachment() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=300, height=400)
    writer.add_attachment("invoice.exe", b"MZ" + b"\x00" * 10)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(("data", "reason"), [
    (decompression_bomb(), "pixels"), (zip_named_pdf(), "type"), (pdf_with_javascript(), "active"),
    (pdf_with_attachment(), "active"), (b"%PDF-1.7 not really", "type"),
])
def test_dangerous_documents_are_refused(app, data, reason):
    with pytest.raises(DocumentRejected) as refused:
        save_private_document(data, "receipts")
    assert refused.value.reason == reason


def test_a_picture_that_is_also_a_web_page_is_stored_as_the_picture_alone(app):
    stored = save_private_document(polyglot(), "receipts")

    content = (Path(app.config["PRIVATE_UPLOAD_FOLDER"]) / stored).read_bytes()
    assert content.startswith(b"\x89PNG") and b"<script" not in content and b"<html" not in content
    with Image.open(io.BytesIO(content)) as picture:
        assert picture.size == (40, 40)


def test_a_real_scan_and_a_real_pdf_are_accepted(app):
    assert save_private_document(f.PDF, "receipts").endswith(".pdf")
    photo = io.BytesIO()
    Image.new("RGB", (1200, 1600), (240, 240, 240)).save(photo, "JPEG")
    assert save_private_document(photo.getvalue(), "receipts").endswith(".jpg")


def upload_as_buyer(client, receipt: bytes):
    """A guest's order paid by transfer, and `receipt` sent as its transfer receipt; the answer shown."""
    order = f.order({f.product(): 1})
    db.session.commit()
    with client.session_transaction() as session:
        session["orders"] = [order.number]
    client.post(f"/pesanan/{order.number}/bayar/transfer")
    return client.post(f"/pesanan/{order.number}/bayar/transfer/bukti", follow_redirects=True,
                       content_type="multipart/form-data", data={"receipt": (io.BytesIO(receipt), "bukti.pdf")})


def test_a_buyer_uploading_a_pdf_with_javascript_is_told_why_and_nothing_is_kept(client):
    page = upload_as_buyer(client, pdf_with_javascript())

    assert "skrip" in text_of(page)
    payment = db.session.scalar(select(Payment))
    assert payment.status is PaymentStatus.PENDING and payment.receipt is None


def encrypted_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt("rahasia", algorithm="RC4-128")  # AES needs the cryptography package, which the shop has not
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_an_anonymous_buyer_uploading_a_password_locked_pdf_is_told_why_instead_of_a_server_error(client):
    page = upload_as_buyer(client, encrypted_pdf())

    assert page.status_code == 200 and "dikunci dengan kata sandi" in text_of(page)
    assert db.session.scalar(select(Payment)).receipt is None


def test_any_error_pypdf_raises_on_a_pdf_is_a_refusal_not_a_500(app, monkeypatch):
    """pypdf refuses an object-stream "bomb" with LimitReachedError (and needs the absent cryptography package for
    AES, DependencyError); the reader is replaced by one raising each, a stand-in for those files."""
    import pypdf
    from pypdf.errors import DependencyError, LimitReachedError

    for error in (LimitReachedError("limit reached"), DependencyError("cryptography is required")):
        def raising(*_args, error=error, **_kwargs):
            raise error

        monkeypatch.setattr(pypdf, "PdfReader", raising)
        with pytest.raises(DocumentRejected) as refused:
            save_private_document(f.PDF, "receipts")
        assert refused.value.reason == "type"


def test_a_product_photo_claiming_too_many_pixels_is_refused_as_such(app):
    from shop.catalog.images import InvalidImage, save_product_image

    with pytest.raises(InvalidImage) as refused:
        save_product_image(f.product(), decompression_bomb())
    assert refused.value.reason == "pixels"
