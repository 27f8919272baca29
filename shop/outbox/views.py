"""The staff screen of mail that could not be delivered, with a way to send it again."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from werkzeug.wrappers import Response

from shop.accounts import register_staff_link
from shop.accounts.decorators import role_required
from shop.accounts.models import Role
from shop.extensions import db
from shop.outbox import outbox, service
from shop.outbox.models import OutboxMessage

STAFF = (Role.ADMIN, Role.FULFILMENT)
register_staff_link("outbox.troubled", _l("Mail not delivered"), *STAFF, count=lambda user: service.troubled_count())


@outbox.get("/staf/surat")
@login_required
@role_required(*STAFF)
def troubled() -> str:
    return render_template("outbox/troubled.html", messages=service.troubled(), not_sent=service.not_sent_count(),
                           mail_server=bool(current_app.config.get("MAIL_SERVER")))


@outbox.post("/staf/surat/<int:message_id>/kirim-ulang")
@login_required
@role_required(*STAFF)
def retry(message_id: int) -> Response:
    service.retry(db.get_or_404(OutboxMessage, message_id))
    db.session.commit()
    service.deliver_after_commit()
    flash(_("The mail is being sent again."), "success")
    return redirect(url_for("outbox.troubled"))
