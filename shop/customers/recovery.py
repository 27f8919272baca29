"""Forgotten passwords (buyers and staff) and a buyer's email address confirmed.

A link is a signed token (itsdangerous, the app's SECRET_KEY), never stored: a reset link names the account and a
fingerprint of its password hash, so it works once (the new password changes the hash) and for an hour; a
verification link names the customer and the address, for a week. Both go out through the outbox. Asking for a
reset answers the same whether or not the address has an account, and sends nothing when it has none."""

from __future__ import annotations

import hashlib

from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select, update

from shop import mail
from shop.accounts.models import User
from shop.accounts.service import check_password_strength, user_by_email
from shop.customers.models import Customer
from shop.extensions import db, rows_changed
from shop.orders.models import Order
from shop.outbox import service as outbox
from shop.timeutil import utcnow

RESET_SECONDS = 3600
VERIFY_SECONDS = 7 * 24 * 3600
Account = Customer | User


class LinkInvalid(ValueError):
    """The link is broken, used already, or too old (`expired`)."""

    def __init__(self, expired: bool = False) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def _signer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"karyabinaan-{purpose}")


def _fingerprint(account: Account) -> str:
    return hashlib.sha256(account.password_hash.encode()).hexdigest()[:16]


def _kind(account: Account) -> str:
    return "c" if isinstance(account, Customer) else "s"


def accounts_with_email(email: str) -> list[Account]:
    """The buyer's account and the staff account with this address (either, both or none), active ones only."""
    found: list[Account] = []
    customer = db.session.scalar(select(Customer).where(func.lower(Customer.email) == email.strip().lower()))
    if customer is not None and customer.active:
        found.append(customer)
    user = user_by_email(email)
    if user is not None and user.active:
        found.append(user)
    return found


def request_reset(email: str) -> int:
    """Queue a reset link to each account with this address; how many (the page never says)."""
    accounts = accounts_with_email(email)
    for account in accounts:
        token = _signer("reset").dumps([_kind(account), account.id, _fingerprint(account)])
        message = mail.render_message("customers/mail/reset", to=account.email, language=str(get_locale() or "id"),
                                      account=account, token=token, staff=isinstance(account, User),
                                      minutes=RESET_SECONDS // 60,
                                      subject=_l("Choose a new password for Karya Binaan"))
        outbox.queue(message, "account.reset")
    return len(accounts)


def account_for_reset(token: str) -> Account:
    try:
        kind, account_id, fingerprint = _signer("reset").loads(token, max_age=RESET_SECONDS)
    except SignatureExpired:
        raise LinkInvalid(expired=True) from None
    except (BadSignature, ValueError, TypeError):
        raise LinkInvalid() from None
    account: Account | None = None
    if isinstance(account_id, int):
        account = db.session.get(Customer, account_id) if kind == "c" else db.session.get(User, account_id)
    if account is None or not account.active or _fingerprint(account) != fingerprint:
        raise LinkInvalid()  # used already (the password changed since), or the account is gone
    return account


def reset_password(token: str, password: str) -> Account:
    """Set the new password; every session of the account ends (also the one that asked)."""
    account = account_for_reset(token)
    check_password_strength(password)
    account.set_password(password)  # a new hash: this link and any other sent before stop working
    if isinstance(account, Customer):
        account.end_sessions()
    db.session.flush()
    return account


def send_verification(customer: Customer) -> None:
    token = _signer("verify").dumps([customer.id, customer.email.lower()])
    message = mail.render_message("customers/mail/verify", to=customer.email, language=str(get_locale() or "id"),
                                  customer=customer, token=token,
                                  subject=_l("Confirm your email address for Karya Binaan"))
    outbox.queue(message, "account.verify")


def verify_email(token: str) -> tuple[Customer, int]:
    """Mark the address confirmed and attach the orders placed as a guest with it; the customer and how many."""
    try:
        customer_id, email = _signer("verify").loads(token, max_age=VERIFY_SECONDS)
    except SignatureExpired:
        raise LinkInvalid(expired=True) from None
    except (BadSignature, ValueError, TypeError):
        raise LinkInvalid() from None
    customer = db.session.get(Customer, customer_id) if isinstance(customer_id, int) else None
    if customer is None or customer.email.lower() != email:
        raise LinkInvalid()
    if customer.email_verified_at is None:
        customer.email_verified_at = utcnow()
    attached = attach_guest_orders(customer)
    db.session.flush()
    return customer, attached


def attach_guest_orders(customer: Customer) -> int:
    """Orders placed as a guest with the customer's (confirmed) address become the account's."""
    if customer.email_verified_at is None:
        return 0
    result = db.session.execute(update(Order).where(Order.customer_id.is_(None),
                                                    func.lower(Order.email) == customer.email.lower())
                                .values(customer_id=customer.id).execution_options(synchronize_session=False))
    return rows_changed(result)
