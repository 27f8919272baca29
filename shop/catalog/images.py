"""Product photos: checked by content, resized and thumbnailed with Pillow, stored under UPLOAD_FOLDER."""

from __future__ import annotations

import io
import uuid
import warnings

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import func, select

from shop import storage
from shop.catalog.models import THUMB_SIDE, Product, ProductImage
from shop.extensions import db
from shop.uploads import MAX_PIXELS, StorageUnavailable

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP"}
FULL_SIZE = (1600, 1600)
THUMB_SIZE = (THUMB_SIDE, THUMB_SIDE)


class InvalidImage(ValueError):
    """The upload is not a JPEG, PNG or WebP picture (`reason` "type"), or claims far too many pixels ("pixels")."""

    def __init__(self, detail: str, reason: str = "type") -> None:
        super().__init__(detail)
        self.reason = reason


def save_product_image(product: Product, data: bytes, alt_id: str = "", alt_en: str = "",
                       square: bool = False) -> ProductImage:
    """Store a photo and its thumbnail; the type is read from the bytes, never from a file name. `square` crops
    it to its centre square first (cards show square photos)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                kind = probe.format
                if probe.width * probe.height > MAX_PIXELS:  # a small file that claims a giant picture
                    raise InvalidImage("pixels", "pixels")
                probe.verify()
            if kind not in ACCEPTED_FORMATS:
                raise InvalidImage(kind or "unknown")
            image = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    except InvalidImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise InvalidImage(str(error), "pixels") from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise InvalidImage(str(error)) from error
    if square:
        side = min(image.size)
        image = ImageOps.fit(image, (side, side), centering=(0.5, 0.5))
    stem = f"{product.slug}-{uuid.uuid4().hex[:10]}"
    full = image.copy()
    full.thumbnail(FULL_SIZE)
    thumb = image.copy()
    thumb.thumbnail(THUMB_SIZE)
    written: list[str] = []
    store = storage.public()
    try:  # every size or none (StorageUnavailable: the disk is full or gone, the bucket away)
        # JPEG for every browser, WebP (a third smaller) for those that take it: the pages offer both.
        for size, name, quality in ((full, f"{stem}.jpg", 85), (thumb, f"{stem}-thumb.jpg", 80),
                                    (full, f"{stem}.webp", 80), (thumb, f"{stem}-thumb.webp", 75)):
            encoded = io.BytesIO()
            if name.endswith(".webp"):
                size.save(encoded, "WEBP", quality=quality, method=4)
            else:
                size.save(encoded, "JPEG", quality=quality, optimize=True)
            store.put(f"products/{name}", encoded.getvalue())
            written.append(f"products/{name}")
    except OSError as error:
        for key in written:
            try:
                store.delete(key)
            except Exception:  # noqa: BLE001 - the store that just failed may fail to delete too: left for a clean-up
                current_app.logger.warning("could not remove %s after a failed photo upload", key)
        raise StorageUnavailable(error.errno, str(error)) from error
    position = db.session.scalar(
        select(func.coalesce(func.max(ProductImage.position) + 1, 0)).where(ProductImage.product_id == product.id)
    ) if product.id else 0
    record = ProductImage(product=product, filename=f"products/{stem}.jpg",
                          thumbnail=f"products/{stem}-thumb.jpg", width=full.width, height=full.height,
                          position=position or 0, alt_id=alt_id, alt_en=alt_en, webp=True)
    db.session.add(record)
    db.session.flush()
    return record


def remove_product_image(image: ProductImage) -> None:
    """Take a photo off the product (the files stay until a clean-up: a page being served may still show it)."""
    db.session.delete(image)
    db.session.flush()


def make_cover(product: Product, image: ProductImage) -> None:
    """The chosen photo first, the others after it in their order."""
    others = [item for item in product.images if item.id != image.id]
    for position, item in enumerate([image, *others]):
        item.position = position
    db.session.flush()
