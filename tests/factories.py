"""Small factories for test data: plain functions with sensible defaults."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import select

from shop.accounts.models import User
from shop.accounts.service import create_user
from shop.catalog.models import Category, Facility, FacilityKind, Product, Region
from shop.certification.models import Certification, CertType, RecordedStatus
from shop.extensions import db
from shop.orders.models import Order
from shop.orders.service import Buyer, place_order
from shop.shipping.models import Courier, ShippingRate  # noqa: F401 (tests use f.Courier)

_seq = itertools.count(1)


def pdf_document(title: str = "Bukti") -> bytes:
    """A real one-page PDF, like a scanned receipt (the shop parses every PDF it is given)."""
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=300, height=400)
    writer.add_metadata({"/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


PDF = pdf_document()


def png_image(size: tuple[int, int] = (60, 80)) -> bytes:
    """A real PNG, like a phone's screenshot of a transfer (pictures are decoded and re-encoded)."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (230, 230, 230)).save(out, "PNG")
    return out.getvalue()


PNG = png_image()
PASSWORD = "correct horse battery"


def region(**values: Any) -> Region:
    n = next(_seq)
    defaults = {"slug": f"region-{n}", "name": f"Region {n}", "office": f"Kanwil Ditjenpas Region {n}",
                "city": "Palu"}
    row = Region(**{**defaults, **values})
    db.session.add(row)
    db.session.flush()
    return row


def facility(**values: Any) -> Facility:
    n = next(_seq)
    if "region" not in values and "region_id" not in values:
        values["region"] = region()
    defaults = {"slug": f"facility-{n}", "kind": FacilityKind.LAPAS, "facility_class": "IIA",
                "name": f"Lapas Kelas IIA Test {n}", "city": "Palu", "story_id": f"Cerita bengkel {n}",
                "story_en": f"Workshop story {n}"}
    row = Facility(**{**defaults, **values})
    db.session.add(row)
    db.session.flush()
    return row


def category(**values: Any) -> Category:
    n = next(_seq)
    defaults = {"slug": f"category-{n}", "name_id": f"Kategori {n}", "name_en": f"Category {n}",
                "required_certs": []}
    row = Category(**{**defaults, **values})
    db.session.add(row)
    db.session.flush()
    return row


def food_category(**values: Any) -> Category:
    return category(**{"name_id": "Olahan Pangan", "name_en": "Processed Food",
                       "required_certs": ["halal", "bpom_or_pirt"], **values})


def product(**values: Any) -> Product:
    n = next(_seq)
    if "facility" not in values and "facility_id" not in values:
        values["facility"] = facility()
    if "category" not in values and "category_id" not in values:
        values["category"] = category()
    defaults = {"slug": f"product-{n}", "name_id": f"Produk {n}", "name_en": f"Product {n}", "price": 25_000,
                "weight_g": 250, "stock": 10}
    row = Product(**{**defaults, **values})
    db.session.add(row)
    db.session.flush()
    return row


def certificate(product: Product, cert_type: CertType = CertType.HALAL, **values: Any) -> Certification:
    numbers = {CertType.HALAL: "ID311100000000000009", CertType.PIRT: "2097271010001-29",
               CertType.BPOM_MD: "MD 123456789012", CertType.BPOM_ML: "ML 123456789012"}
    defaults = {"number": numbers[cert_type], "issuer": "BPJPH", "issued_on": date(2025, 1, 1),
                "status": RecordedStatus.VALID}
    row = Certification(product=product, cert_type=cert_type, **{**defaults, **values})
    db.session.add(row)
    db.session.flush()
    return row


def certified_food(**values: Any) -> Product:
    """A processed-food product with valid halal and P-IRT certificates."""
    item = product(category=values.pop("category", None) or food_category(), **values)
    certificate(item, CertType.HALAL)
    certificate(item, CertType.PIRT, expires_on=date(2030, 1, 1), issuer="Pemda Palu")
    return item


def user(*roles: str, email: str | None = None, facility_id: int | None = None) -> User:
    n = next(_seq)
    return create_user(email or f"user{n}@example.id", PASSWORD, roles, name=f"User {n}", facility_id=facility_id)


def courier(code: str | None = None, provinces: dict[str, tuple[int, int]] | None = None) -> Courier:
    """A courier with rates (first kg, next kg) to the given provinces; Sulawesi Tengah by default."""
    n = next(_seq)
    row = Courier(code=code or f"c{n}", name=f"Kurir {n}", tracking_url="https://kurir.test/{resi}", position=n)
    for province, (first, nxt) in (provinces or {"Sulawesi Tengah": (10_000, 5_000)}).items():
        row.rates.append(ShippingRate(province=province, first_kg=first, next_kg=nxt))
    db.session.add(row)
    db.session.flush()
    return row


BUYER = Buyer(name="Siti Aminah", email="siti@example.id", phone="+6281234567890", street="Jl. Sisingamangaraja 12",
              rt_rw="003/005", kelurahan="Besusu Tengah", kecamatan="Palu Timur", city="Kota Palu",
              province="Sulawesi Tengah", postal_code="94111")


def order(items: dict[Product, int] | None = None, **buyer: Any) -> Order:
    """An order awaiting payment, placed through the real service (stock taken)."""
    items = items or {product(): 1}
    ship = db.session.scalar(select(Courier).order_by(Courier.id)) or courier()
    placed = place_order({p.id: qty for p, qty in items.items()}, replace(BUYER, **buyer), ship.id)
    db.session.flush()
    return placed
