"""Reports from the ledger: the yearly summary per region and facility, the public impact figures, and the
CSV/XLSX exports of the reconciliation, the deposits and the summary (Indonesian headers, amounts as numbers
in a Rupiah format, dates as dates, a frozen header row and a totals row that matches the screen)."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload

from shop.catalog.models import Facility, Region
from shop.extensions import cache, db
from shop.finance.models import PnbpDeposit
from shop.finance.reconciliation import MonthRow
from shop.i18n import ZONE_NAMES
from shop.ledger.cells import safe_cell
from shop.ledger.models import SPLIT_PARTS, Channel, LedgerEntry, Part
from shop.ledger.queries import DIRECT_SALE, LedgerFilter, filtered_entries
from shop.orders.models import Order
from shop.timeutil import aware, shop_zone, today

# The columns of the summary: sales, then where they went (these add up to the sales).
SUMMARY_PARTS = (Part.GROSS, *SPLIT_PARTS)


def shown_parts(report: Summary) -> list[Part]:
    """The summary's columns on screen: sales and the four shares always, production cost and unallocated money
    only in a year that has some (the exports keep every column)."""
    return [part for part in SUMMARY_PARTS
            if part not in (Part.PRODUCTION_COST, Part.UNALLOCATED) or report.total[part]]


@dataclass
class SummaryFacility:
    facility: Facility
    months: dict[str, dict[Part, int]] = field(default_factory=dict)
    direct: dict[str, int] = field(default_factory=dict)  # of each month's sales, those made face to face (#28)

    @property
    def total(self) -> dict[Part, int]:
        return _sum(self.months.values())

    @property
    def direct_total(self) -> int:
        return sum(self.direct.values())


@dataclass
class SummaryRegion:
    region: Region
    facilities: list[SummaryFacility] = field(default_factory=list)

    @property
    def total(self) -> dict[Part, int]:
        return _sum(f.total for f in self.facilities)

    @property
    def direct_total(self) -> int:
        return sum(f.direct_total for f in self.facilities)


def _sum(items: Any) -> dict[Part, int]:
    total = dict.fromkeys(SUMMARY_PARTS, 0)
    for parts in items:
        for part, amount in parts.items():
            total[part] += amount
    return total


@dataclass
class Summary:
    year: int
    regions: list[SummaryRegion]

    @property
    def total(self) -> dict[Part, int]:
        return _sum(r.total for r in self.regions)

    @property
    def direct_total(self) -> int:
        return sum(r.direct_total for r in self.regions)

    @property
    def months(self) -> list[str]:
        return [f"{self.year}-{number:02d}" for number in range(1, 13)]

    def chart(self) -> dict[str, Any]:
        """Monthly sales and PNBP per facility, for the charts (JSON in the page)."""
        facilities = [f for r in self.regions for f in r.facilities]
        return {"months": self.months,
                "sales": [{"label": f.facility.name,
                           "data": [f.months.get(m, {}).get(Part.GROSS, 0) for m in self.months]} for f in facilities],
                "pnbp": [{"label": f.facility.name,
                          "data": [f.months.get(m, {}).get(Part.PNBP, 0) for m in self.months]} for f in facilities]}


def summary(year: int, facility_id: int | None = None, region_id: int | None = None) -> Summary:
    """Sales and each part per facility and month of `year` (one GROUP BY), grouped by region."""
    query = (select(LedgerEntry.facility_id, LedgerEntry.month, LedgerEntry.part, func.sum(LedgerEntry.amount))
             .where(LedgerEntry.month.between(f"{year}-01", f"{year}-12"), LedgerEntry.part.in_(SUMMARY_PARTS),
                    LedgerEntry.facility_id.is_not(None))
             .group_by(LedgerEntry.facility_id, LedgerEntry.month, LedgerEntry.part))
    if facility_id is not None:
        query = query.where(LedgerEntry.facility_id == facility_id)
    found: dict[int, dict[str, dict[Part, int]]] = defaultdict(lambda: defaultdict(lambda: dict.fromkeys(
        SUMMARY_PARTS, 0)))
    for booked_facility, month, part, amount in db.session.execute(query).tuples():
        if booked_facility is not None:
            found[booked_facility][month][Part(part)] = int(amount)
    direct: dict[int, dict[str, int]] = defaultdict(dict)
    for booked_facility, month, amount in db.session.execute(
            select(LedgerEntry.facility_id, LedgerEntry.month, func.sum(LedgerEntry.amount))
            .where(LedgerEntry.month.between(f"{year}-01", f"{year}-12"), LedgerEntry.part == Part.GROSS,
                   LedgerEntry.channel == Channel.DIRECT)
            .group_by(LedgerEntry.facility_id, LedgerEntry.month)).tuples():
        if booked_facility is not None:
            direct[booked_facility][month] = int(amount)
    facilities = db.session.scalars(select(Facility).options(selectinload(Facility.region))
                                    .order_by(Facility.name)).all()
    regions: dict[int, SummaryRegion] = {}
    for facility in facilities:
        if (facility_id is not None and facility.id != facility_id) or \
                (region_id is not None and facility.region_id != region_id):
            continue
        if facility.id not in found and not facility.active:
            continue
        group = regions.setdefault(facility.region_id, SummaryRegion(facility.region))
        group.facilities.append(SummaryFacility(facility, dict(found.get(facility.id, {})),
                                                dict(direct.get(facility.id, {}))))
    return Summary(year, sorted(regions.values(), key=lambda r: r.region.name))


# -- the public impact page

@dataclass(frozen=True)
class Place:
    """A facility or region as the impact page names it: plain values, safe to keep in a cache across requests
    (an ORM object would outlive its session)."""

    id: int
    name: str
    slug: str = ""
    region_id: int = 0


@dataclass(frozen=True)
class Impact:
    """Per facility: units sold, makers' premi and PNBP, this year and all time (never typed in: the ledger)."""

    year: int
    facilities: list[tuple[Place, dict[str, int]]]
    regions: list[tuple[Place, dict[str, int]]]
    total: dict[str, int]


IMPACT_FIGURES = ("units_year", "premi_year", "pnbp_year", "units", "premi", "pnbp")
def impact(year: int | None = None) -> Impact:
    """The impact figures, kept for IMPACT_CACHE_SECONDS in the shop's shared cache (Redis with several workers,
    so every worker shows the same figures), one aggregate query when it is cold."""
    year = year or today().year
    seconds = current_app.config["IMPACT_CACHE_SECONDS"]
    key = f"impact:{year}"
    try:
        cached = cache.get(key) if seconds else None
    except Exception:  # noqa: BLE001 - a cache that is down makes the page slower, never broken
        current_app.logger.warning("impact cache unavailable", exc_info=True)
        cached = None
    if isinstance(cached, Impact):
        return cached
    figures = _impact(year)
    if seconds:
        try:
            cache.set(key, figures, timeout=seconds)
        except Exception:  # noqa: BLE001 - see above
            current_app.logger.warning("impact cache unavailable", exc_info=True)
    return figures


def clear_impact_cache() -> None:
    cache.delete_many(*(f"impact:{year}" for year in range(2000, 2100)))


def _impact(year: int) -> Impact:
    this_year = LedgerEntry.month.between(f"{year}-01", f"{year}-12")

    def total(part: Part, column: Any, only_year: bool) -> Any:
        condition = (LedgerEntry.part == part) & this_year if only_year else LedgerEntry.part == part
        return func.sum(case((condition, column), else_=0))

    query = (select(LedgerEntry.facility_id,
                    total(Part.GROSS, LedgerEntry.quantity, True), total(Part.PREMI, LedgerEntry.amount, True),
                    total(Part.PNBP, LedgerEntry.amount, True), total(Part.GROSS, LedgerEntry.quantity, False),
                    total(Part.PREMI, LedgerEntry.amount, False), total(Part.PNBP, LedgerEntry.amount, False))
             .where(LedgerEntry.part.in_((Part.GROSS, Part.PREMI, Part.PNBP)), LedgerEntry.facility_id.is_not(None))
             .group_by(LedgerEntry.facility_id))
    by_facility = {facility_id: dict(zip(IMPACT_FIGURES, (int(v or 0) for v in values), strict=True))
                   for facility_id, *values in db.session.execute(query).tuples()}
    facilities = db.session.scalars(select(Facility).options(selectinload(Facility.region))
                                    .where(Facility.id.in_(by_facility)).order_by(Facility.name)).all()
    regions: dict[int, tuple[Place, dict[str, int]]] = {}
    for facility in facilities:
        region = regions.setdefault(facility.region_id, (Place(facility.region_id, facility.region.name),
                                                         dict.fromkeys(IMPACT_FIGURES, 0)))
        for name, value in by_facility[facility.id].items():
            region[1][name] += value
    grand = dict.fromkeys(IMPACT_FIGURES, 0)
    for _region, sums in regions.values():
        for name, value in sums.items():
            grand[name] += value
    return Impact(year, [(Place(f.id, f.name, f.slug, f.region_id), by_facility[f.id]) for f in facilities],
                  sorted(regions.values(), key=lambda r: r[0].name), grand)


# -- exports

RUPIAH_FORMAT = '"Rp"#,##0;-"Rp"#,##0'


@dataclass
class Table:
    """A sheet: Indonesian headers, rows of plain values, which columns are rupiah and dates, and a totals row
    (the sum of every rupiah column) labelled in the first column."""

    title: str
    headers: list[str]
    rows: list[list[Any]]
    money: set[int] = field(default_factory=set)  # column indexes
    dates: set[int] = field(default_factory=set)
    times: set[int] = field(default_factory=set)  # date and time to the minute
    total_rows: list[list[Any]] | None = None  # instead of the one sum of every rupiah column

    @property
    def footer(self) -> list[list[Any]]:
        return self.total_rows if self.total_rows is not None else [self.totals]

    @property
    def totals(self) -> list[Any]:
        line: list[Any] = [""] * len(self.headers)
        line[0] = "Jumlah"
        for index in self.money:
            line[index] = sum(row[index] or 0 for row in self.rows)
        return line

    def csv(self) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(self.headers)
        for row in [*self.rows, *self.footer]:
            writer.writerow([value.isoformat(sep=" ", timespec="minutes") if isinstance(value, datetime)
                             else value.isoformat() if isinstance(value, date) else safe_cell(value) for value in row])
        return out.getvalue().encode("utf-8-sig")  # with a BOM, so spreadsheet programs read UTF-8

    def xlsx(self) -> bytes:
        from openpyxl import Workbook  # noqa: PLC0415 (a heavy library, loaded by an export only)
        from openpyxl.styles import Font  # noqa: PLC0415

        book = Workbook()
        sheet = book.active
        sheet.title = self.title[:31]
        sheet.append(self.headers)
        for row in self.rows:
            sheet.append([safe_cell(value) for value in row])
        for row in self.footer:
            sheet.append(row)
            for cell in sheet[sheet.max_row]:
                cell.font = Font(bold=True)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for column in sheet.iter_cols(min_row=2):
            if not column:  # a sheet of headers alone (no rows, no totals)
                break
            index = column[0].column - 1
            for cell in column:
                if index in self.money:
                    cell.number_format = RUPIAH_FORMAT
                elif index in self.dates:
                    cell.number_format = "yyyy-mm-dd"
                elif index in self.times:
                    cell.number_format = "yyyy-mm-dd hh:mm"
        for index, header in enumerate(self.headers):
            sheet.column_dimensions[sheet.cell(row=1, column=index + 1).column_letter].width = max(12, len(header) + 2)
        sheet.freeze_panes = "A2"
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()

    def render(self, kind: str) -> bytes:
        return self.xlsx() if kind == "xlsx" else self.csv()


STATE_NAMES = {"open": "berjalan", "balanced": "seimbang", "outstanding": "kurang setor",
               "over_deposited": "lebih setor", "closed": "ditutup"}


def ledger_table(filters: LedgerFilter) -> Table:
    """What the ledger browser shows, in the reader's words: each entry's accounting day and its booking time in
    the facility's own zone (said in the header), kind and part by name, the facility by name; then a total per
    part (a sum over parts would count each sale twice: its gross and its shares)."""
    zones = {facility.id: (facility.name, facility.timezone) for facility in db.session.scalars(select(Facility))}
    rows = []
    for entry, number, direct_number in db.session.execute(
            filtered_entries(select(LedgerEntry, Order.number, DIRECT_SALE.c.number)
                             .outerjoin(Order, Order.id == LedgerEntry.order_id)
                             .outerjoin(DIRECT_SALE, DIRECT_SALE.c.id == LedgerEntry.direct_sale_id),
                             filters).order_by(LedgerEntry.id)).tuples():
        name, zone = zones.get(entry.facility_id, ("", "")) if entry.facility_id else ("", "")
        booked = aware(entry.booked_at).astimezone(ZoneInfo(zone or shop_zone()))
        rows.append([entry.id, entry.month, entry.day, booked.replace(tzinfo=None),
                     ZONE_NAMES.get(zone or shop_zone(), zone or shop_zone()),
                     entry.kind.label, entry.part.label, entry.amount, number or direct_number, entry.channel.label,
                     name, entry.origin_month,
                     f"#{entry.rule_id}" if entry.rule_id else "", entry.note])
    sums: dict[Part, int] = defaultdict(int)
    for entry_part, amount in db.session.execute(filtered_entries(
            select(LedgerEntry.part, func.sum(LedgerEntry.amount)).group_by(LedgerEntry.part), filters)).tuples():
        sums[Part(entry_part)] += int(amount)
    headers = [_("No."), _("Month"), _("Accounting day"), _("Booked (facility's local time)"), _("Zone"),
               _("Kind"), _("Part"), _("Amount (Rp)"), _("Order or sale"), _("Channel"), _("Facility"),
               _("Month of the sale"), _("Rule"), _("Note")]
    totals = [[_("Total"), "", "", "", "", "", part.label, sums[part], "", "", "", "", "", ""]
              for part in Part if part in sums]
    return Table(_("Ledger"), headers, rows, money={7}, dates={2}, times={3}, total_rows=totals)


def reconciliation_table(rows: list[MonthRow]) -> Table:
    """Shortfalls and over-deposits in columns of their own: an over-deposit at one facility pays no other's PNBP,
    so their totals are never netted."""
    return Table("Rekonsiliasi PNBP",
                 ["Bulan", "Wilayah", "UPT", "PNBP terutang", "PNBP disetor", "Kurang setor", "Lebih setor",
                  "Lewat jatuh tempo", "Disetor terlambat", "Hari terlambat (paling lama)", "Pindahan bulan tertutup",
                  "Status", "Batas laporan", "Diminta kembali ke kas negara", "Di antaranya dari penjualan langsung"],
                 [[r.month, r.facility.region.name, r.facility.name, r.accrued, r.deposited, r.shortfall,
                   r.over_deposit, r.overdue, *r.late, r.carried_in, STATE_NAMES[r.state.value], r.report_due,
                   r.reclaim, r.direct] for r in rows],
                 money={3, 4, 5, 6, 7, 8, 10, 13, 14}, dates={12})


def deposits_table(deposits: list[PnbpDeposit]) -> Table:
    rows = [[d.id, d.facility.name, d.deposited_on, part.month, part.amount, d.billing_code, d.billing_expires_on,
             d.ntpn or "", d.ntb, d.bank, d.reverses_id or "", d.note]
            for d in deposits for part in d.months]
    return Table("Setoran PNBP", ["No. setoran", "UPT", "Tanggal setor", "Bulan", "Jumlah", "Kode billing",
                                  "Billing berlaku s.d.", "NTPN", "NTB", "Bank", "Membatalkan setoran",
                                  "Catatan / alasan"], rows, money={4}, dates={2, 6})


def summary_table(report: Summary) -> Table:
    headers = ["Wilayah", "UPT", "Bulan", "Penjualan", "PNBP", "Premi", "Modal produksi", "Koperasi",
               "Biaya produksi", "Belum dialokasikan", "Di antaranya penjualan langsung"]
    rows = [[region.region.name, item.facility.name, month, *(parts.get(p, 0) for p in SUMMARY_PARTS),
             item.direct.get(month, 0)]
            for region in report.regions for item in region.facilities for month, parts in sorted(item.months.items())]
    return Table(f"Ringkasan {report.year}", headers, rows, money=set(range(3, 4 + len(SUMMARY_PARTS))))
