"""The certificate alert list as text and as mail to the cooperative (for `flask --app shop certs check`)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from shop import mail
from shop.certification.service import Alerts


def send_alerts(alerts: Alerts, to: str, days: int, language: str = "id") -> bool:
    message = mail.render_message("certification/mail/alerts", to=to, language=language, alerts=alerts, days=days,
                                  subject=_l("Certificates to renew and products not on sale"))
    return mail.send(message)
