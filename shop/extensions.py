"""The Flask extension objects: created here, initialised in create_app."""

import enum
import sqlite3
from typing import TYPE_CHECKING, Any

from flask import request
from flask_babel import Babel
from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import Enum, MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

# Named constraints, so that Alembic migrations can refer to (and drop) them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


@event.listens_for(Engine, "connect")
def _sqlite_enforces_foreign_keys(dbapi_connection: Any, connection_record: Any) -> None:
    """SQLite checks foreign keys only when asked, per connection: ask, so it enforces them as PostgreSQL does."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def enum_column(enum_type: type[enum.Enum], name: str, length: int = 32) -> Enum:
    """A portable enum column: stored as its string value, the same on SQLite and PostgreSQL, with a CHECK
    constraint (named after the column, `name`) so the database itself refuses any other value."""
    return Enum(enum_type, native_enum=False, length=length, validate_strings=True, create_constraint=True,
                name=name, values_callable=lambda members: [m.value for m in members])


db = SQLAlchemy(model_class=Base)
# What models subclass. The type checker cannot see through Flask-SQLAlchemy's generated `db.Model`, so it is
# told it is the declarative Base that db.Model extends.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate()
babel = Babel()
cache = Cache()
csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "accounts.login"
login_manager.login_message_category = "warning"


limiter = Limiter(key_func=get_remote_address)


def submitted_order_number() -> str:
    """The order number an order lookup names (as buyers type it: spaces, dashes and case do not matter)."""
    return "order:" + "".join(ch for ch in (request.form.get("number") or "").upper() if ch.isalnum())[:32]


def submitted_email() -> str:
    """The account a login or an order lookup names: limits keyed on it hold whatever address the guesses
    come from."""
    return "email:" + (request.form.get("email") or "").strip().lower()[:254]


def rows_changed(result: Any) -> int:
    """How many rows an UPDATE or DELETE touched: the conditional statements' answer to "did it work?"."""
    return int(result.rowcount)
