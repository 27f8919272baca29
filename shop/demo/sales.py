"""A demo sales history, so the finance desk and the impact page have something to show: a few months of
orders paid by bank transfer, shipped and delivered, one refund, and the PNBP deposits and closed months a
facility's treasurer would have recorded. Played through the shop's own services with the shop's clock moved
back (FROZEN_NOW), so every figure comes from the ledger exactly as a real sale's would. Demo mode only."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from shop.accounts.models import User
from shop.catalog.models import Facility, Product
from shop.demo import placeholder_image
from shop.extensions import db
from shop.finance import deposits, reconciliation
from shop.fulfilment import service as desk
from shop.ledger.service import next_month
from shop.orders.models import Order
from shop.orders.service import Buyer, OrderError, place_order
from shop.payments import service as payments
from shop.payments.models import Payment, PaymentStatus
from shop.sales import service as direct
from shop.sales.models import PayMethod, PointKind
from shop.shipping.models import Courier
from shop.timeutil import utcnow
from shop.uploads import save_private_document

DEMO_BUYER_DOMAIN = "demo.karyabinaan.id"
# Fictional buyers across Indonesia (name, city, province, postal code).
BUYERS = [
    ("Rina Lestari", "Kota Palu", "Sulawesi Tengah", "94111"),
    ("Andi Pratama", "Kota Makassar", "Sulawesi Selatan", "90111"),
    ("Dewi Anggraini", "Kota Jambi", "Jambi", "36122"),
    ("Yusuf Hidayat", "Kota Surabaya", "Jawa Timur", "60271"),
    ("Maria Tampubolon", "Kota Medan", "Sumatera Utara", "20112"),
    ("Fajar Nugroho", "Jakarta Selatan", "DKI Jakarta", "12110"),
]
MONTHS_BACK = 4


def _months(now: datetime) -> list[date]:
    first = date(now.year, now.month, 1)
    months = []
    for _ in range(MONTHS_BACK + 1):
        months.append(first)
        first = (first - timedelta(days=1)).replace(day=1)
    return sorted(months)


def load_sales(seed: int = 2026) -> dict[str, int]:
    """Play the demo history once (nothing happens when the shop already has orders)."""
    if db.session.scalar(select(func.count(Order.id))):
        return {"demo orders": 0}
    rng = random.Random(seed)
    real_now = utcnow()
    courier = db.session.scalar(select(Courier).order_by(Courier.position, Courier.id))
    products = list(db.session.scalars(select(Product).where(Product.active.is_(True)).order_by(Product.id)))
    if courier is None or not products:
        return {"demo orders": 0}
    receipt = _stored_receipt(placeholder_image("Bukti transfer (demo)", (110, 110, 110)))
    placed = 0
    try:
        for month in _months(real_now):
            for _ in range(rng.randint(6, 10)):
                moment = datetime.combine(month, datetime.min.time(), UTC) + timedelta(
                    days=rng.randint(0, 27), hours=rng.randint(0, 12), minutes=rng.randint(0, 59))
                if moment > real_now - timedelta(hours=6):
                    continue
                if _sale(rng, moment, products, courier, receipt, delivered=moment < real_now - timedelta(days=10)):
                    placed += 1
        _one_refund(real_now)
        direct = _direct_sales(rng, real_now)
        deposits = _deposits(real_now)
    finally:
        current_app.config.pop("FROZEN_NOW", None)
    return {"demo orders": placed, "demo direct sales": direct, "demo PNBP deposits": deposits}


def _direct_sales(rng: random.Random, now: datetime) -> int:
    """Face-to-face sales (#28): the gallery of Lapas Perempuan Palu, and a Hari Bakti Pemasyarakatan bazaar of
    three days last month, sold by the demo's cooperative staff (and the facility's own staff at its gallery)."""
    palu = db.session.scalar(select(Facility).where(Facility.slug == "lapas-perempuan-palu"))
    if palu is None:
        return 0
    sellers = [user.id for user in db.session.scalars(select(User).where(User.email.in_(
        ("gudang@demo.karyabinaan.id", "lapas-perempuan-palu@demo.karyabinaan.id"))))]
    bazaar_day = (now - timedelta(days=30)).date()
    gallery = direct.save_point(direct.PointInput("Galeri Lapas Perempuan Palu", PointKind.GALLERY, palu.id,
                                                  "Jl. Dayodara, Kota Palu", seller_ids=sellers), actor=None)
    bazaar = direct.save_point(direct.PointInput("Bazar Hari Bakti Pemasyarakatan Palu", PointKind.EXHIBITION,
                                                 place="Taman GOR Palu", starts_on=bazaar_day,
                                                 ends_on=bazaar_day + timedelta(days=2),
                                                 seller_ids=sellers[:1]), actor=None)
    recorded = 0
    for point, days in ((bazaar, [bazaar_day + timedelta(days=n) for n in range(3)]),
                        (gallery, [(now - timedelta(days=n)).date() for n in (20, 12, 5, 2)])):
        choices = [p for p in db.session.scalars(select(Product).where(Product.active.is_(True)).order_by(Product.id))
                   if point.facility_id is None or p.facility_id == point.facility_id]
        for day in days:
            for n in range(rng.randint(2, 4)):
                moment = _local_noon(palu, day) + timedelta(minutes=37 * n)
                if moment > now or not choices:
                    continue
                _at(moment)
                product = rng.choice(choices)
                method = rng.choice([PayMethod.CASH, PayMethod.CASH, PayMethod.QRIS, PayMethod.TRANSFER])
                savepoint = db.session.begin_nested()
                try:
                    direct.record_sale(point, direct.SaleInput(f"demo-{point.id}-{day}-{n}", method,
                                                               [direct.LineInput(product.id, rng.randint(1, 2))]),
                                       seller=None)
                except (direct.SaleRefused, direct.SaleTaken):  # sold out, or not sellable on that day
                    savepoint.rollback()
                    continue
                savepoint.commit()
                recorded += 1
    return recorded


def _at(moment: datetime) -> None:
    current_app.config["FROZEN_NOW"] = moment


def _stored_receipt(image: bytes) -> str:
    return save_private_document(image, "receipts")


def _sale(rng: random.Random, moment: datetime, products: list[Product], courier: Courier, receipt: str,
          delivered: bool) -> bool:
    name, city, province, postal = rng.choice(BUYERS)
    buyer = Buyer(name=name, email=f"{name.split()[0].lower()}@{DEMO_BUYER_DOMAIN}", phone="+6281200000000",
                  street="Jl. Contoh No. 1", rt_rw="001/002", kelurahan="Demo", kecamatan="Demo", city=city,
                  province=province, postal_code=postal)
    items = {p.id: rng.randint(1, 3) for p in rng.sample(products, rng.randint(1, 3))}
    _at(moment)
    savepoint = db.session.begin_nested()
    try:
        order = place_order(items, buyer, courier.id)
        payment = payments.start_bank_transfer(order)
        _at(moment + timedelta(minutes=40))
        payments.submit_transfer_receipt(payment, receipt)
        _at(moment + timedelta(hours=3))
        payments.confirm_transfer(payment, reference=f"DEMO-{order.number}", actor="demo")
        if delivered:
            _at(moment + timedelta(days=1))
            desk.mark_packed(order, actor="demo")
            _at(moment + timedelta(days=1, hours=4))
            for facility_id in sorted({line.facility_id for line in order.lines}):
                desk.ship(order, facility_id=facility_id, courier_id=courier.id,
                          tracking_number=f"DEMO{order.id:06d}{facility_id:02d}", actor="demo")
            _at(moment + timedelta(days=4))
            desk.mark_delivered(order, actor="demo")
    except (OrderError, payments.PaymentError, desk.FulfilmentError):  # sold out, or not sellable on that day
        savepoint.rollback()
        return False
    savepoint.commit()
    return True


def _one_refund(now: datetime) -> None:
    """A buyer's parcel arrived damaged last month: part of the money went back."""
    last_month = (date(now.year, now.month, 1) - timedelta(days=1)).replace(day=10)
    payment = db.session.scalar(select(Payment).join(Order).where(
        Payment.status == PaymentStatus.SUCCEEDED, Order.created_at < datetime.combine(last_month, datetime.min.time(),
                                                                                      UTC)).order_by(Payment.id.desc()))
    if payment is None:
        return
    _at(datetime.combine(last_month, datetime.min.time(), UTC) + timedelta(hours=3))
    line = min(payment.order.lines, key=lambda item: item.amount)
    items = payments.refund_items(payment.order, quantities={line.id: 1})  # that one item, its facility's PNBP only
    payments.refund(payment, amount=line.unit_price, reason="Satu barang rusak saat pengiriman (demo)",
                    key="demo-refund", actor="demo", transfer_reference="DEMO-REFUND", items=items)


def _deposits(now: datetime) -> int:
    """Every month but the last two deposited in full and closed; the month before last deposited in full but
    left open; last month and this month still owed (the desk shows them outstanding and running)."""
    months = [m.strftime("%Y-%m") for m in _months(now)]
    paid_up_to, closed_up_to = months[-3], months[-4]
    receipt = _demo_receipt_bytes()
    count = 0
    rows = sorted(reconciliation.overview(), key=lambda row: (row.month, row.facility.id))
    for row in rows:
        if row.month > paid_up_to or row.accrued <= 0:
            continue
        _at(_local_noon(row.facility, _deposit_day(row.month)))
        count += 1
        deposits.record_deposit(deposits.DepositInput(
            facility_id=row.facility.id, amount=row.accrued, months={row.month: row.accrued},
            billing_code=f"8{row.facility.id:03d}{row.month.replace('-', '')}{count:05d}",
            billing_expires_on=_deposit_day(row.month) + timedelta(days=3),
            ntpn=f"DEMO{row.facility.id:04d}{row.month.replace('-', '')}{count:02d}"[:16].upper(),
            ntb=f"DEMO{count:06d}", deposited_on=_deposit_day(row.month), bank="BRI (demo)",
            note="demo data"), receipt, actor=None)
        if row.month <= closed_up_to:
            deposits.close_month(row.facility, row.month, actor=None)
    return count


def _deposit_day(month: str) -> date:
    """The 5th of the next month: when the demo treasurer deposits a month's PNBP (a periodic deposit)."""
    return date.fromisoformat(f"{next_month(month)}-05")


def _local_noon(facility: Facility, day: date) -> datetime:
    return datetime.combine(day, datetime.min.time().replace(hour=12), ZoneInfo(facility.timezone)).astimezone(UTC)


def _demo_receipt_bytes() -> bytes:
    return placeholder_image("Bukti setor PNBP (demo)", (70, 90, 120))

