"""Karya Binaan: the online shop for products made in Indonesia's correctional facilities."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, current_app, render_template, request
from sqlalchemy import event
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session
from werkzeug.exceptions import SecurityError

from shop.config import load_config
from shop.extensions import babel, cache, csrf, db, limiter, login_manager, migrate


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    from shop.web import BoundedIntConverter

    app.url_map.converters["int"] = BoundedIntConverter
    # "/pesanan//bayar" is not found rather than redirected: Werkzeug's redirect to the merged path is absolute and
    # written from the request's own Host header, which a visitor may forge (the fuzz found it, #22's rule).
    app.url_map.merge_slashes = False
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(load_config(app.instance_path))
    if test_config:
        overrides = dict(test_config)
        if "DATABASE_URL" in overrides:
            overrides["SQLALCHEMY_DATABASE_URI"] = overrides.pop("DATABASE_URL")
        app.config.update(overrides)
    if str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite"):
        # SQLite lets one writer at a time: a request waits up to SQLITE_BUSY_SECONDS for another's commit before it
        # gives up with "database unavailable" (503), rather than sqlite3's 5 s, short under a burst of writes.
        options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        options["connect_args"] = {"timeout": app.config["SQLITE_BUSY_SECONDS"], **options.get("connect_args", {})}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options

    from shop import (
        assets,
        i18n,
        logs,
        metrics,
        models,  # noqa: F401  (every model registered before Alembic or queries run)
        reporting,
        security,
        sessions,
        storage,
    )
    from shop.i18n import select_locale
    from shop.storefront import pages as storefront_pages

    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True, compare_type=True,
                     directory=os.path.join(os.path.dirname(app.root_path), "migrations"))
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=os.path.join(app.root_path, "translations"))
    i18n.init_app(app)
    csrf.init_app(app)
    cache.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Behind nginx every request comes from the proxy: take the client's address from X-Forwarded-For,
        # trusting exactly as many proxies as were configured (more would let a client choose its address).
        proxies = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]

    security.init_app(app)
    sessions.init_app(app)
    assets.init_app(app)
    storefront_pages.init_app(app)
    storage.init_app(app)  # the two folders for uploads, or a bucket
    metrics.init_app(app)  # /metrics, and each request counted and timed
    reporting.init_app(app)  # error reports, when SENTRY_DSN is set
    if app.testing:  # a route that fails on purpose, to test the error reports; never in a running shop
        app.add_url_rule("/_test/error", endpoint="test_error", view_func=_fail_on_purpose)
        app.add_url_rule("/_test/error/<token>", endpoint="test_error", view_func=_fail_on_purpose)
    logs.init_app(app)  # last: its request id is the first thing every request gets, before a kept page is served
    _wire_layers(app)
    _register_blueprints(app)
    _register_cli(app)
    _register_template_helpers(app)
    _register_error_pages(app)
    return app


def _fail_on_purpose(token: str = "") -> str:
    """Fails as a database error does, its message holding what a buyer typed (its row values)."""
    from flask import request

    password = request.args.get("password", "")  # a local an error report must never carry  # noqa: F841
    typed = ", ".join(repr(request.args.get(key, "")) for key in ("email", "phone", "street"))
    raise RuntimeError(f"a forced error (testing only) [parameters: ({typed})]")


def _wire_layers(app: Flask) -> None:
    """Where a lower layer must react to a higher one, the higher one registers here (every registration is
    idempotent: tests create many apps). This is the whole list of such wiring (docs/architecture.md)."""
    from shop import demo
    from shop.accounts import service as accounts
    from shop.catalog import cache as catalog_cache
    from shop.catalog import search as catalog_search
    from shop.certification.models import Certification
    from shop.customers import service as customers
    from shop.ledger import service as ledger
    from shop.ledger.models import SplitRule
    from shop.orders import models as order_models
    from shop.orders import service as orders
    from shop.payments import service as payments
    from shop.payments.models import CHANNEL_LABELS
    from shop.staff import audit_display

    # A paid order's sale and a refund's reversal are booked in the ledger, in the same transaction.
    orders.on_paid(ledger.book_sale)
    payments.on_refund(ledger.book_refund)
    # An order's history names the way it was paid ("paid by BCA virtual account") in the reader's language.
    order_models.PARAM_WORDS["channel"] = CHANNEL_LABELS
    # Search reads each product's text, rewritten with every change of the product or of what it names.
    if not event.contains(Session, "before_flush", catalog_search.refresh_before_flush):
        event.listen(Session, "before_flush", catalog_search.refresh_before_flush)
    # A certificate or a split rule changes what catalog pages show ("where your money goes", sellability).
    catalog_cache.watch(Certification, SplitRule)
    # Signed-in visitors: staff (accounts) and buyers with an account (customers, a layer above). The cookie holds
    # "<id>:<session token>" (staff) or "c:…" (a customer).
    login_manager.user_loader(
        lambda user_id: customers.load(user_id[2:]) if user_id.startswith("c:") else accounts.load_user(user_id))
    # The log-in page of a demo shop names the demo staff users.
    # Audit entries read in the reader's words wherever they are shown (the staff package knows every kind).
    app.jinja_env.globals["audit_text"] = audit_display
    app.extensions["demo_login"] = {"users": [(email, roles) for email, _name, roles, _facility in demo.DEMO_USERS],
                                    "password": demo.DEMO_PASSWORD}



def _register_blueprints(app: Flask) -> None:
    """Each domain's blueprint, with its routes attached by importing its view modules."""
    from importlib import import_module

    modules = ["storefront.views", "storefront.order_page", "catalog.staff", "staff.catalog_admin",
               "staff.search_words", "staff.system", "certification.views", "accounts.views", "staff.users", "health",
               "cart.views",
               "checkout.views", "checkout.admin", "orders.views", "customers.views", "payments.views",
               "fulfilment.views", "staff.audit", "ledger.views", "finance.views", "finance.treasury_views",
               "outbox.views",
               "sales.views"]
    for name in modules:
        import_module(f"shop.{name}")
    from shop.accounts import accounts
    from shop.audit import audit
    from shop.cart import cart
    from shop.catalog import catalog
    from shop.certification import certification
    from shop.checkout import checkout
    from shop.customers import customers
    from shop.fulfilment import fulfilment
    from shop.health import health
    from shop.ledger import ledger
    from shop.orders import orders
    from shop.outbox import outbox
    from shop.payments import payments
    from shop.sales import sales

    for blueprint in (catalog, certification, accounts, health, cart, checkout, orders, customers, payments,
                      fulfilment, audit, ledger, outbox, sales):
        app.register_blueprint(blueprint)


def _register_cli(app: Flask) -> None:
    from shop.cli import register

    register(app)


def _register_template_helpers(app: Flask) -> None:
    from flask_babel import format_number

    from shop import i18n, web
    from shop.accounts.models import ROLE_LABELS
    from shop.catalog import cache as catalog_cache
    from shop.catalog import seo
    from shop.certification import service as certs
    from shop.certification.models import REQUIREMENT_LABELS
    from shop.certification.numbers import public_lookup
    from shop.ledger import service as ledger
    from shop.ledger.models import PART_EXPLAINED, SPLIT_PARTS
    from shop.storefront.fragments import filter_form, highlight_cards, product_cards
    from shop.storefront.pages import visitor_mark
    from shop.timeutil import today

    app.jinja_env.filters["rupiah"] = i18n.rupiah
    app.jinja_env.filters["day"] = i18n.format_day
    app.jinja_env.filters["weight"] = i18n.weight
    app.jinja_env.filters["moment"] = i18n.format_moment
    app.jinja_env.filters["number"] = format_number
    app.jinja_env.globals["localized"] = i18n.localized
    app.jinja_env.globals["zone_name"] = i18n.zone_name
    app.jinja_env.globals["current_language"] = i18n.current_language
    app.jinja_env.globals["LANGUAGE_NAMES"] = i18n.LANGUAGE_NAMES
    app.jinja_env.globals["days_range"] = i18n.days_range
    app.jinja_env.globals["is_sellable"] = certs.is_sellable
    app.jinja_env.globals["sale_state"] = certs.sale_state
    app.jinja_env.globals["cert_lookup"] = public_lookup
    app.jinja_env.globals["product_summary"] = seo.product_summary
    app.jinja_env.globals["product_json_ld"] = seo.product_json_ld
    app.jinja_env.globals["today"] = today
    app.jinja_env.globals["public_url"] = web.public_url
    app.jinja_env.globals["whatsapp_link"] = web.whatsapp_link
    app.jinja_env.globals["per_language"] = web.per_language
    # Kept pages show exact stock only at or below this (a change there starts a new catalog generation).
    app.jinja_env.globals["LOW_STOCK"] = catalog_cache.LOW_STOCK
    app.jinja_env.globals["query_args"] = web.query_args
    app.jinja_env.globals["product_cards"] = product_cards
    app.jinja_env.globals["highlight_cards"] = highlight_cards
    app.jinja_env.globals["visitor_mark"] = visitor_mark
    app.jinja_env.globals["filter_form"] = filter_form
    app.jinja_env.globals["requirement_states"] = certs.requirement_states
    app.jinja_env.globals["split_of_product"] = ledger.preview_product
    app.jinja_env.globals["split_of_order"] = ledger.order_split
    app.jinja_env.globals["SPLIT_PARTS"] = SPLIT_PARTS
    app.jinja_env.globals["PART_EXPLAINED"] = PART_EXPLAINED
    app.jinja_env.globals["role_label"] = lambda role: str(ROLE_LABELS.get(role, role))
    app.jinja_env.globals["requirement_label"] = lambda name: str(REQUIREMENT_LABELS.get(name, name))


def _register_error_pages(app: Flask) -> None:
    def bad_request(error: Exception) -> tuple[str, int]:
        if isinstance(error, SecurityError):  # a Host outside TRUSTED_HOSTS: no address can be built for it
            return render_template("errors/wrong_host.html"), 400
        return render_template("errors/400.html"), 400

    def forbidden(error: Exception) -> tuple[str, int]:
        return render_template("errors/403.html"), 403

    def not_found(error: Exception) -> tuple[str, int]:
        return render_template("errors/404.html"), 404

    def too_large(error: Exception) -> tuple[str, int]:
        return render_template("errors/413.html"), 413

    def too_many(error: Exception) -> tuple[str, int]:
        """The shop's own page for a rate limit; the order lookup shows its form again with what was typed."""
        if request.endpoint == "orders.track":
            return render_template("orders/track.html", number=request.form.get("number", ""),
                                   email=request.form.get("email", ""), limited=True), 429
        return render_template("errors/429.html"), 429

    def server_error(error: Exception) -> tuple[str, int]:
        """A failed transaction (a foreign key lost in a race, say) leaves the session unusable until it is rolled
        back; the error page itself reads the signed-in user and the staff menu from the database."""
        try:
            db.session.rollback()
        except SQLAlchemyError:
            current_app.logger.exception("rollback before the error page failed")
        return render_template("errors/500.html"), 500

    def database_unavailable(error: Exception) -> tuple[str, int, dict[str, str]]:
        """The database went away mid-request (restart, failover, a dropped connection): the transaction is
        gone whole, so say that nothing was saved; the pool reconnects on the next request (pre-ping)."""
        current_app.logger.error("database unavailable: %s", error)
        try:
            db.session.rollback()
        except SQLAlchemyError:
            pass
        return render_template("errors/unavailable.html"), 503, {"Retry-After": "30", "Cache-Control": "no-store"}

    app.register_error_handler(OperationalError, database_unavailable)
    app.register_error_handler(400, bad_request)
    app.register_error_handler(403, forbidden)
    app.register_error_handler(404, not_found)
    app.register_error_handler(413, too_large)
    app.register_error_handler(429, too_many)
    app.register_error_handler(500, server_error)
