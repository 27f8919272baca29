"""Product photos: checked by content, resized and thumbnailed with Pillow, stored under UPLOAD_FOLDER."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import func, select

from shop.catalog.models import Product, ProductImage
from shop.extensions import db

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP"}
FULL_SIZE = (1600, 1600)
THUMB_SIZE = (480, 480)


class InvalidImage(ValueError):
    """The upload is not a JPEG, PNG or WebP picture."""


def upload_dir() -> Path:
    path = Path(current_app.config["UPLOAD_FOLDER"]) / "products"
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_product_image(product: Product, data: bytes, alt_id: str = "", alt_en: str = "") -> ProductImage:
    """Store a photo and its thumbnail; the type is read from the bytes, never from a file name."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format
            probe.verify()
        if kind not in ACCEPTED_FORMATS:
            raise InvalidImage(kind or "unknown")
        image = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise InvalidImage(str(error)) from error
    stem = f"{product.slug}-{uuid.uuid4().hex[:10]}"
    folder = upload_dir()
    full = image.copy()
    full.thumbnail(FULL_SIZE)
    full.save(folder / f"{stem}.jpg", "JPEG", quality=85, optimize=True)
    thumb = image.copy()
    thumb.thumbnail(THUMB_SIZE)
    thumb.save(folder / f"{stem}-thumb.jpg", "JPEG", quality=80, optimize=True)
    position = db.session.scalar(
        select(func.coalesce(func.max(ProductImage.position) + 1, 0)).where(ProductImage.product_id == product.id)
    ) if product.id else 0
    record = ProductImage(product=product, filename=f"products/{stem}.jpg",
                          thumbnail=f"products/{stem}-thumb.jpg", width=full.width, height=full.height,
                          position=position or 0, alt_id=alt_id, alt_en=alt_en)
    db.session.add(record)
    db.session.flush()
    return record
