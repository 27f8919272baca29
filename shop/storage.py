"""Where uploaded files live (#30): product photos (public, served at /media/…) and private documents (transfer
receipts, certificate scans, deposit slips, transfer receipts: served only to staff, through the shop).

By default two local folders (UPLOAD_FOLDER, PRIVATE_UPLOAD_FOLDER). With UPLOAD_STORAGE_URL=s3://bucket/prefix,
S3-compatible object storage through boto3 (S3_ENDPOINT_URL for MinIO, Ceph or a provider outside AWS; credentials
the usual AWS way: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the machine's role), so several app servers share
the files: photos under `<prefix>/public/`, documents under `<prefix>/private/`. The bucket stays private: the shop
reads each file and serves it itself, as it does from disk."""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from flask import Flask, abort, current_app, request, send_from_directory
from flask_babel import gettext as _
from werkzeug.security import safe_join
from werkzeug.wrappers import Response


class StorageUnavailable(OSError):
    """A file could not be written (disk full, read-only, gone; the object storage refused or is away); nothing of
    it was left behind."""


def store_file(path: Path, data: bytes) -> None:
    """Write `data` to `path` whole or not at all: into a temporary name beside it, then renamed, so a full disk
    leaves no half-written file that a later request would serve."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(partial, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise StorageUnavailable(error.errno, f"{path}: {error.strerror}") from error


def _safe_key(key: str) -> str | None:
    """A stored file's name as the shop makes them ("products/x.jpg"): no absolute path, no "..", no backslash."""
    parts = key.split("/")
    if not key or key.startswith("/") or "\\" in key or any(part in ("", ".", "..") for part in parts):
        return None
    return key


class Store(Protocol):
    def put(self, key: str, data: bytes) -> None: ...
    def get(self, key: str) -> bytes | None: ...
    def delete(self, key: str) -> None: ...
    def serve(self, key: str, *, download: bool, max_age: int) -> Response: ...
    def describe(self) -> str: ...


class FolderStore:
    """A folder named by a setting (read each time: a test, or an operator, may point it elsewhere)."""

    def __init__(self, setting: str) -> None:
        self.setting = setting

    @property
    def root(self) -> Path:
        return Path(current_app.config[self.setting])

    def put(self, key: str, data: bytes) -> None:
        if _safe_key(key) is None:
            raise ValueError(key)
        store_file(self.root / key, data)

    def get(self, key: str) -> bytes | None:
        path = safe_join(str(self.root), key)
        try:
            return Path(path).read_bytes() if path else None
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> None:
        path = safe_join(str(self.root), key)
        if path:
            Path(path).unlink(missing_ok=True)

    def serve(self, key: str, *, download: bool, max_age: int) -> Response:
        return send_from_directory(self.root, key, max_age=max_age, as_attachment=download)

    def describe(self) -> str:
        return str(self.root)


class BucketStore:
    def __init__(self, client: Any, bucket: str, prefix: str) -> None:
        self.client, self.bucket, self.prefix = client, bucket, prefix

    def _key(self, key: str) -> str:
        if _safe_key(key) is None:
            raise ValueError(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes) -> None:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - boto only with a bucket

        try:  # one PUT: the object is there whole or not at all
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data,
                                   ContentType=mimetypes.guess_type(key)[0] or "application/octet-stream")
        except (BotoCoreError, ClientError) as error:
            raise StorageUnavailable(0, f"s3://{self.bucket}/{self._key(key)}: {error}") from error

    def get(self, key: str) -> bytes | None:
        """The file, None when there is none; StorageUnavailable when the bucket cannot be read now."""
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        if _safe_key(key) is None:
            return None
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise StorageUnavailable(0, f"{self.describe()}/{key}: {error}") from error
        except BotoCoreError as error:
            raise StorageUnavailable(0, f"{self.describe()}/{key}: {error}") from error

    def delete(self, key: str) -> None:
        """Best effort: a file left behind is only space, never a wrong answer."""
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        if _safe_key(key) is not None:
            try:
                self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
            except (BotoCoreError, ClientError):
                current_app.logger.warning("could not delete %s/%s", self.describe(), key, exc_info=True)

    def serve(self, key: str, *, download: bool, max_age: int) -> Response:
        try:
            data = self.get(key)
        except StorageUnavailable:
            current_app.logger.exception("a stored file could not be read")
            return Response(_("The file cannot be read right now: try again in a moment.") + "\n", status=503,
                            mimetype="text/plain", headers={"Retry-After": "30"})
        if data is None:
            abort(404)
        response = Response(data, mimetype=mimetypes.guess_type(key)[0] or "application/octet-stream")
        response.headers["Cache-Control"] = f"public, max-age={max_age}" if max_age else "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.add_etag()
        response.make_conditional(request)
        if download:
            response.headers["Content-Disposition"] = f'attachment; filename="{key.rsplit("/", 1)[-1]}"'
        return response

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def reachable(self) -> None:
        self.client.head_bucket(Bucket=self.bucket)


def _bucket(app: Flask, url: str) -> tuple[Any, str, str]:
    import boto3  # noqa: PLC0415 - loaded only when a bucket is configured
    from botocore.config import Config  # noqa: PLC0415

    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ValueError(f"UPLOAD_STORAGE_URL must be s3://bucket/prefix, not {url!r}")
    # Short timeouts and few retries: a bucket that is away costs a request seconds, never a worker for minutes.
    client = boto3.client("s3", endpoint_url=app.config.get("S3_ENDPOINT_URL") or None,
                          region_name=app.config.get("S3_REGION") or None,
                          config=Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 2,
                                                                                     "mode": "standard"}))
    return client, parsed.netloc, parsed.path.strip("/")


def init_app(app: Flask) -> None:
    url = app.config.get("UPLOAD_STORAGE_URL") or ""
    if url:
        client, bucket, prefix = _bucket(app, url)
        stores: dict[str, Store] = {
            "public": BucketStore(client, bucket, f"{prefix}/public".strip("/")),
            "private": BucketStore(client, bucket, f"{prefix}/private".strip("/")),
        }
    else:
        stores = {"public": FolderStore("UPLOAD_FOLDER"), "private": FolderStore("PRIVATE_UPLOAD_FOLDER")}
    app.extensions["storage"] = stores


def public() -> Store:
    """Product photos (served to everyone at /media/…)."""
    return current_app.extensions["storage"]["public"]


def private() -> Store:
    """Receipts, scans and slips (served to staff only, as downloads)."""
    return current_app.extensions["storage"]["private"]
