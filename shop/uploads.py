"""Private documents (transfer receipts, certificate scans, PNBP deposit slips): read by their content, never by
their name; pictures decoded with a pixel limit and stored re-encoded (nothing but the picture survives);
PDFs parsed and refused when they carry scripts, actions or attachments; stored outside the public media
folder and served only to staff, as sandboxed downloads."""

from __future__ import annotations

import io
import uuid
import warnings
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, UnidentifiedImageError
from werkzeug.wrappers import Response

from shop import storage
from shop.storage import StorageUnavailable, store_file  # noqa: F401 (where callers have always found them)

# Magic numbers of the accepted document types; the file name and the browser's claimed type are ignored.
SIGNATURES = {b"%PDF-": "pdf", b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpg"}
MAX_PIXELS = 52_000_000  # a phone photo is 12-50 megapixels; anything far beyond is a decompression bomb
# PDF names that make a document do something when opened: scripts, launched programs, embedded files,
# forms that run code, multimedia. A receipt or a certificate scan needs none of them.
ACTIVE_PDF_NAMES = {"/JavaScript", "/JS", "/Launch", "/EmbeddedFile", "/EmbeddedFiles", "/RichMedia", "/XFA",
                    "/AA", "/OpenAction", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE"}
MAX_PDF_OBJECTS = 50_000

REJECTIONS = {
    "empty": _l("Choose the photo or PDF of the document."),
    "too_large": _l("The file is too large."),
    "type": _l("Upload a PDF, JPEG or PNG file."),
    "pixels": _l("The picture has far too many pixels: send a normal photo or a scan."),
    "encrypted": _l("This PDF is locked with a password, so the shop cannot check it: send it unlocked, or a photo of "
                    "it instead."),
    "active": _l("This PDF contains scripts, actions or attached files, which the shop does not accept: print it "
                 "to a new PDF or send a photo instead."),
    "storage": _l("The file could not be stored right now (the server's storage is full or unavailable); nothing "
                  "was saved. Please try again later."),
}




class DocumentRejected(ValueError):
    """`reason` is a key of REJECTIONS; `message` words it in the reader's language."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    @property
    def message(self) -> str:
        return str(REJECTIONS[self.reason])


def document_type(data: bytes) -> str | None:
    return next((kind for magic, kind in SIGNATURES.items() if data.startswith(magic)), None)


def checked_document(data: bytes) -> tuple[str, bytes]:
    """The document's kind and the bytes to store, or DocumentRejected with the reason."""
    if not data:
        raise DocumentRejected("empty")
    if len(data) > current_app.config["MAX_DOCUMENT_BYTES"]:
        raise DocumentRejected("too_large")
    kind = document_type(data)
    if kind is None:
        raise DocumentRejected("type")
    if kind == "pdf":
        _check_pdf(data)
        return kind, data
    return kind, _reencoded_picture(data, kind)


def _reencoded_picture(data: bytes, kind: str) -> bytes:
    """Decode within the pixel limit and encode afresh: trailing HTML, metadata and tricks stay behind."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.width * probe.height > MAX_PIXELS:
                    raise DocumentRejected("pixels")
                probe.load()
                picture = probe.convert("RGB") if kind == "jpg" or probe.mode not in ("RGB", "RGBA", "L") else probe
                out = io.BytesIO()
                picture.save(out, "JPEG" if kind == "jpg" else "PNG", **({"quality": 90} if kind == "jpg" else {}))
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise DocumentRejected("pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise DocumentRejected("type") from None
    return out.getvalue()


def _check_pdf(data: bytes) -> None:
    """A real PDF with pages and nothing active in it (every object reachable from its catalog is looked at)."""
    from pypdf import PdfReader  # noqa: PLC0415 (a heavy library, loaded by a PDF upload only)
    from pypdf.errors import DependencyError, PyPdfError  # noqa: PLC0415

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:  # its objects cannot be read, so not checked: refused outright
            raise DocumentRejected("encrypted")
        if len(reader.pages) == 0:
            raise DocumentRejected("type")
        if _has_active_content(reader.trailer):
            raise DocumentRejected("active")
    except DocumentRejected:
        raise
    except (PyPdfError, DependencyError, ValueError, TypeError, KeyError, AttributeError, RecursionError, OSError):
        raise DocumentRejected("type") from None  # PyPdfError: every pypdf error, a "bomb" past its limits too


def _has_active_content(root: Any) -> bool:
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject  # noqa: PLC0415

    seen: set[tuple[int, int]] = set()
    pending = [root]
    visited = 0
    while pending:
        item = pending.pop()
        if isinstance(item, IndirectObject):
            key = (item.idnum, item.generation)
            if key in seen:
                continue
            seen.add(key)
            item = item.get_object()
        visited += 1
        if visited > MAX_PDF_OBJECTS:
            return True  # a receipt is small: a maze of objects is refused rather than walked for ever
        if isinstance(item, DictionaryObject):
            if any(str(name) in ACTIVE_PDF_NAMES for name in item.keys()):
                return True
            if str(item.get("/S", "")) in ACTIVE_PDF_NAMES or str(item.get("/Type", "")) in ACTIVE_PDF_NAMES:
                return True
            pending.extend(item.values())
        elif isinstance(item, ArrayObject):
            pending.extend(item)
    return False


def save_private_document(data: bytes, folder: str) -> str:
    """Check and store the bytes in the private store (PRIVATE_UPLOAD_FOLDER or the bucket's private part), under
    <folder>/; returns its name there."""
    kind, stored = checked_document(data)
    name = f"{uuid.uuid4().hex}.{kind}"
    try:
        storage.private().put(f"{folder}/{name}", stored)
    except StorageUnavailable:
        current_app.logger.exception("a private document could not be stored")
        raise DocumentRejected("storage") from None
    return f"{folder}/{name}"


def remove_private_document(name: str) -> None:
    """Take back a document stored for a row that was never committed (the row lost a race, say)."""
    storage.private().delete(name)


def send_private_document(name: str) -> Response:
    """A receipt or scan for staff: downloaded, never rendered as a page (a file that is secretly HTML or a
    script cannot run in the shop's origin), and never cached."""
    response = storage.private().serve(name, download=True, max_age=0)
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
