"""Deadlines and times as people read them: no seconds, and the zone named (WIB, WITA, WIT)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import session
from flask_babel import force_locale

from shop.i18n import format_moment


def test_a_deadline_names_its_zone_and_has_no_seconds(app):
    moment = datetime(2026, 12, 2, 18, 51, 3, tzinfo=UTC)
    with app.test_request_context():
        assert format_moment(moment) == "3 Des 2026, 02.51 WITA"  # Palu's time, the shop's zone
        session["lang"] = "en"
        with force_locale("en"):
            assert format_moment(moment) == "3 Dec 2026, 02:51 WITA"
