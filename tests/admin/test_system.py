"""#30.5: the admin's system page says what is up and what is stuck: the database and its migrations, the job
queue, the last run of each chore (late or failed), mail that failed, payments stuck pending, free space, versions,
and a warning when several workers keep their rate limits in memory."""

from __future__ import annotations

from datetime import timedelta

from shop import chores
from shop.extensions import db
from shop.outbox.models import MailStatus, OutboxMessage
from shop.payments.models import Payment, PaymentMethod, PaymentStatus
from shop.staff import system
from shop.timeutil import utcnow
from tests import factories as f
from tests.helpers import logged_in, text_of


def test_the_system_page_says_what_is_up_and_what_is_stuck(app, monkeypatch):
    monkeypatch.setattr(system, "_workers", lambda: 1)  # (the test runner's own workers look like siblings)
    admin = logged_in(app, "admin")
    page = text_of(admin.get("/staf/sistem"))
    assert "Basis data" in page and "baik" in page and "Karya Binaan" in page
    assert "deliver_mail" in page and "belum pernah tercatat" in page  # no chore has run in this shop yet
    assert "kali percobaan" not in page  # one worker here

    chores.note_run("deliver_mail", utcnow() - timedelta(seconds=5))
    chores.note_run("expire_orders", utcnow() - timedelta(seconds=5), "OperationalError: the database went away")
    order = f.order({f.product(stock=5): 1})
    db.session.add(Payment(order=order, method=PaymentMethod.BANK_TRANSFER, amount=order.total,
                           status=PaymentStatus.PENDING, created_at=utcnow() - timedelta(days=2)))
    db.session.add(OutboxMessage(kind="tes", recipient="siti@example.id", subject="Tes", message="x",
                                 status=MailStatus.FAILED, attempts=6))
    db.session.commit()
    monkeypatch.setattr(system, "_workers", lambda: 4)
    page = text_of(admin.get("/staf/sistem"))
    assert "tepat waktu" in page  # deliver_mail ran a moment ago
    assert "the database went away" in page and "gagal" in page
    assert "1 masih tertunda" in page and "1 gagal permanen" in page
    assert "4 worker menyimpan batas laju di memori" in page


def test_only_admins_see_it(app):
    assert logged_in(app, "finance").get("/staf/sistem").status_code == 403
    assert app.test_client().get("/staf/sistem").status_code == 302


def test_a_chore_run_by_the_worker_is_recorded_with_its_outcome(app):
    from shop import jobs

    jobs._run(lambda: 1)  # noqa: SLF001 - the wrapper every job runs in
    runs = chores.last_runs()
    assert runs["<lambda>"].ok and runs["<lambda>"].last_ok_at is not None
