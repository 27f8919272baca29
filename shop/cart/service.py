"""The session cart: product id → quantity, kept in the buyer's session (no account needed)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shop.catalog.models import Facility, Product
from shop.certification.service import is_sellable
from shop.extensions import db
from shop.shipping.quotes import Parcel, parcels

MAX_QUANTITY = 99


class CartError(Exception):
    pass


class Unavailable(CartError):
    def __init__(self, product_name: str) -> None:
        super().__init__(product_name)
        self.product_name = product_name


class TooMany(CartError):
    """More than MAX_QUANTITY of one product in one cart: said, never quietly lowered."""

    def __init__(self, product_name: str) -> None:
        super().__init__(product_name)
        self.product_name = product_name


class NotEnoughStock(CartError):
    def __init__(self, product_name: str, available: int) -> None:
        super().__init__(product_name)
        self.product_name = product_name
        self.available = available


@dataclass
class CartLine:
    product: Product
    quantity: int
    sellable: bool
    problem: str = ""  # "unavailable", "stock_fell", "sold_out"

    @property
    def amount(self) -> int:
        return self.product.price * self.quantity

    @property
    def weight_g(self) -> int:
        return self.product.weight_g * self.quantity


@dataclass
class Cart:
    lines: list[CartLine] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines if not line.problem)

    @property
    def weight_g(self) -> int:
        return sum(line.weight_g for line in self.lines if not line.problem)

    @property
    def count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def ready(self) -> bool:
        return bool(self.lines) and not any(line.problem for line in self.lines)

    def items(self) -> dict[int, int]:
        return {line.product.id: line.quantity for line in self.lines}

    def parcels(self) -> list[Parcel]:
        """One parcel per facility of what can be bought (see shop.shipping.quotes)."""
        return parcels((line.product, line.quantity) for line in self.lines if not line.problem)


def _load(ids: list[int]) -> dict[int, Product]:
    if not ids:
        return {}
    rows = db.session.scalars(select(Product).where(Product.id.in_(ids)).options(
        selectinload(Product.facility).selectinload(Facility.region), selectinload(Product.category),
        selectinload(Product.certifications),
        selectinload(Product.images)))
    return {p.id: p for p in rows}


def parse(raw: object) -> dict[int, int]:
    """The session value, defensively: anything malformed is dropped."""
    items: dict[int, int] = {}
    if isinstance(raw, dict):
        for key, value in raw.items():
            try:
                pid, qty = int(key), int(value)
            except (TypeError, ValueError):
                continue
            if pid > 0 and 0 < qty <= MAX_QUANTITY:
                items[pid] = qty
    return items


def dump(items: dict[int, int]) -> dict[str, int]:
    return {str(pid): qty for pid, qty in items.items()}


def build(items: dict[int, int]) -> Cart:
    """The cart as the buyer should see it now, with a problem noted on each line that cannot be bought."""
    products = _load(list(items))
    cart = Cart()
    for pid, qty in items.items():
        product = products.get(pid)
        if product is None:
            continue
        sellable = is_sellable(product)
        problem = ""
        if not sellable:
            problem = "unavailable"
        elif product.stock <= 0:
            problem = "sold_out"
        elif product.stock < qty:
            problem = "stock_fell"
        cart.lines.append(CartLine(product, qty, sellable, problem))
    return cart


def add(items: dict[int, int], product_id: int, quantity: int) -> dict[int, int]:
    product = _load([product_id]).get(product_id)
    if product is None or not is_sellable(product):
        raise Unavailable(product.name if product else "")
    wanted = items.get(product_id, 0) + max(quantity, 1)
    if wanted > MAX_QUANTITY:
        raise TooMany(product.name)
    if product.stock < wanted:
        raise NotEnoughStock(product.name, product.stock)
    return {**items, product_id: wanted}


def set_quantity(items: dict[int, int], product_id: int, quantity: int) -> dict[int, int]:
    if product_id not in items:
        return items
    if quantity <= 0:
        return {pid: qty for pid, qty in items.items() if pid != product_id}
    product = _load([product_id]).get(product_id)
    if product is None:
        return {pid: qty for pid, qty in items.items() if pid != product_id}
    if quantity > MAX_QUANTITY:
        raise TooMany(product.name)
    if product.stock < quantity:
        raise NotEnoughStock(product.name, product.stock)
    return {**items, product_id: quantity}


def fix(items: dict[int, int]) -> dict[int, int]:
    """Lower each quantity to what is in stock and drop what cannot be bought (the buyer asked for it)."""
    cart = build(items)
    return {line.product.id: min(line.quantity, line.product.stock) for line in cart.lines
            if line.sellable and line.product.stock > 0}
