"""The treasurer's paperwork as files (#29): the cash book (BKU) and the monthly statement as XLSX sheets and
printable A4 PDFs (ReportLab, pure Python), in Indonesian as the treasury reads them."""

from __future__ import annotations

import io
from datetime import date
from typing import Any
from xml.sax.saxutils import escape  # ReportLab reads a Paragraph's text as markup: every typed text is escaped

from shop.finance.cashbook import CashBook, Statement, month_bounds
from shop.finance.reports import Table
from shop.i18n import ZONE_NAMES, rupiah

MONTHS_ID = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
             "November", "Desember"]


def month_name(month: str) -> str:
    return f"{MONTHS_ID[int(month[5:]) - 1]} {month[:4]}"


def day_name(day: date) -> str:
    return f"{day.day} {MONTHS_ID[day.month - 1]} {day.year}"


def rp(amount: int) -> str:
    return rupiah(amount, "id")


# -- sheets

def cash_book_table(book: CashBook) -> Table:
    first, _last = month_bounds(book.month)
    rows: list[list[Any]] = [[first, "Saldo awal bulan", "", 0, 0, 0, book.opening]]
    rows += [[row.day, row.text, row.reference, row.received, row.deposited, row.reclaimed, row.balance]
             for row in book.rows]
    footer = [["Jumlah", "", "", book.received, book.deposited, book.reclaimed, book.closing]]
    return Table(f"BKU {book.month}", ["Tanggal", "Uraian", "Kode billing / NTPN", "Penerimaan PNBP",
                                       "Penyetoran ke kas negara", "Diminta kembali", "Saldo"],
                 rows, money={3, 4, 5, 6}, dates={0}, total_rows=footer)


def statement_table(report: Statement) -> Table:
    book, row = report.book, report.row
    lines: list[list[Any]] = [
        ["UPT", report.facility.name],
        ["Bulan", month_name(report.month)],
        ["Saldo awal", book.opening],
        ["PNBP diterima", book.received],
        ["Disetor ke kas negara", book.deposited],
        ["PNBP bulan ini yang disetor terlambat", report.late_amount],
        ["Keterlambatan paling lama (hari)", report.late_days],
        ["Diminta kembali dari kas negara", book.reclaimed],
        ["Saldo akhir", book.closing],
        ["PNBP terutang bulan ini (buku besar)", row.accrued],
        ["Disetor untuk bulan ini", row.deposited],
        ["Status bulan", "ditutup" if report.final else "belum ditutup (draf)"],
    ]
    lines += [[f"Setoran {day_name(d.deposited_on)}", d.amount, d.billing_code, d.ntpn] for d in report.deposits]
    return Table(f"Laporan {report.month}", ["Uraian", "Jumlah", "Kode billing", "NTPN"],
                 [line + [""] * (4 - len(line)) for line in lines], total_rows=[])


# -- PDF

def _pdf(title: str, build: Any) -> bytes:
    # A heavy library, loaded when a PDF is asked for only.
    from reportlab.lib import colors  # noqa: PLC0415
    from reportlab.lib.pagesizes import A4  # noqa: PLC0415
    from reportlab.lib.styles import getSampleStyleSheet  # noqa: PLC0415
    from reportlab.lib.units import mm  # noqa: PLC0415
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, TableStyle  # noqa: PLC0415
    from reportlab.platypus import Table as PdfTable  # noqa: PLC0415

    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, title=title, author="Karya Binaan", leftMargin=15 * mm,
                            rightMargin=15 * mm, topMargin=15 * mm, bottomMargin=15 * mm)
    styles = getSampleStyleSheet()
    kit = {"Paragraph": Paragraph, "Spacer": Spacer, "Table": PdfTable, "TableStyle": TableStyle, "mm": mm,
           "colors": colors, "styles": styles, "width": A4[0] - 30 * mm}
    doc.build(build(kit))
    return out.getvalue()


def _grid(kit: dict[str, Any], data: list[list[Any]], widths: list[float], numbers: set[int],
          header: bool = True) -> Any:
    small = kit["styles"]["BodyText"].clone("cell", fontSize=8, leading=10)
    cells = [[kit["Paragraph"](escape(value), small) if isinstance(value, str) and column not in numbers else value
              for column, value in enumerate(line)] for line in data]
    table = kit["Table"](cells, colWidths=widths, repeatRows=1 if header else 0)
    style = [("GRID", (0, 0), (-1, -1), 0.4, kit["colors"].grey), ("FONTSIZE", (0, 0), (-1, -1), 8),
             ("VALIGN", (0, 0), (-1, -1), "TOP")]
    if header:
        style += [("BACKGROUND", (0, 0), (-1, 0), kit["colors"].whitesmoke), ("FONTNAME", (0, 0), (-1, 0),
                                                                               "Helvetica-Bold")]
    style += [("ALIGN", (column, 0), (column, -1), "RIGHT") for column in numbers]
    table.setStyle(kit["TableStyle"](style))
    return table


def _heading(kit: dict[str, Any], title: str, facility: Any, month: str) -> list[Any]:
    zone = ZONE_NAMES.get(facility.timezone, facility.timezone)
    return [kit["Paragraph"](escape(title), kit["styles"]["Title"]),
            kit["Paragraph"](escape(f"{facility.name} · {month_name(month)} · waktu {zone}"), kit["styles"]["Normal"]),
            kit["Spacer"](1, 4 * kit["mm"])]


def _signatures(kit: dict[str, Any], facility: Any, place_day: str) -> list[Any]:
    data = [[f"Mengetahui,\nKepala {facility.name}", f"{place_day}\nBendahara Penerimaan"],
            ["\n\n\n\n", "\n\n\n\n"], ["(......................................)\nNIP.",
                                       "(......................................)\nNIP."]]
    table = kit["Table"](data, colWidths=[kit["width"] / 2] * 2)
    table.setStyle(kit["TableStyle"]([("ALIGN", (0, 0), (-1, -1), "CENTER"), ("FONTSIZE", (0, 0), (-1, -1), 9)]))
    return [kit["Spacer"](1, 10 * kit["mm"]), table]


def cash_book_pdf(book: CashBook) -> bytes:
    def build(kit: dict[str, Any]) -> list[Any]:
        first, last = month_bounds(book.month)
        data: list[list[Any]] = [["Tanggal", "Uraian", "Kode billing / NTPN", "Penerimaan", "Penyetoran",
                                  "Diminta kembali", "Saldo"],
                                 [day_name(first), "Saldo awal bulan", "", "", "", "", rp(book.opening)]]
        data += [[day_name(row.day), row.text, row.reference, rp(row.received) if row.received else "",
                  rp(row.deposited) if row.deposited else "", rp(row.reclaimed) if row.reclaimed else "",
                  rp(row.balance)] for row in book.rows]
        data.append(["", "Jumlah / saldo akhir", "", rp(book.received), rp(book.deposited), rp(book.reclaimed),
                     rp(book.closing)])
        width = kit["width"]
        return [*_heading(kit, "Buku Kas Umum PNBP", book.facility, book.month),
                _grid(kit, data, [0.13 * width, 0.27 * width, 0.18 * width, 0.11 * width, 0.11 * width,
                                  0.09 * width, 0.11 * width], {3, 4, 5, 6}),
                *_signatures(kit, book.facility, f"{book.facility.city}, {day_name(last)}")]

    return _pdf(f"BKU PNBP {book.facility.name} {book.month}", build)


def statement_pdf(report: Statement) -> bytes:
    def build(kit: dict[str, Any]) -> list[Any]:
        book = report.book
        width = kit["width"]
        figures = [["Saldo awal bulan", rp(book.opening)],
                   ["PNBP diterima", rp(book.received)],
                   ["Disetor ke kas negara", rp(book.deposited)],
                   ["Diminta kembali dari kas negara (PNBP yang dikembalikan setelah disetor)", rp(book.reclaimed)],
                   ["Saldo akhir bulan", rp(book.closing)],
                   ["PNBP bulan ini yang disetor terlambat", rp(report.late_amount)],
                   ["Keterlambatan paling lama", f"{report.late_days} hari"]]
        parts = [*_heading(kit, "Laporan Bulanan Bendahara Penerimaan PNBP", report.facility, report.month)]
        if not report.final:
            parts.append(kit["Paragraph"]("DRAF: bulan ini belum ditutup, angka masih dapat berubah.",
                                          kit["styles"]["Heading3"]))
        parts += [_grid(kit, figures, [0.7 * width, 0.3 * width], {1}, header=False), kit["Spacer"](1, 5 * kit["mm"]),
                  kit["Paragraph"]("Setoran untuk PNBP bulan ini (NTPN)", kit["styles"]["Heading3"])]
        deposits: list[list[Any]] = [["Tanggal setor", "Kode billing", "NTPN", "Jumlah"]]
        deposits += [[day_name(d.deposited_on), d.billing_code, d.ntpn, rp(d.amount)] for d in report.deposits]
        if len(deposits) == 1:
            deposits.append(["—", "", "", rp(0)])
        parts.append(_grid(kit, deposits, [0.25 * width, 0.3 * width, 0.25 * width, 0.2 * width], {3}))
        parts += _signatures(kit, report.facility, f"{report.facility.city}, ....................")
        return parts

    return _pdf(f"Laporan bulanan PNBP {report.facility.name} {report.month}", build)
