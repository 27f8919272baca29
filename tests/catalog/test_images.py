"""Product photos are checked by their content and get a thumbnail."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from werkzeug.test import EnvironBuilder

from shop.catalog.images import InvalidImage, save_product_image
from shop.extensions import db
from tests import factories as f


def picture(fmt: str = "PNG", size: tuple[int, int] = (2400, 1200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 100, 50)).save(out, fmt)
    return out.getvalue()


def test_photo_is_resized_and_thumbnailed_and_shown_on_the_product_page(app, client):
    item = f.product(name_id="Tas Rajut")
    image = save_product_image(item, picture(), alt_id="Tas rajut merah")
    db.session.commit()

    folder = Path(app.config["UPLOAD_FOLDER"])
    with Image.open(folder / image.filename) as full, Image.open(folder / image.thumbnail) as thumb:
        assert max(full.size) == 1600 and max(thumb.size) == 480
    page = client.get(f"/produk/{item.slug}").get_data(as_text=True)
    assert f"/media/{image.filename}" in page
    with client.get(f"/media/{image.thumbnail}") as response:
        assert response.status_code == 200 and response.mimetype == "image/jpeg"


def test_pages_offer_webp_and_the_size_the_screen_needs(app, client):
    item = f.product(name_id="Tas Rajut", slug="tas-rajut")
    image = save_product_image(item, picture(size=(1200, 2400)), alt_id="Tas rajut merah")  # portrait
    db.session.commit()

    folder = Path(app.config["UPLOAD_FOLDER"])
    for name, longest in ((image.webp_filename, 1600), (image.webp_thumbnail, 480)):
        with Image.open(folder / name) as copy:
            assert copy.format == "WEBP" and max(copy.size) == longest
    assert (image.width, image.height, image.thumbnail_width) == (800, 1600, 240)
    for page in (client.get("/produk/tas-rajut"), client.get("/produk")):
        html = page.get_data(as_text=True)
        assert ('<source type="image/webp" sizes="' in html
                and f'srcset="/media/{image.webp_thumbnail} 240w, /media/{image.webp_filename} 800w"' in html)
        assert f'srcset="/media/{image.thumbnail} 240w, /media/{image.filename} 800w"' in html  # JPEG for the rest
    with client.get(f"/media/{image.webp_thumbnail}") as response:
        assert response.status_code == 200 and response.mimetype == "image/webp"


@pytest.mark.parametrize("data", [b"%PDF-1.7 not a picture", b"GIF89a" + b"\0" * 20, b"", picture("GIF")])
def test_files_that_are_not_jpeg_png_or_webp_are_refused_whatever_their_name(data):
    item = f.product()

    with pytest.raises(InvalidImage):
        save_product_image(item, data)


def test_staff_upload_a_phone_photo_cropped_square_choose_the_cover_and_remove_one(app):
    from tests.helpers import logged_in

    item = f.product(name_id="Tas Rajut")
    first = save_product_image(item, picture(size=(800, 800)))
    db.session.commit()
    staff = logged_in(app, "fulfilment")
    form = {"name_id": "Tas Rajut", "price": str(item.price), "weight_g": "400", "active": "1", "square": "1"}

    staff.post(f"/staf/produk/{item.id}", data={**form, "photo": (io.BytesIO(picture(size=(3000, 2000))), "hp.png")},
               content_type="multipart/form-data")
    db.session.expire_all()
    second = item.images[1]
    with Image.open(Path(app.config["UPLOAD_FOLDER"]) / second.filename) as stored:
        assert stored.size == (1600, 1600)  # the centre square of a landscape phone photo
    staff.post(f"/staf/produk/{item.id}/foto/{second.id}", data={"action": "cover"})
    db.session.expire_all()
    assert item.cover.id == second.id
    staff.post(f"/staf/produk/{item.id}/foto/{first.id}", data={"action": "remove"})
    db.session.expire_all()
    assert [image.id for image in item.images] == [second.id]
    assert staff.post(f"/staf/produk/{item.id}/foto/999999", data={"action": "remove"}).status_code == 404


def test_a_products_photos_stay_in_the_shop_thumbnails_bring_each_into_view(app, client):
    """#23.16: a thumbnail used to open the bare JPEG outside the shop; now it scrolls the page's own strip."""
    import re

    product = f.product(name_id="Tas Rajut")
    first, second = save_product_image(product, f.PNG), save_product_image(product, f.png_image((90, 60)))
    db.session.commit()

    html = client.get(f"/produk/{product.slug}").get_data(as_text=True)

    assert not re.search(r'<a href="/media/', html)  # no link to a bare image file
    assert 'href="#foto-2"' in html and 'id="foto-2"' in html and 'alt="Foto 2 dari 2"' in html
    assert html.count('class="main-image"') == 2 and first.id != second.id


def test_a_twelve_megabyte_phone_photo_is_taken_and_made_smaller(app):
    """#23.25: phones produce 5-12 MB photos; the staff form takes one whole (MAX_UPLOAD_BYTES is 16 MB) and the shop
    keeps it at 1600 px, not the bytes it came in."""
    import os

    from tests.helpers import logged_in

    item = f.product(name_id="Tas Rajut")
    db.session.commit()
    noise = Image.frombytes("RGB", (2000, 2000), os.urandom(2000 * 2000 * 3))  # photos of texture barely compress
    photo = io.BytesIO()
    noise.save(photo, "PNG", compress_level=1)
    assert photo.tell() > 11_000_000
    staff = logged_in(app, "fulfilment")

    # Werkzeug's test client spools a body over 500 KB to a temporary file it never closes: built and closed here.
    builder = EnvironBuilder(path=f"/staf/produk/{item.id}", method="POST", data={
        "name_id": "Tas Rajut", "price": "175000", "weight_g": "400", "active": "1",
        "photo": (io.BytesIO(photo.getvalue()), "IMG_20261203.png")})
    environ = builder.get_environ()
    try:
        answer = staff.open(environ)
    finally:
        environ["wsgi.input"].close()
        builder.close()

    assert answer.status_code == 302
    db.session.refresh(item)
    stored = Path(app.config["UPLOAD_FOLDER"]) / item.images[0].filename
    assert stored.stat().st_size < 2_000_000
    with Image.open(stored) as kept:
        assert max(kept.size) == 1600
