"""Admin screens for staff users and their roles."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from shop.accounts import accounts, register_staff_link, service
from shop.accounts.decorators import role_required
from shop.accounts.models import Role, User
from shop.audit.service import record
from shop.catalog.models import Facility
from shop.extensions import db
from shop.web import commit_or_refuse, positive_int

register_staff_link("accounts.users", _l("Users and roles"), Role.ADMIN)


@accounts.get("/staf/pengguna")
@login_required
@role_required(Role.ADMIN)
def users() -> str:
    return render_template("accounts/users.html", users=db.session.scalars(select(User).order_by(User.email)).all(),
                           facilities=db.session.scalars(select(Facility).order_by(Facility.name)).all(),
                           roles=list(Role))


def _not_created(error: Exception) -> str:
    return _("The user was not created: %(problem)s", problem=account_problem(error))


def _not_saved(error: Exception) -> str:
    return _("Not saved: %(problem)s", problem=account_problem(error))


@accounts.post("/staf/pengguna")
@login_required
@role_required(Role.ADMIN)
def create_user() -> Response:
    form = request.form

    def create() -> User:
        user = service.create_user(form.get("email", ""), form.get("password", ""), form.getlist("roles"),
                                   name=form.get("name", "").strip(),
                                   facility_id=positive_int(form.get("facility_id")))
        record("user.create", user, None, {"email": user.email, "roles": user.roles, "facility_id": user.facility_id},
               actor=current_user)
        return user

    user = commit_or_refuse(create, {service.AccountError: _not_created, ValueError: _not_created})
    if user is not None:
        flash(_("User %(email)s created.", email=user.email), "success")
    return redirect(url_for("accounts.users"))


@accounts.post("/staf/pengguna/<int:user_id>")
@login_required
@role_required(Role.ADMIN)
def update_user(user_id: int) -> Response:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    commit_or_refuse(lambda: service.update_user(user, roles=request.form.getlist("roles"),
                                                 facility_id=positive_int(request.form.get("facility_id")),
                                                 active=request.form.get("active") == "1", actor=current_user),
                     {service.AccountError: _not_saved, ValueError: _not_saved}, _("Saved."))
    return redirect(url_for("accounts.users"))


def account_problem(error: Exception) -> str:
    """Why a user could not be created or changed, in the reader's language."""
    code, params = getattr(error, "code", ""), getattr(error, "params", {})
    if code == "email":
        return _("enter a valid email address, like nama@contoh.id")
    if code == "facility_needed":
        return _("facility staff need a facility")
    if code == "facility_unknown":
        return _("that facility does not exist")
    if code == "password_short":
        return _("the password needs at least %(length)d characters", length=params.get("length", 0))
    if code == "name_long":
        return _("the name has at most 120 characters")
    if code == "email_taken":
        return _("a user with the email %(email)s exists already", email=params.get("email", ""))
    if code == "own_admin":
        return _("you cannot remove your own admin role or deactivate yourself")
    return _("choose the roles from the list")  # an unknown role (Role() refused it)
