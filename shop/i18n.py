"""Language choice and locale-aware formatting of money, dates and translated model fields."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from babel.numbers import format_currency, format_decimal
from flask import current_app, has_request_context, session
from flask_babel import format_date, format_datetime, get_locale

LANGUAGE_NAMES = {"id": "Bahasa Indonesia", "en": "English"}


def select_locale() -> str:
    """Indonesian first: English only when the visitor chose it."""
    if has_request_context():
        chosen = session.get("lang")
        if chosen in current_app.config["LANGUAGES"]:
            return str(chosen)
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def current_language() -> str:
    if not has_request_context():
        return "id"
    locale = get_locale()
    return locale.language if locale is not None else "id"


def localized(obj: Any, field: str) -> str:
    """`obj.<field>_<lang>` in the current language, falling back to Indonesian when it is empty."""
    value = getattr(obj, f"{field}_{current_language()}", None)
    return value or getattr(obj, f"{field}_id") or ""


def rupiah(amount: int | None, language: str | None = None) -> str:
    """Whole rupiah as people write them: `Rp25.000` in Indonesian, `IDR 25,000` in English."""
    if amount is None:
        return ""
    if isinstance(amount, float):
        raise TypeError("money is whole rupiah (int), never float")
    lang = language or current_language()
    if lang == "id":
        return format_currency(amount, "IDR", format="¤#,##0", locale="id_ID", currency_digits=False)
    return format_currency(amount, "IDR", format="¤ #,##0", locale="en_US", currency_digits=False)


def format_day(value: date | None, style: str = "medium") -> str:
    return format_date(value, style) if value else ""


def format_moment(value: datetime | None, style: str = "medium") -> str:
    return format_datetime(value, style) if value else ""


def weight(grams: int | None, language: str | None = None) -> str:
    """A weight as people read it: `250 g`, `1,1 kg` in Indonesian, `1.1 kg` in English."""
    if grams is None:
        return ""
    locale = "id_ID" if (language or current_language()) == "id" else "en_US"
    if abs(grams) < 1000:
        return f"{format_decimal(grams, locale=locale)} g"
    return f"{format_decimal(grams / 1000, format='#,##0.##', locale=locale)} kg"
