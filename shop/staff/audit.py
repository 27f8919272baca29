"""The audit log viewer for admins: filter by person, kind of object, action and dates. Read-only."""

from __future__ import annotations

from datetime import date, timedelta

from flask import render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import select

from shop.accounts import register_staff_link
from shop.accounts.decorators import role_required
from shop.accounts.models import Role
from shop.audit import audit
from shop.audit.models import AuditEntry
from shop.extensions import db
from shop.staff import audit_display as display
from shop.timeutil import day_start
from shop.web import parse_day, positive_int

register_staff_link("audit.log", _l("Audit log"), Role.ADMIN)


def _day(value: str | None) -> date | None:
    return parse_day(value) if value else None


@audit.get("/staf/audit")
@login_required
@role_required(Role.ADMIN)
def log() -> str:
    args = request.args
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if args.get("actor"):
        query = query.where(AuditEntry.actor_email.ilike(f"%{args['actor'].strip()}%"))
    if args.get("target"):
        query = query.where(AuditEntry.target_type == args["target"])
    if args.get("action"):
        query = query.where(AuditEntry.action.startswith(args["action"].strip()))
    if day_from := _day(args.get("from")):
        query = query.where(AuditEntry.at >= day_start(day_from))
    if day_to := _day(args.get("to")):
        query = query.where(AuditEntry.at < day_start(day_to + timedelta(days=1)))
    page = db.paginate(query, page=positive_int(args.get("page"), 1), per_page=50, error_out=False)
    targets = db.session.scalars(select(AuditEntry.target_type).distinct().order_by(AuditEntry.target_type)).all()
    return render_template("audit/log.html", page=page, targets=targets, args=args, display=display,
                           objects=display.targets(page.items))
