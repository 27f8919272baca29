"""Writing the audit log: one call per staff change, in the same transaction as the change."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from flask import has_request_context
from flask_login import current_user

from shop.audit.models import AuditEntry
from shop.extensions import db

if TYPE_CHECKING:
    from shop.accounts.models import Actor  # the audit log sits below accounts: it records, it knows no users


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    return value


def snapshot(obj: Any, fields: list[str]) -> dict[str, Any]:
    """The named fields of a model as JSON-safe values, for `before`/`after`."""
    return {name: _plain(getattr(obj, name)) for name in fields}


def record(action: str, target: Any, before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
           note: str = "", actor: Actor = None) -> AuditEntry:
    """Append one entry; the actor is the logged-in user unless given (None for CLI and system work)."""
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    entry = AuditEntry(
        actor_id=getattr(actor, "id", None),
        actor_email=getattr(actor, "email", "") or "",
        action=action,
        target_type=type(target).__name__ if not isinstance(target, tuple) else target[0],
        target_id=str(getattr(target, "id", None) if not isinstance(target, tuple) else target[1]),
        before=_plain(before) if before is not None else None,
        after=_plain(after) if after is not None else None,
        note=note,
    )
    db.session.add(entry)
    return entry
