"""Rendering mail (text and HTML, in the recipient's language) and handing it to the SMTP server (MAIL_SERVER…).
Nothing sends directly: mail goes through the outbox (shop.outbox), which calls `deliver`."""

from __future__ import annotations

import logging
import smtplib
from contextlib import nullcontext
from email.message import EmailMessage, Message
from email.utils import formataddr, make_msgid

from flask import current_app, has_request_context, render_template
from flask_babel import force_locale

log = logging.getLogger(__name__)


def render_message(template: str, *, to: str, subject: str, language: str, **context: object) -> EmailMessage:
    """`template` names `<template>.txt` and `<template>.html`, both rendered in `language`."""
    config = current_app.config
    # Links in mail point at the public site, also when the mail is sent from a CLI command.
    request_context = nullcontext() if has_request_context() else \
        current_app.test_request_context(base_url=config["SHOP_URL"])
    with request_context, force_locale(language):
        text = render_template(f"{template}.txt", **context)
        html = render_template(f"{template}.html", **context)
        subject = str(subject)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = formataddr((config["SHOP_NAME"], config["MAIL_DEFAULT_SENDER"]))
    message["To"] = to
    message["Message-ID"] = make_msgid(domain=config["MAIL_DEFAULT_SENDER"].rpartition("@")[2] or None)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def deliver(message: EmailMessage | Message) -> str | None:
    """Hand one message to the configured SMTP server; returns the error, or None when it was accepted."""
    config = current_app.config
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT"]) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        return f"{type(error).__name__}: {error}"
    return None
