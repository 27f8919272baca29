"""Public certification pages."""

from __future__ import annotations

from flask import render_template

from shop.certification import certification


@certification.get("/sertifikasi")
def about() -> str:
    return render_template("certification/about.html")
