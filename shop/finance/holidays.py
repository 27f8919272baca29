"""Public holidays and collective leave days (#29), kept by finance on a screen per year: PNBP deposit deadlines
roll past them as past weekends. Read once per request (or command) into a set."""

from __future__ import annotations

from datetime import date

from flask import g, has_app_context
from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from shop.accounts.models import User
from shop.audit.service import record
from shop.extensions import db
from shop.finance.models import HolidayKind, PublicHoliday

# Indonesia's national holidays and collective leave days of 2026 (SKB of the Ministers of Religious Affairs,
# Manpower and Administrative Reform), loaded by the demo. Finance checks them against the decree each year.
NATIONAL_2026: list[tuple[date, str, HolidayKind]] = [
    (date(2026, 1, 1), "Tahun Baru 2026 Masehi", HolidayKind.NATIONAL),
    (date(2026, 1, 16), "Isra Mikraj Nabi Muhammad SAW", HolidayKind.NATIONAL),
    (date(2026, 2, 16), "Cuti bersama Tahun Baru Imlek", HolidayKind.COLLECTIVE),
    (date(2026, 2, 17), "Tahun Baru Imlek 2577 Kongzili", HolidayKind.NATIONAL),
    (date(2026, 3, 18), "Cuti bersama Hari Suci Nyepi", HolidayKind.COLLECTIVE),
    (date(2026, 3, 19), "Hari Suci Nyepi (Tahun Baru Saka 1948)", HolidayKind.NATIONAL),
    (date(2026, 3, 20), "Cuti bersama Idul Fitri", HolidayKind.COLLECTIVE),
    (date(2026, 3, 21), "Idul Fitri 1447 Hijriah", HolidayKind.NATIONAL),
    (date(2026, 3, 22), "Idul Fitri 1447 Hijriah", HolidayKind.NATIONAL),
    (date(2026, 3, 23), "Cuti bersama Idul Fitri", HolidayKind.COLLECTIVE),
    (date(2026, 3, 24), "Cuti bersama Idul Fitri", HolidayKind.COLLECTIVE),
    (date(2026, 4, 3), "Wafat Yesus Kristus", HolidayKind.NATIONAL),
    (date(2026, 4, 5), "Kebangkitan Yesus Kristus (Paskah)", HolidayKind.NATIONAL),
    (date(2026, 5, 1), "Hari Buruh Internasional", HolidayKind.NATIONAL),
    (date(2026, 5, 14), "Kenaikan Yesus Kristus", HolidayKind.NATIONAL),
    (date(2026, 5, 15), "Cuti bersama Kenaikan Yesus Kristus", HolidayKind.COLLECTIVE),
    (date(2026, 5, 27), "Idul Adha 1447 Hijriah", HolidayKind.NATIONAL),
    (date(2026, 5, 28), "Cuti bersama Idul Adha", HolidayKind.COLLECTIVE),
    (date(2026, 5, 31), "Hari Raya Waisak 2570 BE", HolidayKind.NATIONAL),
    (date(2026, 6, 1), "Hari Lahir Pancasila", HolidayKind.NATIONAL),
    (date(2026, 6, 16), "Tahun Baru Islam 1448 Hijriah", HolidayKind.NATIONAL),
    (date(2026, 8, 17), "Hari Kemerdekaan Republik Indonesia", HolidayKind.NATIONAL),
    (date(2026, 8, 25), "Maulid Nabi Muhammad SAW", HolidayKind.NATIONAL),
    (date(2026, 12, 24), "Cuti bersama Hari Raya Natal", HolidayKind.COLLECTIVE),
    (date(2026, 12, 25), "Hari Raya Natal", HolidayKind.NATIONAL),
]
KNOWN_YEARS = {2026: NATIONAL_2026}


class HolidayInvalid(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


def holidays() -> frozenset[date]:
    """Every holiday kept, read once per request or command (deadlines are counted many times per page)."""
    if has_app_context() and "public_holidays" in g:
        return frozenset(g.public_holidays)
    found = frozenset(db.session.scalars(select(PublicHoliday.day)))
    if has_app_context():
        g.public_holidays = found
    return found


def forget() -> None:
    """After a change: the next deadline reads the holidays again."""
    if has_app_context():
        g.pop("public_holidays", None)


def of_year(year: int) -> list[PublicHoliday]:
    return list(db.session.scalars(select(PublicHoliday).where(
        PublicHoliday.day >= date(year, 1, 1), PublicHoliday.day <= date(year, 12, 31)).order_by(PublicHoliday.day)))


def add(day: date | None, name: str, kind: HolidayKind, *, actor: User | None) -> PublicHoliday:
    errors: dict[str, str] = {}
    name = " ".join(name.split())[:120]
    if day is None:
        errors["day"] = _("Give the date (YYYY-MM-DD).")
    if not name:
        errors["name"] = _("Name the holiday.")
    if errors:
        raise HolidayInvalid(errors)
    assert day is not None  # noqa: S101 - said above
    holiday = PublicHoliday(day=day, name=name, kind=kind, created_by_id=getattr(actor, "id", None))
    db.session.add(holiday)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as error:
        raise HolidayInvalid({"day": _("%(day)s is already a holiday.", day=day.isoformat())}) from error
    record("holiday.add", holiday, None, {"day": day.isoformat(), "name": name, "kind": kind.value}, actor=actor)
    forget()
    return holiday


def remove(holiday: PublicHoliday, *, actor: User | None) -> bool:
    """Remove a day; False when another request removed it a moment ago."""
    gone = db.session.execute(delete(PublicHoliday).where(PublicHoliday.id == holiday.id)
                              .execution_options(synchronize_session=False))
    if gone.rowcount != 1:  # type: ignore[attr-defined]
        return False
    record("holiday.remove", holiday, {"day": holiday.day.isoformat(), "name": holiday.name}, None, actor=actor)
    forget()
    return True


def load_known(year: int, *, actor: User | None = None) -> int:
    """Add the year's national holidays and collective leave days the shop knows (none known: 0); those already
    kept are left as they are."""
    kept = {holiday.day for holiday in of_year(year)}
    added = 0
    for day, name, kind in KNOWN_YEARS.get(year, []):
        if day not in kept:
            try:
                with db.session.begin_nested():  # added by another request at the same moment: left as it is
                    db.session.add(PublicHoliday(day=day, name=name, kind=kind,
                                                 created_by_id=getattr(actor, "id", None)))
                    db.session.flush()
                added += 1
            except IntegrityError:
                continue
    forget()
    return added
