"""Customer pages: register, log in, my orders and address."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_user
from werkzeug.wrappers import Response

from shop.accounts.forms import LoginForm
from shop.accounts.models import User
from shop.accounts.service import AccountError
from shop.customers import customers, recovery, service
from shop.customers.forms import ForgotForm, NewPasswordForm, RegisterForm
from shop.customers.models import Customer
from shop.extensions import db, limiter, submitted_email
from shop.outbox import service as outbox
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
            recovery.send_verification(customer)
            db.session.commit()
            outbox.deliver_after_commit()
            login_user(customer)
            flash(_("Welcome! Your account is ready. We sent a link to %(email)s: once you confirm the address, "
                    "orders you placed with it as a guest appear in your account.", email=customer.email), "success")
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


@customers.post("/akun/verifikasi-ulang")
@limiter.limit("5 per hour")
def resend_verification() -> Response:
    customer = current_customer()
    if customer is None:
        return redirect(url_for("customers.login", next=url_for("customers.account")))
    if customer.email_verified_at is None:
        recovery.send_verification(customer)
        db.session.commit()
        outbox.deliver_after_commit()
        flash(_("We sent the link again to %(email)s.", email=customer.email), "success")
    return redirect(url_for("customers.account"))


@customers.get("/akun/verifikasi/<token>")
def verify(token: str) -> Response:
    try:
        customer, attached = recovery.verify_email(token)
    except recovery.LinkInvalid as invalid:
        flash(_("This confirmation link is too old: log in and ask for a new one on your account page.")
              if invalid.expired else _("This confirmation link does not work: ask for a new one on your account "
                                        "page."), "error")
        return redirect(url_for("customers.account"))
    db.session.commit()
    flash(ngettext("Your email address is confirmed. %(num)d earlier order is now in your account.",
                   "Your email address is confirmed. %(num)d earlier orders are now in your account.", attached)
          if attached else _("Your email address is confirmed."), "success")
    return redirect(url_for("customers.account"))


@customers.route("/lupa-kata-sandi", methods=["GET", "POST"])
@limiter.limit("5 per hour; 20 per day", methods=["POST"])
@limiter.limit("3 per hour", methods=["POST"], key_func=submitted_email)
def forgot_password() -> str | Response:
    """The same answer whether or not the address has an account: nobody learns who shops here."""
    form = ForgotForm()
    if form.validate_on_submit():
        recovery.request_reset(form.email.data or "")
        db.session.commit()
        outbox.deliver_after_commit()
        flash(_("If %(email)s has an account here, a link to choose a new password is on its way. It works once, "
                "for an hour. Nothing came? Check the spam folder, or ask again.", email=form.email.data),
              "success")
        return redirect(url_for("customers.forgot_password"))
    return render_template("customers/forgot.html", form=form)


@customers.route("/atur-ulang-kata-sandi/<token>", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def reset_password(token: str) -> str | Response | tuple[str, int]:
    try:
        account = recovery.account_for_reset(token)
    except recovery.LinkInvalid as invalid:
        return render_template("customers/reset.html", form=None, expired=invalid.expired), 400
    form = NewPasswordForm()
    if form.validate_on_submit():
        recovery.reset_password(token, form.password.data or "")
        db.session.commit()
        flash(_("Your password is changed. Log in with the new one."), "success")
        return redirect(url_for("accounts.login" if isinstance(account, User) else "customers.login"))
    return render_template("customers/reset.html", form=form, expired=False)
