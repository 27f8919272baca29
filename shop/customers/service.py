"""Customer accounts: registration, login, the saved address, past orders."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import bindparam, func, select

from shop.accounts.service import AccountError, check_password_strength, normalise_email
from shop.customers.models import Customer
from shop.extensions import db
from shop.orders.models import Order
from shop.orders.service import Buyer

_DUMMY = Customer(password_hash="", session_token="")
_DUMMY.set_password("not-a-real-password")


def customer_by_email(email: str) -> Customer | None:
    return db.session.scalar(select(Customer).where(func.lower(Customer.email) == email.strip().lower()))


def register(email: str, name: str, password: str) -> Customer:
    address = normalise_email(email)
    if not name.strip():
        raise AccountError("name")
    check_password_strength(password)
    if customer_by_email(address) is not None:
        raise AccountError("exists")
    customer = Customer(email=address, name=name.strip())
    customer.set_password(password)
    db.session.add(customer)
    db.session.flush()
    return customer


def authenticate(email: str, password: str) -> Customer | None:
    """The customer when email and password match; None otherwise, taking the same time either way."""
    customer = customer_by_email(email)
    if customer is None:
        _DUMMY.check_password(password)
        return None
    if not customer.check_password(password) or not customer.active:
        return None
    return customer


# Built once: every signed-in request runs it, and building a statement costs more than running it on SQLite
_BY_ID = select(Customer).where(Customer.id == bindparam("id"))


def load(user_id: str) -> Customer | None:
    """Flask-Login's loader for "c:<id>:<session token>"."""
    raw_id, _, token = user_id.partition(":")
    if not raw_id.isdigit() or len(raw_id) > 10:
        return None
    customer = db.session.execute(_BY_ID, {"id": int(raw_id)}).scalar_one_or_none()
    if customer is None or not customer.active or customer.session_token != token:
        return None
    return customer


def remember_address(customer: Customer, buyer: Buyer) -> None:
    """The checkout form of the next order starts from this one's address."""
    saved: dict[str, Any] = asdict(buyer)
    saved.pop("notes", None)
    customer.address = saved


def orders_of(customer: Customer) -> list[Order]:
    return list(db.session.scalars(select(Order).where(Order.customer_id == customer.id)
                                   .order_by(Order.created_at.desc())))
