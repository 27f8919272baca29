"""Sales written on paper or in a spreadsheet, imported whole (#28): a CSV or XLSX file with the columns `tanggal`,
`produk` (the product's slug), `jumlah`, `harga_satuan` and `pembayaran` (`tunai`, `qris`, `transfer`). All or
nothing: a file with any bad row imports nothing and lists every bad row; the same file twice is refused."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from shop.accounts.models import User
from shop.audit.service import record
from shop.catalog.models import Product
from shop.certification.service import is_sellable
from shop.extensions import db
from shop.i18n import rupiah
from shop.ledger.models import PeriodClose
from shop.sales.models import PAY_WORDS, PointKind, PointOfSale, SalesImport
from shop.sales.service import (
    MAX_PRICE,
    MAX_QUANTITY,
    MAX_SALE,
    LineInput,
    SaleInput,
    SaleRefused,
    SaleTaken,
    point_day,
    record_sale,
)

COLUMNS = ("tanggal", "produk", "jumlah", "harga_satuan", "pembayaran")
MAX_ROWS = 5_000
WHOLE = re.compile(r"\d{1,3}(\.\d{3})+|\d+")  # 35000 or 35.000 (Indonesian thousands), never 35000,50


@dataclass(frozen=True)
class BadRow:
    row: int  # as the spreadsheet numbers it: the header is row 1
    problem: str


class ImportRefused(Exception):
    def __init__(self, problems: list[BadRow]) -> None:
        super().__init__(problems)
        self.problems = problems


@dataclass(frozen=True)
class Imported:
    point: PointOfSale
    sales: int
    total: int


def read_rows(data: bytes, filename: str) -> list[dict[str, Any]]:
    """The file's rows as dicts by lower-cased column name; ImportRefused for a file that cannot be read."""
    if filename.lower().endswith(".xlsx"):
        try:
            from openpyxl import load_workbook  # noqa: PLC0415 - a heavy library, loaded for an import only

            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
            # Never more rows (or columns) than an import may hold: a small file can unzip into millions.
            table = [list(row[:20]) for row in islice(sheet.iter_rows(values_only=True), MAX_ROWS + 2)]
        except Exception as error:  # noqa: BLE001 - any unreadable workbook is one clear message
            raise ImportRefused([BadRow(0, _("The file is not a readable XLSX workbook."))]) from error
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise ImportRefused([BadRow(0, _("The file is not UTF-8 text: save it as CSV UTF-8."))]) from error
        sample = text[:2048]
        delimiter = ";" if sample.count(";") > sample.count(",") else ","
        table = [row[:20] for row in islice(csv.reader(io.StringIO(text), delimiter=delimiter), MAX_ROWS + 2)]
    # Each row keeps its number in the spreadsheet (the header is row 1), blank rows left out.
    numbered = [(number, row) for number, row in enumerate(table, start=1)
                if any(cell not in (None, "") for cell in row)]
    if not numbered:
        raise ImportRefused([BadRow(0, _("The file has no rows."))])
    header = [str(cell or "").strip().lower() for cell in numbered[0][1]]
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        raise ImportRefused([BadRow(numbered[0][0], _("Missing columns: %(names)s. The columns are: %(all)s.",
                                                       names=", ".join(missing), all=", ".join(COLUMNS)))])
    if len(table) > MAX_ROWS + 1:
        raise ImportRefused([BadRow(0, _("At most %(most)s rows in one file.", most=MAX_ROWS))])
    return [{"_row": number, **{name: (row[i] if i < len(row) else None) for i, name in enumerate(header)}}
            for number, row in numbered[1:]]


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    text = str(value or "").strip().removeprefix("Rp").strip()
    return int(text.replace(".", "")) if WHOLE.fullmatch(text) else None


def import_sales(data: bytes, filename: str, point_name: str, *, actor: User | None) -> Imported:
    """Check every row, then record each as a sale at the point (created, as an exhibition, if it is new), all in
    the caller's transaction. ImportRefused lists every bad row and writes nothing."""
    name = " ".join(point_name.split())
    if not name or len(name) > 120:
        raise ImportRefused([BadRow(0, _("Name the point of sale the sales were made at (at most %(most)s "
                                         "characters).", most=120))])
    rows = read_rows(data, filename)
    # The file is known by what it says, not its bytes: saved again, or as CSV instead of XLSX, it is the same file.
    digest = hashlib.sha256(repr([[str(row.get(column) or "").strip().lower() for column in COLUMNS]
                                  for row in rows]).encode()).hexdigest()
    if db.session.scalar(select(SalesImport.id).where(SalesImport.digest == digest)):
        raise ImportRefused([BadRow(0, _("This file was imported before: its sales are already recorded."))])
    point = db.session.scalar(select(PointOfSale).where(func.lower(PointOfSale.name) == name.lower()))
    today = point_day(point) if point else point_day(PointOfSale(name=name, kind=PointKind.EXHIBITION))
    products = {p.slug: p for p in db.session.scalars(select(Product).where(
        Product.slug.in_({str(row.get("produk") or "").strip() for row in rows})))}
    closed = {(facility_id, month) for facility_id, month in db.session.execute(
        select(PeriodClose.facility_id, PeriodClose.month)).tuples()}
    problems: list[BadRow] = []
    wanted: dict[int, int] = defaultdict(int)
    checked: list[tuple[int, date, Product, int, int, str]] = []
    for row in rows:
        number = int(row["_row"])
        said: list[str] = []
        day = _date(row.get("tanggal"))
        slug = str(row.get("produk") or "").strip()
        product = products.get(slug)
        quantity = _whole(row.get("jumlah"))
        price = _whole(row.get("harga_satuan"))
        method = str(row.get("pembayaran") or "").strip().lower()
        if day is None:
            said.append(_("the date is not a date (YYYY-MM-DD or DD/MM/YYYY)"))
        elif day > today:
            said.append(_("the date %(day)s is in the future", day=day.isoformat()))
        if product is None:
            said.append(_("no product has the address \"%(slug)s\"", slug=slug[:80]))
        if quantity is None or not 0 < quantity <= MAX_QUANTITY:
            said.append(_("the quantity is not a positive whole number"))
        if price is None or not 0 <= price <= MAX_PRICE:
            said.append(_("the unit price is not whole rupiah"))
        elif quantity and quantity > 0 and quantity * price > MAX_SALE:
            said.append(_("more than %(most)s in one row: split it", most=rupiah(MAX_SALE)))
        if product is not None and point is not None and point.kind is PointKind.GALLERY and \
                product.facility_id != point.facility_id:
            said.append(_("%(product)s is another facility's: a gallery sells its own facility's products.",
                          product=product.name_id))
        if method not in PAY_WORDS:
            said.append(_("the payment is not tunai, qris or transfer"))
        month = day.strftime("%Y-%m") if day is not None else ""
        if product is not None and (product.facility_id, month) in closed:
            said.append(_("%(month)s is closed for PNBP at %(facility)s", month=month, facility=product.facility.name))
        if product is not None and day is not None and day <= today and not is_sellable(product, day):
            said.append(_("%(product)s could not be sold on that day (hidden, or its food permits not valid)",
                          product=product.name_id))
        if product is not None and quantity and quantity > 0:
            wanted[product.id] += quantity
            if wanted[product.id] > product.stock:
                said.append(_("the stock on record of %(product)s is %(stock)s, below the %(wanted)s sold in the "
                              "file up to this row", product=product.name_id, stock=product.stock,
                              wanted=wanted[product.id]))
        if said:
            problems.append(BadRow(number, "; ".join(said)))
        elif product is not None and day is not None and quantity is not None and price is not None:
            checked.append((number, day, product, quantity, price, method))
    if problems:
        raise ImportRefused(problems)
    if point is None:
        point = PointOfSale(name=name, kind=PointKind.EXHIBITION, created_by_id=getattr(actor, "id", None))
        db.session.add(point)
    job = SalesImport(point=point, digest=digest, filename=filename[:200], rows=len(checked),
                      imported_by_id=getattr(actor, "id", None))
    db.session.add(job)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as error:  # the same file, or a new point of the same name, at the same moment
        raise SaleTaken() from error
    total = 0
    for number, day, product, quantity, price, method in checked:
        noon = datetime.combine(day, time(12), tzinfo=ZoneInfo(point.zone)).astimezone(UTC)
        try:
            done = record_sale(point, SaleInput(f"import:{digest[:40]}:{number}", PAY_WORDS[method],
                                                [LineInput(product.id, quantity, price,
                                                           _("imported from %(file)s", file=filename[:80]))],
                                                sold_at=noon, import_id=job.id), seller=actor)
        except SaleRefused as refused:  # changed since the check (a sale at the same moment): nothing stays
            raise ImportRefused([BadRow(number, str(refused))]) from refused
        total += done.sale.total
    record("direct_sale.import", point, None, {"file": filename[:200], "rows": len(checked), "total": total},
           actor=actor)
    return Imported(point, len(checked), total)
