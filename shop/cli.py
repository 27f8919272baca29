"""`flask` commands for chores: demo data now; each domain adds its own group here."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import select

from shop.accounts.models import Role
from shop.extensions import db


@click.command("seed-demo")
@click.option("--data", "data_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder with facilities.json and products.json (default: the bundled demo set).")
@click.option("--no-images", is_flag=True, help="Do not generate placeholder product photos.")
@click.option("--with-users", is_flag=True, help="Also create the demo staff users (always in DEMO_MODE).")
@click.option("--with-sales", is_flag=True,
              help="Also play a few months of demo sales, deposits and closed months (always in DEMO_MODE; only "
                   "into a shop that has no orders yet).")
def seed_demo(data_dir: Path | None, no_images: bool, with_users: bool, with_sales: bool) -> None:
    """Load the demo facilities and catalogue; running it again changes nothing."""
    from flask import current_app

    from shop import demo

    counts = demo.load(data_dir or demo.DEMO_DIR, with_images=not no_images)
    if with_users or current_app.config["DEMO_MODE"]:
        counts["demo users"] = demo.load_users()
    if with_sales or current_app.config["DEMO_MODE"]:
        from shop.demo.sales import load_sales

        counts.update(load_sales())
    db.session.commit()
    click.echo(", ".join(f"{count} {name}" for name, count in counts.items()))


@click.group("users")
def users() -> None:
    """Staff and customer accounts."""


@users.command("create")
@click.argument("email")
@click.option("--role", "roles", multiple=True, type=click.Choice([r.value for r in Role]),
              help="A staff role; repeat for several.")
@click.option("--facility", "facility_slug", help="The facility of a facility-staff user (its slug).")
@click.option("--name", default="", help="The person's name.")
@click.password_option(help="The password (asked for when not given).")
def create_user_command(email: str, roles: tuple[str, ...], facility_slug: str | None, name: str,
                        password: str) -> None:
    """Create a user, e.g. the first admin: flask --app shop users create --role admin EMAIL"""
    from shop.accounts.service import AccountError, create_user
    from shop.catalog.models import Facility

    facility_id = None
    if facility_slug:
        facility = db.session.scalar(select(Facility).where(Facility.slug == facility_slug))
        if facility is None:
            raise click.BadParameter(f"no facility {facility_slug!r}", param_hint="--facility")
        facility_id = facility.id
    try:
        user = create_user(email, password, roles, name=name, facility_id=facility_id)
    except AccountError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"created {user.email} ({', '.join(user.roles) or 'customer'})")


@click.group("orders")
def orders() -> None:
    """Order chores for cron."""


@orders.command("expire")
def expire_orders() -> None:
    """Cancel unpaid orders past their payment deadline and put their stock back on sale."""
    from shop.orders.service import expire_overdue_orders

    numbers = expire_overdue_orders()
    db.session.commit()
    click.echo(f"{len(numbers)} expired" + (f": {', '.join(numbers)}" if numbers else ""))


@click.group("certs")
def certs() -> None:
    """Certificate chores for cron."""


@certs.command("check")
@click.option("--days", type=click.IntRange(min=0), default=None,
              help="Warning window in days (default: CERT_EXPIRY_WARNING_DAYS).")
@click.option("--email", "email", default=None, help="Also mail the list to this address.")
@click.option("--mail-cooperative", is_flag=True, help="Also mail the list to COOPERATIVE_EMAIL.")
def certs_check(days: int | None, email: str | None, mail_cooperative: bool) -> None:
    """List certificates expiring soon and products that cannot be sold; optionally mail the list."""
    from flask import current_app

    from shop.certification.alerts import send_alerts
    from shop.certification.service import alerts as find_alerts

    window = current_app.config["CERT_EXPIRY_WARNING_DAYS"] if days is None else days
    found = find_alerts(window)
    click.echo(f"Expiring within {window} days: {len(found.expiring)}")
    for cert in found.expiring:
        expires = cert.expires_on.isoformat() if cert.expires_on else "-"
        click.echo(f"  {expires}  {cert.product.slug}  {cert.cert_type.value} {cert.number}")
    click.echo(f"Not sellable: {len(found.unsellable)}")
    for product, states in found.unsellable:
        reasons = ", ".join(f"{s.requirement} {s.status.value}" for s in states)
        click.echo(f"  {product.slug}  ({reasons})")
    recipient = email or (current_app.config["COOPERATIVE_EMAIL"] if mail_cooperative else None)
    if recipient:
        if not send_alerts(found, recipient, window, daily=bool(mail_cooperative and not email)):
            raise click.ClickException(f"mail to {recipient} could not be sent (see the log)")
        click.echo(f"mailed to {recipient}")


@click.group("ledger")
def ledger() -> None:
    """The revenue-split ledger: backfill, invariants, exports."""


@ledger.command("book-missing")
def ledger_book_missing() -> None:
    """Book every order paid before the ledger existed (safe to repeat: booked orders are skipped)."""
    from shop.ledger import service

    pending = service.unbooked_orders()
    written = 0
    with click.progressbar(pending, label=f"Booking {len(pending)} orders", show_pos=True) as bar:
        for order_id in bar:
            written += service.book_missing_order(order_id)
            db.session.commit()  # one order at a time: an interrupted run resumes where it stopped
    click.echo(f"{len(pending)} orders booked, {written} entries.")


@ledger.command("allocate")
@click.option("--order", "number", required=True, help="the order's number, e.g. KB-2026-000123")
def ledger_allocate(number: str) -> None:
    """Share an order's unallocated money (paid while no split rule was in force) under the rule in force now."""
    from shop.ledger import service
    from shop.orders.service import order_by_number

    if number.strip().upper().startswith("PJ-"):  # a direct sale's number (its receipt's)
        try:
            entries = service.allocate_direct_sale(number.strip().upper(), actor=None)
        except service.RuleError as error:
            raise click.ClickException({"unknown": f"no direct sale {number}",
                                        "nothing": f"{number} has no unallocated money",
                                        "no_rule": "no split rule is in force for its lines: add one first"}
                                       .get(str(error), str(error))) from None
        db.session.commit()
        click.echo(f"{number.strip().upper()}: {len(entries)} entries booked as adjustments.")
        return
    order = order_by_number(number.strip().upper())
    if order is None:
        raise click.ClickException(f"no order {number}")
    try:
        entries = service.allocate_order(order, actor=None)
    except service.RuleError as error:
        raise click.ClickException({"nothing": f"{order.number} has no unallocated money",
                                    "no_rule": "no split rule is in force for its lines: add one first"}
                                   .get(str(error), str(error))) from None
    db.session.commit()
    click.echo(f"{order.number}: {len(entries)} entries booked as adjustments.")


@ledger.command("verify")
def ledger_verify() -> None:
    """Check every invariant of the ledger; exits with 1 naming each order that breaks one."""
    from shop.ledger.queries import verify

    breaches = verify()
    for breach in breaches:
        click.echo(f"{breach.order_number}: {breach.problem}", err=True)
    if breaches:
        raise SystemExit(1)
    click.echo("ledger ok: every set balances, every paid order is booked once, nothing reversed twice")


@ledger.command("export")
@click.option("--month", required=True, help="Accounting month, YYYY-MM.")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True)
@click.option("--output", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path))
def ledger_export(month: str, fmt: str, output: Path) -> None:
    """Write one month's ledger entries as the ledger browser's export does (in Indonesian), with a total per
    part."""
    import re

    from flask_babel import force_locale

    from shop.finance import reports
    from shop.ledger.queries import LedgerFilter

    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise click.BadParameter("use YYYY-MM, like 2026-11", param_hint="--month")
    if not output.parent.is_dir():
        raise click.BadParameter(f"the folder {output.parent} does not exist", param_hint="--output")
    with force_locale("id"):
        table = reports.ledger_table(LedgerFilter(month=month))
        output.write_bytes(table.render(fmt))
    click.echo(f"{len(table.rows)} entries written to {output}")


@click.group("pnbp")
def pnbp() -> None:
    """PNBP: the yearly summary of sales and their parts per facility and month."""


@pnbp.command("report")
@click.option("--year", required=True, type=click.IntRange(2000, 2100))
@click.option("--facility", "slug", help="One facility's slug (default: every facility).")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="xlsx", show_default=True)
@click.option("--output", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path))
def pnbp_report(year: int, slug: str | None, fmt: str, output: Path) -> None:
    """Write the summary the finance desk shows (sales, PNBP, premi, production capital, cooperative per
    facility and month), with Indonesian headers and a totals row."""
    from sqlalchemy import select

    from shop.catalog.models import Facility
    from shop.finance import reports

    facility_id = None
    if slug:
        facility_id = db.session.scalar(select(Facility.id).where(Facility.slug == slug))
        if facility_id is None:
            raise click.BadParameter(f"no facility with the slug {slug!r}", param_hint="--facility")
    table = reports.summary_table(reports.summary(year, facility_id))
    output.write_bytes(table.render(fmt))
    click.echo(f"{len(table.rows)} facility-months of {year} written to {output}")


@pnbp.command("statement")
@click.option("--facility", "slug", required=True, help="The facility's slug.")
@click.option("--month", required=True, help="The accounting month, YYYY-MM.")
@click.option("--format", "fmt", type=click.Choice(["pdf", "xlsx"]), default="pdf", show_default=True)
@click.option("--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
def pnbp_statement(slug: str, month: str, fmt: str, output: Path) -> None:
    """Write a facility's monthly PNBP statement for its head (PP 29/2009): opening balance, PNBP received,
    deposited with the NTPN list, late deposits, amounts to ask back, closing balance, room to sign. Exit 1 for an
    unknown facility or a month that has not ended."""
    import re

    from shop.catalog.models import Facility
    from shop.finance import cashbook, paperwork
    from shop.timeutil import local_today

    facility = db.session.scalar(select(Facility).where(Facility.slug == slug))
    if facility is None:
        click.echo(f"no facility with the slug {slug!r}", err=True)
        raise SystemExit(1)
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        click.echo(f"--month: a month as YYYY-MM, not {month!r}", err=True)
        raise SystemExit(1)
    if month >= f"{local_today(facility.timezone):%Y-%m}":
        click.echo(f"{month} has not ended at {facility.name}: its statement is written after the month", err=True)
        raise SystemExit(1)
    if not output.parent.is_dir():
        click.echo(f"no folder {str(output.parent)!r} to write {output.name!r} in", err=True)
        raise SystemExit(1)
    report = cashbook.statement(facility, month)
    output.write_bytes(paperwork.statement_pdf(report) if fmt == "pdf" else paperwork.statement_table(report).xlsx())
    state = "closed" if report.final else "NOT closed yet: a draft"
    click.echo(f"statement of {facility.slug} {month} ({state}) written to {output}")


@click.group("mail")
def mail_group() -> None:
    """The mail outbox."""


@mail_group.command("deliver")
@click.option("--loop", "every", type=click.IntRange(5, 3600), default=None,
              help="Keep delivering, every this many seconds (a worker for MAIL_DELIVERY=worker).")
def mail_deliver(every: int | None) -> None:
    """Send every mail that is due (new, or due for a retry); run it from cron every minute or as a worker."""
    import time

    from shop.outbox.service import deliver_due

    while True:
        counts = deliver_due(limit=200)
        click.echo(", ".join(f"{count} {name}" for name, count in counts.items()))
        if every is None:
            return
        db.session.remove()
        time.sleep(every)


@click.group("jobs")
def jobs_group() -> None:
    """Background jobs on RQ (needs JOB_QUEUE_URL): the worker and the schedule."""


def _queue_configured() -> None:
    from shop import jobs

    if not jobs.is_configured():
        raise click.ClickException("JOB_QUEUE_URL is not set (e.g. redis://127.0.0.1:6379/1)")


@jobs_group.command("worker")
@click.option("--burst", is_flag=True, help="Run the jobs waiting now, then stop.")
def jobs_worker(burst: bool) -> None:
    """Run queued jobs (mail after each request with MAIL_DELIVERY=queue, and the scheduled chores)."""
    from shop import jobs

    _queue_configured()
    jobs.worker(burst=burst)


@jobs_group.command("cron")
def jobs_cron() -> None:
    """Queue the chores on their schedule: mail due for a retry every minute, unpaid orders past their deadline
    every five minutes, the certificate list for the cooperative daily at 06:00. Run exactly one."""
    from shop import jobs

    _queue_configured()
    for name, when in jobs.SCHEDULE:
        click.echo(f"{name}: " + (f"every {when['interval']} s" if "interval" in when else f"cron {when['cron']}"))
    jobs.scheduler().start()


@click.group("db-roles")
def db_roles() -> None:
    """PostgreSQL roles: the app's own role with least privilege (README: "Two roles on PostgreSQL")."""


@db_roles.command("grant")
@click.argument("role")
@click.option("--print-only", is_flag=True, help="Print the statements instead of running them.")
def db_roles_grant(role: str, print_only: bool) -> None:
    """Give ROLE (which must exist) what the shop needs and no more: no UPDATE or DELETE on the ledger, PNBP deposits
    and the audit log. Run as the owner of the tables, after every `flask db upgrade`."""
    from sqlalchemy import text

    from shop.extensions import db
    from shop.guards import app_role_grants

    statements = app_role_grants(role)
    if print_only:
        click.echo(";\n".join(statements) + ";")
        return
    if db.engine.dialect.name != "postgresql":
        raise click.ClickException("roles exist on PostgreSQL only; SQLite has the triggers alone")
    with db.engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
    click.echo(f"{role}: granted the shop's tables, without UPDATE or DELETE on the append-only ones")


@click.group("search")
def search_group() -> None:
    """The catalogue's search index (#26)."""


@search_group.command("reindex")
def search_reindex() -> None:
    """Rewrite every product's search text: after products were written past the shop (a bulk SQL import)."""
    from shop.catalog.search import reindex
    from shop.extensions import db

    changed = reindex()
    db.session.commit()
    click.echo(f"{changed} products' search text rewritten")


@click.group("batches")
def batches_group() -> None:
    """Lots (batches) of food: deliveries from the workshops, and lots near their best-before date (#27)."""


def _day_option(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise click.ClickException(f"{name}: write the date as YYYY-MM-DD, like 2026-12-31") from error


@batches_group.command("receive")
@click.argument("product_slug")
@click.option("--lot", "code", required=True, help="The lot code as printed on the label.")
@click.option("--produced", default=None, help="Production date, YYYY-MM-DD.")
@click.option("--best-before", "best_before", default=None, help="Best-before date, YYYY-MM-DD.")
@click.option("--quantity", required=True, help="Units received, a positive whole number.")
def batches_receive(product_slug: str, code: str, produced: str | None, best_before: str | None,
                    quantity: str) -> None:
    """Receive a delivery from the workshop as a lot: nothing is written unless every part is right."""
    from sqlalchemy import select

    from shop.catalog.models import Product
    from shop.catalog.stock import LotInvalid, receive_lot
    from shop.extensions import db

    product = db.session.scalar(select(Product).where(Product.slug == product_slug))
    if product is None:
        raise click.ClickException(f"no product {product_slug!r} (give its slug, as in its address)")
    if not quantity.isascii() or not quantity.isdigit():
        raise click.ClickException("--quantity: a positive whole number, like 40")
    try:
        lot = receive_lot(product, code, _day_option(produced, "--produced"),
                          _day_option(best_before, "--best-before"), int(quantity), actor=None)
    except LotInvalid as invalid:
        db.session.rollback()
        raise click.ClickException("; ".join(str(message) for message in invalid.errors.values())) from invalid
    db.session.commit()
    click.echo(f"{product.slug}: lot {lot.code} received, {lot.received_qty} units; stock now {product.stock}")


@batches_group.command("recall")
@click.argument("code")
@click.option("--product", "product_slug", default=None, help="The product's slug, when several have this lot code.")
@click.option("--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The CSV file to write.")
def batches_recall(code: str, product_slug: str | None, output: Path) -> None:
    """Write the orders that received or hold units of lot CODE (order, buyer's name, email and phone, units,
    dates) to a CSV file, for phoning round; the recall itself starts on the stock screen. Exit 1: no such lot."""
    from shop.catalog.models import Lot, Product
    from shop.fulfilment.recalls import export

    query = select(Lot).join(Product).where(Lot.code == code.strip().upper())
    if product_slug:
        query = query.where(Product.slug == product_slug)
    found = list(db.session.scalars(query))
    if not found:
        click.echo(f"no lot {code!r}" + (f" of {product_slug!r}" if product_slug else ""), err=True)
        raise SystemExit(1)
    if len(found) > 1:
        slugs = ", ".join(lot.product.slug for lot in found)
        raise click.ClickException(f"lot {code!r} belongs to several products ({slugs}): name one with --product")
    if not output.parent.is_dir():
        raise click.ClickException(f"no folder {str(output.parent)!r} to write {output.name!r} in")
    table = export(found[0])
    output.write_bytes(table.csv())
    click.echo(f"{len(table.rows)} orders of lot {found[0].code} ({found[0].product.slug}) written to {output}")


@batches_group.command("set-aside")
def batches_set_aside() -> None:
    """Take lots near their best-before date off sale (MIN_SHELF_LIFE_DAYS); `jobs cron` runs it daily."""
    from shop.catalog.stock import set_aside_due_lots

    click.echo(f"{set_aside_due_lots()} lots set aside")


@click.group("sales")
def sales_group() -> None:
    """Direct sales at exhibitions and galleries (#28)."""


@sales_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--point", "point_name", required=True, help="The point of sale; a new name creates an exhibition.")
def sales_import(file: Path, point_name: str) -> None:
    """Import sales written on paper or in a spreadsheet (CSV or XLSX: tanggal, produk, jumlah, harga_satuan,
    pembayaran). All or nothing: exit 1 with every bad row listed, nothing imported; a file imported before is
    refused."""
    from shop.sales.imports import ImportRefused, import_sales
    from shop.sales.service import SaleTaken

    try:
        done = import_sales(file.read_bytes(), file.name, point_name, actor=None)
        db.session.commit()
    except (ImportRefused, SaleTaken) as refused:
        db.session.rollback()
        problems = refused.problems if isinstance(refused, ImportRefused) else []
        for bad in problems:
            click.echo((f"row {bad.row}: " if bad.row else "") + bad.problem, err=True)
        if not problems:
            click.echo("another sale was recorded at the same moment: import the file again", err=True)
        click.echo("nothing was imported", err=True)
        raise SystemExit(1) from refused
    click.echo(f"{done.sales} sales imported at {done.point.name}: Rp{done.total:,}".replace(",", "."))


def register(app: Flask) -> None:
    app.cli.add_command(seed_demo)
    app.cli.add_command(users)
    app.cli.add_command(orders)
    app.cli.add_command(certs)
    app.cli.add_command(ledger)
    app.cli.add_command(pnbp)
    app.cli.add_command(mail_group)
    app.cli.add_command(jobs_group)
    app.cli.add_command(db_roles)
    app.cli.add_command(search_group)
    app.cli.add_command(batches_group)
    app.cli.add_command(sales_group)
