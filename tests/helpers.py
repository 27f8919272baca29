"""Helpers shared by the page tests: the visible text of a response, a client logged in as staff."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask

from shop.extensions import db
from tests import factories as f


def text_of(response: Any) -> str:
    """The page's text as a reader sees it: tags removed, white space collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def logged_in(app: Flask, *roles: str, facility_id: int | None = None) -> Any:
    """A test client logged in as a new staff user with these roles."""
    user = f.user(*roles, facility_id=facility_id)
    db.session.commit()
    client = app.test_client()
    client.post("/masuk", data={"email": user.email, "password": f.PASSWORD})
    return client
