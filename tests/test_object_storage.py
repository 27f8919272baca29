"""#30.6: with UPLOAD_STORAGE_URL=s3://bucket/prefix, photos, receipts, scans and slips go to S3-compatible object
storage through boto3, here moto's S3 in server mode (a real HTTP endpoint); public photos are served at /media/,
private documents only to staff through the shop; a bucket that is away refuses the upload cleanly."""

from __future__ import annotations

import socket

import boto3
import pytest
import requests
from moto.server import ThreadedMotoServer

from shop import create_app, storage
from shop.catalog.images import save_product_image
from shop.extensions import db
from shop.uploads import DocumentRejected, save_private_document, send_private_document
from tests import factories as f

BUCKET = "karya-binaan-test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def s3(monkeypatch):
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    endpoint = f"http://127.0.0.1:{port}"
    requests.post(f"{endpoint}/moto-api/reset", timeout=10)  # moto keeps its buckets per process: start empty
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    yield endpoint, client
    server.stop()


@pytest.fixture
def bucket_app(s3, database_url, tmp_path):
    endpoint, _client = s3
    shop = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "s3-test-secret-0",
                       "WTF_CSRF_ENABLED": False, "UPLOAD_STORAGE_URL": f"s3://{BUCKET}/shop",
                       "S3_ENDPOINT_URL": endpoint, "S3_REGION": "us-east-1",
                       "UPLOAD_FOLDER": str(tmp_path / "never-used"),
                       "PRIVATE_UPLOAD_FOLDER": str(tmp_path / "never-used-either")})
    try:
        with shop.app_context():
            yield shop
    finally:
        with shop.app_context():
            db.session.remove()
            db.engine.dispose()


def keys(client) -> set[str]:
    return {item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def test_a_photo_goes_to_the_bucket_and_is_served_at_its_media_address(bucket_app, s3, tmp_path):
    _endpoint, client = s3
    product = f.product()
    image = save_product_image(product, f.png_image((400, 300)))
    db.session.commit()
    stored = keys(client)
    assert f"shop/public/{image.filename}" in stored and f"shop/public/{image.thumbnail}" in stored
    assert any(key.endswith(".webp") for key in stored)
    answer = bucket_app.test_client().get(f"/media/{image.filename}")
    assert answer.status_code == 200 and answer.mimetype == "image/jpeg" and answer.data[:3] == b"\xff\xd8\xff"
    assert bucket_app.test_client().get("/media/products/tidak-ada.jpg").status_code == 404
    assert bucket_app.test_client().get("/media/../shop/private/x.pdf").status_code == 404
    assert not (tmp_path / "never-used").exists()  # nothing on the local disk


def test_a_private_document_goes_to_the_private_part_and_is_served_only_as_a_download(bucket_app, s3):
    _endpoint, client = s3
    name = save_private_document(f.PDF, "receipts")
    assert f"shop/private/{name}" in keys(client)
    with bucket_app.test_request_context():
        response = send_private_document(name)
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["Content-Security-Policy"].startswith("sandbox")
    assert response.get_data().startswith(b"%PDF")
    assert bucket_app.test_client().get(f"/media/../private/{name}").status_code == 404
    storage.private().delete(name)
    assert f"shop/private/{name}" not in keys(client)


def test_a_bucket_that_is_away_refuses_the_upload_and_writes_nothing(bucket_app, s3):
    _endpoint, client = s3
    client.delete_bucket(Bucket=BUCKET)  # gone (or the credentials revoked): every PUT fails
    with pytest.raises(DocumentRejected) as refused:
        save_private_document(f.PDF, "receipts")
    assert refused.value.reason == "storage"
    with pytest.raises(OSError):
        save_product_image(f.product(), f.png_image())
    db.session.rollback()


def test_a_bucket_that_cannot_be_read_answers_503_not_a_server_error(bucket_app, s3):
    _endpoint, client = s3
    image = save_product_image(f.product(), f.png_image())
    db.session.commit()
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)
    answer = bucket_app.test_client().get(f"/media/{image.filename}")
    assert answer.status_code == 503 and "coba lagi" in answer.get_data(as_text=True)
