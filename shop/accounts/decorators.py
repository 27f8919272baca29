"""The permission decorator: `@role_required("finance")` under `@login_required`."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user

from shop.accounts.models import Role
from shop.extensions import login_manager

F = TypeVar("F", bound=Callable[..., Any])


def role_required(*roles: str | Role) -> Callable[[F], F]:
    """Allow users holding any of `roles`; anonymous users go to the login page, others get 403."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
