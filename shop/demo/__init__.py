"""The demo data set: facilities from the source articles and a demo catalogue, loaded idempotently."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select

from shop.accounts.service import create_user, user_by_email
from shop.catalog.images import save_product_image
from shop.catalog.models import Category, Facility, FacilityKind, Lot, Product, Region, StockMovement, StockReason
from shop.certification.models import Certification, CertType, RecordedStatus
from shop.extensions import db
from shop.finance import holidays
from shop.ledger.models import SHARES, Part, SplitBase, SplitRule
from shop.ledger.service import RuleInput, create_rule
from shop.shipping.models import Courier, ShippingRate
from shop.shipping.provinces import PROVINCES, SUMATRA_PROVINCES
from shop.timeutil import today

DEMO_DIR = Path(__file__).parent
FEATURED = {"bawang-goreng-palu-200g", "tas-rajut-selempang", "abon-ikan-tuna", "sarung-tenun-donggala",
            "keripik-nanas-tungkal", "kursi-kayu-jati", "tas-rajut-tote", "minyak-kelapa-banggai"}
ISSUERS = {"halal": "BPJPH", "bpom_md": "BPOM RI", "bpom_ml": "BPOM RI", "pirt": "Pemda {city}"}
COLOURS = {"olahan-pangan": (196, 120, 52), "kerajinan": (93, 124, 78), "fesyen": (156, 64, 98),
           "perikanan": (44, 104, 150), "pertanian": (118, 130, 40), "mebel": (120, 84, 52)}


def _upsert(model: Any, slug: str, **values: Any) -> Any:
    row = db.session.scalar(select(model).where(model.slug == slug))
    if row is None:
        row = model(slug=slug, **values)
        db.session.add(row)
    else:
        for key, value in values.items():
            if getattr(row, key) != value:
                setattr(row, key, value)
    return row


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def load(data_dir: Path = DEMO_DIR, with_images: bool = True) -> dict[str, int]:
    """Create or update every demo row by its slug; a second run changes nothing."""
    facilities_data = json.loads((data_dir / "facilities.json").read_text())
    catalogue = json.loads((data_dir / "products.json").read_text())
    regions = {
        r["slug"]: _upsert(Region, r["slug"], name=r["name"], office=r["office"], city=r["city"])
        for r in facilities_data["regions"]
    }
    db.session.flush()
    facilities = {
        f["slug"]: _upsert(Facility, f["slug"], region_id=regions[f["region"]].id, kind=FacilityKind(f["kind"]),
                           facility_class=f.get("class", ""), name=f["name"], city=f["city"],
                           story_id=f.get("story_id", ""), story_en=f.get("story_en", ""),
                           timezone=f.get("timezone") or REGION_ZONES.get(f["region"], "Asia/Makassar"))
        for f in facilities_data["facilities"]
    }
    categories = {
        c["slug"]: _upsert(Category, c["slug"], name_id=c["name_id"], name_en=c["name_en"],
                           required_certs=list(c.get("needs", [])), position=position)
        for position, c in enumerate(catalogue["categories"])
    }
    db.session.flush()
    for p in catalogue["products"]:
        product = _upsert(Product, p["slug"], facility_id=facilities[p["facility"]].id,
                          category_id=categories[p["category"]].id, name_id=p["name_id"], name_en=p["name_en"],
                          price=int(p["price"]), weight_g=int(p["weight_g"]), featured=p["slug"] in FEATURED,
                          net_content=p.get("net_content", ""), description_id=p.get("description_id", ""),
                          description_en=p.get("description_en", ""),
                          **dict(zip(("length_cm", "width_cm", "height_cm"), p.get("size_cm", (0, 0, 0)), strict=True)),
                          needs_crate=bool(p.get("needs_crate", False)),
                          unit_cost=int(p.get("unit_cost", int(p["price"]) * DEMO_COST_PERCENT // 100)))
        is_new = product.id is None
        if is_new:
            product.stock = int(p["stock"])  # stock is the shop's own after the first load
        db.session.flush()
        if is_new and product.stock:
            lot = _demo_lot(product, categories[p["category"]])
            db.session.add(StockMovement(product_id=product.id, delta=product.stock, reason=StockReason.OPENING,
                                         note="demo data", lot_id=lot.id if lot else None))
        for cert in p.get("certs", []):
            _upsert_certificate(product, cert, facilities[p["facility"]].city)
        if with_images and not product.images:
            save_product_image(product, placeholder_image(p["name_id"], COLOURS.get(p["category"], (90, 90, 90)),
                                                          caption=f"{categories[p['category']].name_id} · "
                                                                  f"{facilities[p['facility']].name}"),
                               alt_id=p["name_id"], alt_en=p["name_en"])
    db.session.flush()
    rates = load_couriers()
    rules = load_split_rules(catalogue.get("split_rule"), facilities)
    days_off = holidays.load_known(today().year)  # this year's national holidays and collective leave (#29)
    return {"regions": len(regions), "facilities": len(facilities), "categories": len(categories),
            "products": len(catalogue["products"]), "shipping rates": rates, "split rules": rules,
            "public holidays": days_off}


def _demo_lot(product: Product, category: Category) -> Lot | None:
    """Food arrives as a lot with a code and dates (#27): a demo lot made three weeks ago, good for five months."""
    if not category.required_certs:
        return None
    made = today() - timedelta(days=21)
    lot = Lot(product_id=product.id, code=f"{product.slug[:12].upper()}-{made:%y%m}", produced_on=made,
              best_before=made + timedelta(days=150), received_qty=product.stock, on_hand=product.stock)
    db.session.add(lot)
    product.lotted = True
    db.session.flush()
    return lot


# Demo unit cost (materials, packaging) where products.json gives none: a demo choice, used by margin rules.
DEMO_COST_PERCENT = 40
# Jambi keeps WIB (UTC+7); Sulawesi Tengah WITA (UTC+8), the default.
REGION_ZONES = {"jambi": "Asia/Jakarta", "sulawesi-tengah": "Asia/Makassar"}
# A second, facility-specific demo rule, so both cases show: a margin rule for Lapas Kuala Tungkal (demo choice).
FACILITY_RULE = ("lapas-kuala-tungkal", {"pnbp": 25, "premi": 15, "cooperative": 40, "production_capital": 20})


def load_split_rules(demo_rule: dict[str, Any] | None, facilities: dict[str, Facility]) -> int:
    """The demo split (percent of gross, from products.json) for every product, and one facility's own rule.
    A scope that already has a rule is left alone: the rules are finance's once the shop runs."""
    if not demo_rule:
        return 0
    start = date.fromisoformat(demo_rule["effective_from"])
    everything = {p: int(demo_rule[p.value]) for p in SHARES}
    wanted: list[tuple[int | None, dict[Part, int], SplitBase]] = [(None, everything, SplitBase.GROSS)]
    slug, percents = FACILITY_RULE
    if slug in facilities:
        wanted.append((facilities[slug].id, {p: percents[p.value] for p in SHARES}, SplitBase.MARGIN))
    for facility_id, percent, base in wanted:
        scope = SplitRule.facility_id == facility_id if facility_id else SplitRule.facility_id.is_(None)
        if db.session.scalar(select(SplitRule.id).where(scope, SplitRule.category_id.is_(None))) is None:
            create_rule(RuleInput(effective_from=start, shares={p: v * 100 for p, v in percent.items()}, base=base,
                                  facility_id=facility_id, note="demo data"), actor=None)
    return len(wanted)


# Demo couriers (price percent of the zone rate) and a zone rate table (rupiah for the first started kg,
# each further kg, delivery days), seen from Palu. Real rates come from the couriers' contracts: staff edit them.
COURIERS = [
    ("jne", "JNE", "https://www.jne.co.id/tracking-package?resi={resi}", 100),
    ("jnt", "J&T Express", "https://jet.co.id/track?resi={resi}", 95),
    ("sicepat", "SiCepat", "https://www.sicepat.com/checkAwb?awb={resi}", 90),
    ("pos", "POS Indonesia", "https://www.posindonesia.co.id/id/tracking?resi={resi}", 85),
]
# A cargo service for furniture: a third of the price per kilogram, a 10 kg least weight and a divisor of 4000 (as
# JNE Trucking states them); demo prices, not its tariff.
CARGO = ("jtr", "JNE Trucking (kargo)", "https://www.jne.co.id/tracking-package?resi={resi}", 33)
ZONE_RATES = {1: (12_000, 8_000, 2, 4), 2: (28_000, 20_000, 3, 6), 3: (32_000, 24_000, 3, 6),
              4: (38_000, 28_000, 4, 7), 5: (65_000, 50_000, 5, 10)}


# Rates from any region use the zones seen from Palu; Jambi's facilities get their own table (zones from Sumatra).
REGION_ZONE_TABLES = {"jambi": "sumatra"}


DEMO_CRATE_FEE = 75_000  # a demo price for a wooden crate per parcel, not a courier's tariff


def load_couriers() -> int:
    regions = {region.slug: region.id for region in db.session.scalars(select(Region))}
    tables: list[tuple[int | None, dict[str, int]]] = [(None, PROVINCES)]
    tables += [(regions[slug], SUMATRA_PROVINCES) for slug in REGION_ZONE_TABLES if slug in regions]
    count = 0

    def scaled(price: int, percent: int) -> int:
        return price * percent // 100 // 100 * 100  # whole hundreds of rupiah

    for position, (code, name, url, percent) in enumerate([*COURIERS, CARGO]):
        courier = db.session.scalar(select(Courier).where(Courier.code == code))
        if courier is None:
            courier = Courier(code=code, name=name, tracking_url=url, position=position, crate_fee=DEMO_CRATE_FEE)
            if code == CARGO[0]:
                courier.cargo, courier.min_weight_g, courier.volumetric_divisor = True, 10_000, 4000
            db.session.add(courier)
            db.session.flush()
        known = {(rate.origin_region_id, rate.province) for rate in courier.rates}
        for origin, zones in tables:
            for province, zone in zones.items():
                count += 1
                if (origin, province) in known:
                    continue  # staff may have changed it: the demo never overwrites a rate
                first, nxt, low, high = ZONE_RATES[zone]
                if courier.cargo:  # by truck and ship: slower
                    low, high = low + 2, high + 4
                courier.rates.append(ShippingRate(origin_region_id=origin, province=province,
                                                  first_kg=scaled(first, percent), next_kg=scaled(nxt, percent),
                                                  days_min=low, days_max=high))
    db.session.flush()
    return count


def _upsert_certificate(product: Product, data: dict[str, Any], city: str) -> None:
    cert_type = CertType(data["type"])
    existing = next((c for c in product.certifications if c.cert_type == cert_type
                     and (c.number == data.get("number", "") or not c.number)), None)
    status = RecordedStatus.IN_PROCESS if data.get("status") == "in_process" else RecordedStatus.VALID
    values = {"number": data.get("number", ""), "issuer": ISSUERS[cert_type.value].format(city=city),
              "issued_on": _day(data.get("issued_on")), "expires_on": _day(data.get("expires_on")),
              "status": status}
    if existing is None:
        product.certifications.append(Certification(cert_type=cert_type, **values))
        return
    for key, value in values.items():
        if getattr(existing, key) != value:
            setattr(existing, key, value)


def placeholder_image(title: str, colour: tuple[int, int, int], caption: str = "") -> bytes:
    """A designed tile in the category's colour with the product's name, its category and workshop, until the
    cooperative uploads real photos (staff replace it on the product's staff page)."""
    image = Image.new("RGB", (800, 800), colour)
    draw = ImageDraw.Draw(image)
    for i in range(0, 1600, 40):
        draw.line([(i, 0), (0, i)], fill=tuple(min(255, c + 18) for c in colour), width=6)
    draw.rounded_rectangle([40, 40, 760, 760], radius=36, outline=(255, 255, 255), width=4)
    if caption:
        small = ImageFont.load_default(size=30)
        if draw.textlength(caption, font=small) > 680:
            caption = caption.split(" · ")[0]
        draw.text((400, 700), caption, font=small, fill=(255, 255, 255), anchor="mm")
    draw.text((400, 110), "Karya Binaan", font=ImageFont.load_default(size=34), fill=(255, 255, 255), anchor="mm")
    font = ImageFont.load_default(size=64)
    words, lines, line = title.split(), [], ""
    for word in words:
        candidate = f"{line} {word}".strip()
        if draw.textlength(candidate, font=font) > 680 and line:
            lines.append(line)
            line = word
        else:
            line = candidate
    lines.append(line)
    y = 400 - len(lines) * 40
    for text in lines:
        draw.text((400, y), text, font=font, fill=(255, 255, 255), anchor="mm")
        y += 80
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


# One staff user per role, for trying the shop out (README lists them). Only in demo mode.
DEMO_PASSWORD = "karyabinaan-demo"
DEMO_USERS = [
    ("admin@demo.karyabinaan.id", "Admin Demo", ["admin"], None),
    ("gudang@demo.karyabinaan.id", "Staf Gudang Koperasi", ["fulfilment"], None),
    ("keuangan@demo.karyabinaan.id", "Staf Keuangan", ["finance"], None),
    ("lapas-perempuan-palu@demo.karyabinaan.id", "Staf Lapas Perempuan Palu", ["facility"], "lapas-perempuan-palu"),
]


def load_users() -> int:
    for email, name, roles, facility_slug in DEMO_USERS:
        if user_by_email(email) is not None:
            continue
        facility = db.session.scalar(select(Facility).where(Facility.slug == facility_slug)) if facility_slug else None
        create_user(email, DEMO_PASSWORD, roles, name=name, facility_id=facility.id if facility else None)
    return len(DEMO_USERS)
