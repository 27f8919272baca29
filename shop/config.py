"""Settings read from the environment, with safe defaults."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_config(instance_path: str) -> dict[str, Any]:
    """Every setting the shop reads, from the environment; README lists them."""
    instance = Path(instance_path)
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'karya-binaan.sqlite'}"
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY") or _instance_secret_key(instance),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SHOP_NAME": os.environ.get("SHOP_NAME", "Karya Binaan"),
        "SHOP_URL": os.environ.get("SHOP_URL", "http://127.0.0.1:5000"),
        # Host names this shop answers to (Flask refuses any other Host with 400); none: every host is answered,
        # and absolute addresses still come from SHOP_URL only.
        "TRUSTED_HOSTS": [host.strip() for host in os.environ.get("TRUSTED_HOSTS", "").split(",") if host.strip()]
        or None,
        "SHOP_TIMEZONE": os.environ.get("SHOP_TIMEZONE", "Asia/Makassar"),
        "BABEL_DEFAULT_LOCALE": "id",
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("SHOP_TIMEZONE", "Asia/Makassar"),
        "LANGUAGES": ("id", "en"),
        "PRODUCTS_PER_PAGE": _env_int("PRODUCTS_PER_PAGE", 24),
        "UPLOAD_FOLDER": os.environ.get("UPLOAD_FOLDER") or str(instance / "uploads"),
        # A phone's photo is 5-12 MB: taken whole and made smaller here (shop.catalog.images), never refused.
        "MAX_CONTENT_LENGTH": _env_int("MAX_UPLOAD_BYTES", 16 * 1024 * 1024),
        "PRIVATE_UPLOAD_FOLDER": os.environ.get("PRIVATE_UPLOAD_FOLDER") or str(instance / "private"),
        # s3://bucket/prefix: photos and documents in S3-compatible object storage instead of the two folders (#30)
        "UPLOAD_STORAGE_URL": os.environ.get("UPLOAD_STORAGE_URL", ""),
        "S3_ENDPOINT_URL": os.environ.get("S3_ENDPOINT_URL", ""),  # MinIO, Ceph, a provider outside AWS
        "S3_REGION": os.environ.get("S3_REGION", ""),
        "MAX_DOCUMENT_BYTES": _env_int("MAX_DOCUMENT_BYTES", 5 * 1024 * 1024),
        "CERT_EXPIRY_WARNING_DAYS": _env_int("CERT_EXPIRY_WARNING_DAYS", 60),
        "IMPACT_CACHE_SECONDS": _env_int("IMPACT_CACHE_SECONDS", 600),
        "CATALOG_CACHE_SECONDS": _env_int("CATALOG_CACHE_SECONDS", 300),  # 0: no catalog cache at all
        # A lot whose best-before date leaves fewer days than this is no longer sold (set aside by a job).
        "MIN_SHELF_LIFE_DAYS": _env_int("MIN_SHELF_LIFE_DAYS", 30),
        "CATALOG_PAGE_CACHE": _env_bool("CATALOG_PAGE_CACHE", True),  # pages as well as options and cards
        # Flask-Caching: in this process unless CACHE_REDIS_URL names a Redis (needed with several workers)
        "CACHE_TYPE": "RedisCache" if os.environ.get("CACHE_REDIS_URL") else "SimpleCache",
        "CACHE_REDIS_URL": os.environ.get("CACHE_REDIS_URL", ""),
        "CACHE_KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "karya-binaan:"),
        "CACHE_DEFAULT_TIMEOUT": 0,  # every value sets its own timeout
        "CACHE_THRESHOLD": 5000,
        "DEMO_MODE": _env_bool("DEMO_MODE", False),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _env_bool("SESSION_COOKIE_SECURE", False),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": _env_bool("SESSION_COOKIE_SECURE", False),
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_DURATION": timedelta(days=_env_int("REMEMBER_DAYS", 30)),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX", ""),
        "RATELIMIT_HEADERS_ENABLED": True,
        "TRUSTED_PROXIES": _env_int("TRUSTED_PROXIES", 0),
        # "json": one JSON object per log line on stderr (for a log collector); anything else: readable text.
        # Error reports to Sentry (or a server speaking its protocol): off while unset (#30).
        "SENTRY_DSN": os.environ.get("SENTRY_DSN", ""),
        "SENTRY_ENVIRONMENT": os.environ.get("SENTRY_ENVIRONMENT", "production"),
        # /metrics: 404 while unset; with it, only "Authorization: Bearer <token>" gets the metrics (#30).
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN", ""),
        "LOG_FORMAT": os.environ.get("LOG_FORMAT", "text"),
        # A server's connections can drop (restart, failover): test each as it leaves the pool. An embedded SQLite
        # file cannot, and the test would cost every request a statement.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": not database_url.startswith("sqlite")},
        "SQLITE_BUSY_SECONDS": _env_int("SQLITE_BUSY_SECONDS", 20),
        "ORDER_PAYMENT_MINUTES": _env_int("ORDER_PAYMENT_MINUTES", 60),
        "BANK_TRANSFER_HOURS": _env_int("BANK_TRANSFER_HOURS", 24),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": _env_int("MAIL_PORT", 25),
        "MAIL_USE_TLS": _env_bool("MAIL_USE_TLS", False),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER", "toko@karyabinaan.id"),
        "MAIL_TIMEOUT": _env_int("MAIL_TIMEOUT", 10),
        # "inline" (in the request, after its commit), "queue" (a job for `flask jobs worker`), or "worker" (left to
        # `flask mail deliver` from cron or `jobs cron`)
        "MAIL_DELIVERY": os.environ.get("MAIL_DELIVERY", "inline"),
        "JOB_QUEUE_URL": os.environ.get("JOB_QUEUE_URL", ""),  # redis://127.0.0.1:6379/1: RQ jobs and schedule
        "JOB_QUEUE_NAME": os.environ.get("JOB_QUEUE_NAME", "karya-binaan"),
        "MAIL_MAX_ATTEMPTS": _env_int("MAIL_MAX_ATTEMPTS", 10),
        "MAIL_CLAIM_MINUTES": _env_int("MAIL_CLAIM_MINUTES", 10),
        "COOPERATIVE_EMAIL": os.environ.get("COOPERATIVE_EMAIL", "koperasi@karyabinaan.id"),
        "STRIPE_SECRET_KEY": os.environ.get("STRIPE_SECRET_KEY", ""),
        "STRIPE_WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET", ""),
        "STRIPE_API_BASE": os.environ.get("STRIPE_API_BASE", ""),
        "STRIPE_TIMEOUT": _env_int("STRIPE_TIMEOUT", 10),
        "STRIPE_NETWORK_RETRIES": _env_int("STRIPE_NETWORK_RETRIES", 2),
        "STRIPE_MIN_AMOUNT": _env_int("STRIPE_MIN_AMOUNT", 10_000),
        "STRIPE_MAX_AMOUNT": _env_int("STRIPE_MAX_AMOUNT", 999_999),
        # Midtrans Snap: QRIS, e-wallets, virtual accounts, minimarkets (shop/payments/midtrans_gateway.py). Without
        # a server key the option is not offered. MIDTRANS_API_BASE and MIDTRANS_SNAP_BASE are for the tests alone.
        "MIDTRANS_SERVER_KEY": os.environ.get("MIDTRANS_SERVER_KEY", ""),
        "MIDTRANS_CLIENT_KEY": os.environ.get("MIDTRANS_CLIENT_KEY", ""),
        "MIDTRANS_IS_PRODUCTION": _env_bool("MIDTRANS_IS_PRODUCTION", False),
        "MIDTRANS_METHODS": os.environ.get("MIDTRANS_METHODS", "other_qris,gopay,shopeepay,bca_va,bni_va,bri_va,"
                                                               "echannel,permata_va,indomaret,alfamart"),
        "MIDTRANS_FEES": os.environ.get(
            "MIDTRANS_FEES", "qris=0.7%,gopay=2%,shopeepay=2%,bank_transfer=4000,echannel=4000,cstore=5000"),
        "MIDTRANS_API_BASE": os.environ.get("MIDTRANS_API_BASE", ""),
        "MIDTRANS_SNAP_BASE": os.environ.get("MIDTRANS_SNAP_BASE", ""),
        "MIDTRANS_TIMEOUT": _env_int("MIDTRANS_TIMEOUT", 15),
        # Who runs the shop and how to reach them (PP 80/2019): the footer, the contact page, the WhatsApp links.
        "SHOP_CONTACT": {
            "operator": os.environ.get("SHOP_OPERATOR", "Koperasi Farmtisan Lestari Berjaya"),
            "address": os.environ.get("SHOP_ADDRESS", "Jl. Contoh No. 1, Kota Palu, Sulawesi Tengah 94111"),
            "phone": os.environ.get("SHOP_PHONE", "+62 811 0000 0000"),
            "whatsapp": "".join(ch for ch in os.environ.get("SHOP_WHATSAPP", "6281100000000") if ch.isdigit()),
            "email": os.environ.get("SHOP_EMAIL") or os.environ.get("COOPERATIVE_EMAIL", "koperasi@karyabinaan.id"),
            "hours": os.environ.get("SHOP_HOURS", "Senin–Jumat, 08.00–16.00 WITA"),
        },
        # The cooperative's static QRIS code (its EMVCo text), shown on the direct-sales screen for buyers to scan.
        "DIRECT_QRIS_PAYLOAD": os.environ.get("DIRECT_QRIS_PAYLOAD", ""),
        "BANK_ACCOUNT": {
            "bank": os.environ.get("BANK_NAME", "Bank Rakyat Indonesia (BRI)"),
            "number": os.environ.get("BANK_ACCOUNT_NUMBER", "0000-01-000000-00-0"),
            "holder": os.environ.get("BANK_ACCOUNT_HOLDER", "Koperasi Farmtisan Lestari Berjaya"),
        },
    }


def _instance_secret_key(instance: Path) -> str:
    """A random key kept in the instance folder, so sessions survive restarts without configuration."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
