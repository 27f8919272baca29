"""Language choice and locale-aware formatting of money, dates and translated model fields."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime as babel_format_datetime
from babel.numbers import format_decimal
from flask import Flask, current_app, has_request_context, session
from flask_babel import format_date, format_datetime, get_locale, get_timezone, get_translations, gettext, ngettext
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

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
    """Whole rupiah as people write them: `Rp25.000` in Indonesian, `IDR 25,000` in English (what Babel's
    `format_currency` gives for id_ID and en_US, written out: a page shows dozens, and Babel takes ~15 µs each)."""
    if amount is None:
        return ""
    if isinstance(amount, float):
        raise TypeError("money is whole rupiah (int), never float")
    sign, digits = "-" if amount < 0 else "", f"{abs(amount):,}"
    if (language or current_language()) == "id":
        return f"{sign}Rp{digits.replace(',', '.')}"
    return f"{sign}IDR {digits}"


def format_day(value: date | None, style: str = "medium") -> str:
    return format_date(value, style) if value else ""


# Indonesia's three time zones by their own names; a buyer in Jakarta reads "14.00 WITA" without doubt.
ZONE_NAMES = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


def zone_name(zone: str) -> str:
    """A time zone as Indonesians say it: "WITA" for Asia/Makassar."""
    return ZONE_NAMES.get(zone, zone)


def format_moment(value: datetime | None, style: str = "medium", zone: str | None = None) -> str:
    """A moment as people read a deadline: "3 Des 2026, 02.51 WITA" (no seconds, the zone named); in `zone` (a
    facility's) when given, else the shop's."""
    if not value:
        return ""
    clock = "HH.mm" if current_language() == "id" else "HH:mm"
    if zone:
        local = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(ZoneInfo(zone))
        shown = babel_format_datetime(local, f"d MMM y, {clock}", tzinfo=ZoneInfo(zone), locale=current_language())
        return f"{shown} {zone_name(zone)}"
    zone = str(get_timezone())
    return f"{format_datetime(value, f'd MMM y, {clock}')} {ZONE_NAMES.get(zone) or format_datetime(value, 'z')}"


def weight(grams: int | None, language: str | None = None) -> str:
    """A weight as people read it: `250 g`, `1,1 kg` in Indonesian, `1.1 kg` in English."""
    if grams is None:
        return ""
    locale = "id_ID" if (language or current_language()) == "id" else "en_US"
    if abs(grams) < 1000:
        return f"{format_decimal(grams, locale=locale)} g"
    return f"{format_decimal(grams / 1000, format='#,##0.##', locale=locale)} kg"


# -- translated strings in templates: the same as Flask-Babel's, but the translations are found by the locale in
# a dict (Flask-Babel looks them up on every call, several microseconds, and a page asks for a hundred strings)

def translations() -> Any:
    """The translations for the locale in force, including a locale forced for a mail (`force_locale`)."""
    locale = get_locale()
    if locale is None:
        return get_translations()
    known: dict[Any, Any] = current_app.extensions["kb_translations"]
    found = known.get(locale)
    if found is None:
        found = known[locale] = get_translations()
    return found


@pass_context
def template_gettext(context: Context, string: str, **variables: Any) -> str:
    """`_()` and `gettext()` in templates, as Jinja's new-style gettext: escaped, always %-formatted."""
    text = translations().ugettext(string)
    if context.eval_ctx.autoescape:
        text = Markup(text)
    return text % variables


@pass_context
def template_ngettext(context: Context, singular: str, plural: str, num: int, **variables: Any) -> str:
    variables.setdefault("num", num)
    text = translations().ungettext(singular, plural, num)
    if context.eval_ctx.autoescape:
        text = Markup(text)
    return text % variables


def init_app(app: Flask) -> None:
    app.extensions["kb_translations"] = {}
    app.jinja_env.globals.update(_=template_gettext, gettext=template_gettext, ngettext=template_ngettext)


def days_range(days: tuple[int, int]) -> str:
    """A delivery estimate as people say it: "2–4 hari", "1 hari"."""
    low, high = days
    if low >= high:
        return ngettext("%(num)d day", "%(num)d days", high)
    return gettext("%(low)d–%(high)d days", low=low, high=high)
