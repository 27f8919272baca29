"""Shipping prices: an order leaves as one parcel per facility, each from that facility's region to the buyer's
province, each priced by its own weight; the order pays their sum."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import or_, select

from shop.catalog.models import Product
from shop.extensions import db
from shop.shipping.models import Courier, ShippingRate


@dataclass(frozen=True)
class Parcel:
    """What one facility sends: its goods' weight with packaging, from its region, and their packed volume (for
    the couriers' volumetric weight: a 7 kg chair takes the room of far more)."""

    facility_id: int
    facility_name: str
    region_id: int
    region_name: str
    weight_g: int
    volume_cm3: int = 0
    needs_crate: bool = False  # a product in it ships in a wooden crate (packing kayu)

    def chargeable_g(self, divisor: int) -> int:
        """What a courier charges by: the actual weight, or the volumetric one (cm³ ÷ divisor, in kg) if more."""
        return max(self.weight_g, self.volume_cm3 * 1000 // divisor) if divisor > 0 else self.weight_g


@dataclass(frozen=True)
class Quote:
    """One courier's price for every parcel of an order (in the order of `parcels`), and their sum."""

    courier: Courier
    prices: tuple[int, ...]
    parcels: tuple[Parcel, ...] = ()  # what was priced
    days: tuple[int, int] = (0, 0)  # the courier's delivery estimate in days, from the slowest parcel's rate
    charged_g: tuple[int, ...] = ()  # the weight each parcel was charged by (its size, or a cargo's minimum)

    @property
    def total(self) -> int:
        return sum(self.prices)


def parcels(items: Iterable[tuple[Product, int]]) -> list[Parcel]:
    """The parcels of these products and quantities, one per facility, in the order facilities first appear.
    The products' facility and its region must be loaded (or loadable)."""
    weights: dict[int, int] = {}
    volumes: dict[int, int] = {}
    crates: set[int] = set()
    facilities = {}
    for product, quantity in items:
        if product.needs_crate:
            crates.add(product.facility_id)
        weights[product.facility_id] = weights.get(product.facility_id, 0) + product.weight_g * quantity
        volumes[product.facility_id] = volumes.get(product.facility_id, 0) + product.volume_cm3 * quantity
        facilities[product.facility_id] = product.facility
    return [Parcel(facility_id, facilities[facility_id].name, facilities[facility_id].region_id,
                   facilities[facility_id].region.name, weight, volumes[facility_id], facility_id in crates)
            for facility_id, weight in weights.items()]


def quotes(province: str, shipped: list[Parcel], courier_id: int | None = None) -> list[Quote]:
    """Every active courier that carries every parcel to `province` (one query). A rate from the parcel's own
    region wins over the courier's rate from any region (origin left empty)."""
    if not shipped:
        return []
    regions = {parcel.region_id for parcel in shipped}
    query = (select(Courier, ShippingRate).join(ShippingRate)
             .where(Courier.active.is_(True), ShippingRate.province == province,
                    or_(ShippingRate.origin_region_id.is_(None), ShippingRate.origin_region_id.in_(regions)))
             .order_by(Courier.position, Courier.name, Courier.id))
    if courier_id is not None:
        query = query.where(Courier.id == courier_id)
    rates: dict[int, dict[int | None, ShippingRate]] = {}
    couriers: dict[int, Courier] = {}
    for courier, rate in db.session.execute(query).tuples():
        couriers[courier.id] = courier
        rates.setdefault(courier.id, {})[rate.origin_region_id] = rate
    found = []
    for key, by_origin in rates.items():
        courier = couriers[key]
        sized = [parcel.chargeable_g(courier.volumetric_divisor) for parcel in shipped]
        if courier.min_weight_g and max(sized) < courier.min_weight_g:
            continue  # a cargo service for goods lighter than its minimum: always dearer, not offered
        prices, chosen_rates, charged = [], [], []
        for parcel, weight in zip(shipped, sized, strict=True):
            chosen = by_origin.get(parcel.region_id) or by_origin.get(None)
            if chosen is None:
                break
            charged.append(max(weight, courier.min_weight_g))
            prices.append(chosen.price_for(charged[-1]) + (courier.crate_fee if parcel.needs_crate else 0))
            chosen_rates.append(chosen)
        else:
            days = (max(rate.days_min for rate in chosen_rates), max(rate.days_max for rate in chosen_rates))
            found.append(Quote(courier, tuple(prices), tuple(shipped), days, tuple(charged)))
    return found
