"""Creating users, checking logins, changing passwords."""

from __future__ import annotations

from collections.abc import Iterable

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import bindparam, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from shop.accounts.models import Role, User, new_session_token
from shop.audit.service import record, snapshot
from shop.extensions import db
from shop.timeutil import utcnow

MIN_PASSWORD_LENGTH = 10
# Checked when no user has the email, so a wrong email costs as much time as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


class AccountError(ValueError):
    """A user cannot be created or changed as asked. `str()` is English (the command line); `code` and `params`
    name the problem for the staff screens, which say it in the reader's language (`shop.staff.users`)."""

    def __init__(self, message: str, code: str = "other", **params: object) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


def normalise_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise AccountError(str(error), "email") from error


def _facility_of(role_values: list[str], facility_id: int | None) -> int | None:
    """The facility a user is tied to: facility staff need one that exists; other roles have none."""
    if Role.FACILITY.value not in role_values:
        return None
    if facility_id is None:
        raise AccountError("facility staff need a facility", "facility_needed")
    facility = User.facility.property.mapper.class_  # the catalog's Facility, a layer above (no import)
    if db.session.get(facility, facility_id) is None:
        raise AccountError("there is no such facility", "facility_unknown")
    return facility_id


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password must have at least {MIN_PASSWORD_LENGTH} characters", "password_short",
                           length=MIN_PASSWORD_LENGTH)


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(email: str, password: str, roles: Iterable[str | Role] = (), name: str = "",
                facility_id: int | None = None) -> User:
    address = normalise_email(email)
    check_password_strength(password)
    role_values = sorted({Role(r).value for r in roles})
    facility_id = _facility_of(role_values, facility_id)
    if len(name) > 120:
        raise AccountError("the name has at most 120 characters", "name_long")
    if user_by_email(address) is not None:
        raise AccountError(f"a user with email {address} exists already", "email_taken", email=address)
    user = User(email=address, name=name, roles=role_values, facility_id=facility_id)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user when email and password match an active account; otherwise None, whatever was wrong."""
    user = user_by_email(email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    user.last_login_at = utcnow()
    return user


def change_password(user: User, current: str, new: str) -> None:
    if not user.check_password(current):
        raise AccountError("current password is wrong", "password_wrong")
    check_password_strength(new)
    user.set_password(new)  # new session token: every other session is logged out


_BY_ID = select(User).where(User.id == bindparam("id"))  # built once: every signed-in request runs it


def load_user(user_id: str) -> User | None:
    """A staff member from Flask-Login's cookie value "<id>:<session token>" (create_app's loader sends customers'
    "c:…" to shop.customers)."""
    raw_id, _, token = user_id.partition(":")
    if not raw_id.isdigit() or len(raw_id) > 10:
        return None
    user = db.session.execute(_BY_ID, {"id": int(raw_id)}).scalar_one_or_none()
    if user is None or not user.active or user.session_token != token:
        return None
    return user


def update_user(user: User, *, roles: Iterable[str | Role], facility_id: int | None, active: bool,
                actor: User) -> User:
    """An admin changes a user's roles, facility or active flag; the change is audited."""
    role_values = sorted({Role(r).value for r in roles})
    facility_id = _facility_of(role_values, facility_id)
    if user.id == actor.id and (Role.ADMIN.value not in role_values or not active):
        raise AccountError("you cannot remove your own admin role or deactivate yourself", "own_admin")
    before = snapshot(user, ["roles", "facility_id", "active"])
    user.roles = role_values
    user.facility_id = facility_id
    if user.active and not active:
        user.session_token = new_session_token()  # logged out at once
    user.active = active
    after = snapshot(user, ["roles", "facility_id", "active"])
    if before != after:
        record("user.update", user, before, after, actor=actor)
    db.session.flush()
    return user
