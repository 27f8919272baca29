"""A full disk when a buyer uploads a transfer receipt or staff upload a product photo: a clear message, no
half-written file, nothing recorded; once there is room again the same upload works.

The disk is real: a 2 MiB tmpfs mounted for the test (root only, which CI and these machines are)."""

from __future__ import annotations

import io
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import func, select

from shop.catalog.models import ProductImage
from shop.extensions import db
from shop.payments.models import Payment, PaymentStatus
from tests import factories as f
from tests.helpers import logged_in, text_of
from tests.invariants import assert_nothing_lost


class FullDisk:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.filler = root / "filler"

    def fill(self) -> None:
        out = open(self.filler, "wb", buffering=0)
        try:
            while True:
                out.write(b"\0" * 4096)
        except OSError:
            pass
        finally:
            try:
                out.close()
            except OSError:
                pass

    def free(self) -> None:
        self.filler.unlink()

    def files(self) -> list[str]:
        return sorted(str(p.relative_to(self.root)) for p in self.root.rglob("*") if p.is_file() and p != self.filler)


@pytest.fixture
def full_disk(app: Flask) -> Iterator[FullDisk]:
    root = Path(tempfile.mkdtemp(prefix="kb-small-disk-"))
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(root)], capture_output=True)
    if mounted.returncode != 0:
        root.rmdir()
        if os.environ.get("CI") == "true":
            raise RuntimeError(f"cannot mount a tmpfs: {mounted.stderr.decode()}")
        pytest.skip("mounting a small disk needs root (CI runs as root)")
    saved = {key: app.config[key] for key in ("UPLOAD_FOLDER", "PRIVATE_UPLOAD_FOLDER")}
    try:
        app.config.update(UPLOAD_FOLDER=str(root / "public"), PRIVATE_UPLOAD_FOLDER=str(root / "private"))
        (root / "public").mkdir()
        (root / "private").mkdir()
        disk = FullDisk(root)
        disk.fill()
        yield disk
    finally:
        app.config.update(saved)
        subprocess.run(["umount", "-l", str(root)], check=True)
        root.rmdir()


def photo() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((300, 300), 80).convert("RGB").save(out, "PNG")  # noise: does not compress away
    return out.getvalue()


def test_a_receipt_uploaded_to_a_full_disk_is_refused_clearly_and_works_once_there_is_room(client, full_disk):
    item = f.product(price=150_000, stock=5)
    order = f.order({item: 1})
    db.session.commit()
    with client.session_transaction() as session:
        session["orders"] = [order.number]
    client.post(f"/pesanan/{order.number}/bayar/transfer")

    def upload():
        return client.post(f"/pesanan/{order.number}/bayar/transfer/bukti", follow_redirects=True,
                           data={"receipt": (io.BytesIO(photo()), "bukti.png"), "note": "a.n. Siti"},
                           content_type="multipart/form-data")

    page = upload()

    assert page.status_code == 200
    assert "Berkas tidak dapat disimpan saat ini" in text_of(page)
    db.session.expire_all()
    payment = db.session.scalar(select(Payment))
    assert payment.status is PaymentStatus.PENDING and not payment.receipt
    assert full_disk.files() == []  # no half-written receipt
    assert_nothing_lost({item.id: 5})

    full_disk.free()
    assert "Terima kasih! Kami memeriksa transfer Anda" in text_of(upload())
    db.session.expire_all()
    assert payment.status is PaymentStatus.SUBMITTED
    assert full_disk.files() == [f"private/{payment.receipt}"]


def test_a_product_photo_uploaded_to_a_full_disk_keeps_what_staff_typed(app, full_disk):
    product = f.product(name_id="Tas Rajut Biru")
    staff = logged_in(app, "fulfilment")
    form = {"name_id": "Tas Rajut Biru Laut", "name_en": product.name_en, "price": "125000", "unit_cost": "",
            "weight_g": "300", "description_id": "", "description_en": "", "active": "1"}

    page = staff.post(f"/staf/produk/{product.id}", content_type="multipart/form-data",
                      data={**form, "photo": (io.BytesIO(photo()), "tas.png")})

    assert page.status_code == 200
    assert "Berkas tidak dapat disimpan saat ini" in text_of(page)
    assert 'value="Tas Rajut Biru Laut"' in page.get_data(as_text=True)  # what was typed is still there
    assert db.session.scalar(select(func.count()).select_from(ProductImage)) == 0
    assert full_disk.files() == []
