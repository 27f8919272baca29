"""The certificate alert list as text and as mail to the cooperative (for `flask --app shop certs check`)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from shop import mail
from shop.certification.service import Alerts
from shop.extensions import db
from shop.outbox import service as outbox
from shop.outbox.models import MailStatus


def send_alerts(alerts: Alerts, to: str, days: int, language: str = "id") -> bool:
    """Queue the list in the outbox, commit, and try it at once; False when it could not go out yet (the
    outbox keeps it and retries)."""
    message = mail.render_message("certification/mail/alerts", to=to, language=language, alerts=alerts, days=days,
                                  subject=_l("Certificates to renew and products not on sale"))
    row = outbox.queue(message, "certificates.alerts")
    db.session.commit()
    outbox.deliver_due()
    db.session.refresh(row)
    return row.status is MailStatus.SENT
