"""Login, logout, password change and the staff home."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from shop.accounts import STAFF_PANELS, accounts, service, staff_menu
from shop.accounts.decorators import role_required
from shop.accounts.forms import LoginForm, PasswordForm
from shop.accounts.models import Role
from shop.extensions import db, limiter, submitted_email
from shop.web import safe_next


@accounts.route("/masuk", methods=["GET", "POST"])
@limiter.limit("10 per minute; 50 per hour", methods=["POST"])
@limiter.limit("10 per minute; 30 per hour", methods=["POST"], key_func=submitted_email)
def login() -> str | Response:
    form = LoginForm()
    if form.validate_on_submit():
        user = service.authenticate(form.email.data or "", form.password.data or "")
        if user is not None:
            db.session.commit()
            login_user(user, remember=bool(form.remember.data))
            default = url_for("accounts.staff") if user.is_staff else url_for("catalog.home")
            return redirect(safe_next(request.args.get("next"), default))
        flash(_("Email or password is incorrect."), "error")
    return render_template("accounts/login.html", form=form, **_demo_users())


def _demo_users() -> dict[str, object]:
    """In DEMO_MODE the log-in page names the demo staff users and their password (README lists them too), as
    create_app put them in `app.extensions["demo_login"]` from shop.demo."""
    demo = current_app.extensions.get("demo_login") if current_app.config["DEMO_MODE"] else None
    return {"demo_users": demo["users"], "demo_password": demo["password"]} if demo else {}


@accounts.post("/keluar")
@login_required
def logout() -> Response:
    """Logging out ends the session on the server: the old session and remember-me cookies no longer work."""
    current_user.end_sessions()
    db.session.commit()
    logout_user()
    flash(_("You are logged out."), "success")
    return redirect(url_for("catalog.home"))


@accounts.route("/akun/kata-sandi", methods=["GET", "POST"])
@login_required
def password() -> str | Response:
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            service.change_password(current_user, form.current.data or "", form.new.data or "")
        except service.AccountError:
            form.current.errors = [*form.current.errors, _("The current password is wrong.")]
        else:
            db.session.commit()
            login_user(current_user)  # this session stays; every other one is logged out
            flash(_("Password changed. You were logged out on every other device."), "success")
            return redirect(url_for("accounts.password"))
    return render_template("accounts/password.html", form=form)


@accounts.get("/staf")
@login_required
@role_required(*Role)
def staff() -> str:
    links = staff_menu(current_user)
    panels = [(panel.template, panel.context()) for panel in STAFF_PANELS if current_user.has_role(*panel.roles)]
    return render_template("accounts/staff.html", links=links, panels=panels)
