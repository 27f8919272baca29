"""The certificate alert list as text and as mail to the cooperative (for `flask --app shop certs check`)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from shop import mail
from shop.certification.service import Alerts
from shop.extensions import db
from shop.outbox import service as outbox
from shop.outbox.models import MailStatus
from shop.timeutil import today


def send_alerts(alerts: Alerts, to: str, days: int, language: str = "id", *, daily: bool = False) -> bool:
    """Queue the list in the outbox, commit, and try it at once; False when it could not go out yet (the
    outbox keeps it and retries). `daily`: the scheduled list, queued at most once a day (in the shop's time
    zone) however many schedulers or retries run it; a second run of the day is True and queues nothing."""
    message = mail.render_message("certification/mail/alerts", to=to, language=language, alerts=alerts, days=days,
                                  subject=_l("Certificates to renew and products not on sale"))
    key = f"certificates.alerts:{to}:{today().isoformat()}" if daily else None
    row = outbox.queue(message, "certificates.alerts", dedupe_key=key)
    db.session.commit()
    if row is None:
        return True
    outbox.deliver_due()
    db.session.refresh(row)
    return row.status is MailStatus.SENT
