"""The cooperative's daily mail of lots near their best-before date (#27.8), beside the certificate list."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from shop import mail
from shop.catalog.stock import lots_nearing_limit
from shop.outbox import service as outbox
from shop.timeutil import today


def queue_lot_alerts(to: str, language: str = "id") -> int:
    """Queue today's list of lots that leave sale within 14 days, at most once a day; the number of lots (0:
    nothing to say, no mail). The caller commits."""
    nearing = lots_nearing_limit()
    if nearing:
        message = mail.render_message("fulfilment/mail/lot_alerts", to=to, language=language, nearing=nearing,
                                      subject=_l("Lots near their best-before date: promote them"))
        outbox.queue(message, "lots.alerts", dedupe_key=f"lots.alerts:{to}:{today().isoformat()}")
    return len(nearing)
