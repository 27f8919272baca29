"""Customer pages: register, log in, my orders and address."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user
from werkzeug.wrappers import Response

from shop.accounts.forms import LoginForm
from shop.accounts.service import AccountError
from shop.customers import customers, service
from shop.customers.forms import RegisterForm
from shop.customers.models import Customer
from shop.extensions import db, limiter, submitted_email
from shop.web import safe_next


def current_customer() -> Customer | None:
    user = current_user._get_current_object() if current_user else None
    return user if isinstance(user, Customer) else None


@customers.route("/akun/daftar", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def register() -> str | Response:
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            customer = service.register(form.email.data or "", form.name.data or "", form.password.data or "")
        except AccountError as error:
            message = _("An account with this email exists already: log in instead.") if str(error) == "exists" \
                else _("Enter a valid email address, like nama@contoh.id.")
            form.email.errors = [message]
        else:
            db.session.commit()
            login_user(customer)
            flash(_("Welcome! Your account is ready."), "success")
            return redirect(safe_next(request.args.get("next"), url_for("customers.account")))
    return render_template("customers/register.html", form=form)


@customers.route("/akun/masuk", methods=["GET", "POST"])
@limiter.limit("10 per minute; 50 per hour", methods=["POST"])
@limiter.limit("10 per minute; 30 per hour", methods=["POST"], key_func=submitted_email)
def login() -> str | Response:
    form = LoginForm()
    if form.validate_on_submit():
        customer = service.authenticate(form.email.data or "", form.password.data or "")
        if customer is not None:
            login_user(customer, remember=bool(form.remember.data))
            return redirect(safe_next(request.args.get("next"), url_for("customers.account")))
        flash(_("Email or password is incorrect."), "error")
    return render_template("accounts/login.html", form=form, customer=True)


@customers.get("/akun")
def account() -> str | Response:
    customer = current_customer()
    if customer is None:
        return redirect(url_for("customers.login", next=request.path))
    return render_template("customers/account.html", customer=customer, orders=service.orders_of(customer))
