"""#21.22: on PostgreSQL the shop can run as a role of least privilege. `flask --app shop db-roles grant ROLE`
(run by the tables' owner after each upgrade) lets it read and write the shop's tables but not change or delete
what is append-only, truncate a table, or drop the triggers that guard them."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from shop.extensions import db
from shop.guards import GUARDED, app_role_grants
from tests.conftest import is_postgres, owner_engine


def test_the_grants_revoke_changes_of_every_append_only_table():
    statements = "\n".join(app_role_grants("kb_app"))
    for table in GUARDED:
        assert f'ON public."{table}" FROM "kb_app"' in statements
    assert 'REVOKE UPDATE ON public."period_close"' in statements  # a closed month may still be reopened (deleted)
    assert 'REVOKE UPDATE, DELETE ON public."ledger_entry"' in statements


@pytest.mark.skipif(not is_postgres(), reason="runs in the PostgreSQL pass of scripts/test (roles are PostgreSQL's)")
def test_the_apps_own_role_writes_orders_but_cannot_edit_the_books_or_drop_their_guards(app):
    role = f"kb_app_{uuid.uuid4().hex[:8]}"
    owner = owner_engine()  # the suite itself runs as a granted app role under scripts/test; roles are the owner's
    with owner.begin() as connection:
        connection.execute(text(f'CREATE ROLE "{role}" LOGIN'))
    try:
        printed = app.test_cli_runner().invoke(args=["db-roles", "grant", role, "--print-only"])
        assert printed.exit_code == 0, printed.output
        with owner.begin() as connection:  # what `db-roles grant` runs when the shop's URL is the owner's
            for statement in printed.output.strip().splitlines():
                connection.execute(text(statement))
        as_app = create_engine(make_url(str(owner.url)).set(username=role, password=None))
        try:
            with as_app.begin() as connection:  # what the shop does: read and append
                connection.execute(text("SELECT count(*) FROM ledger_entry"))
                connection.execute(text("INSERT INTO audit_entry (at, actor_email, action, target_type, target_id, "
                                        "note) VALUES (now(), 'a@b.id', 'x', 'Order', '1', '')"))
                connection.execute(text("DELETE FROM period_close WHERE false"))  # reopening a month
            for refused in ("UPDATE audit_entry SET note = 'rewritten'", "DELETE FROM ledger_entry",
                            "UPDATE pnbp_deposit SET amount = 0", 'TRUNCATE "order"',
                            "DROP TRIGGER ledger_entry_append_only ON ledger_entry"):
                with pytest.raises(DBAPIError, match="permission denied|must be owner"), as_app.begin() as connection:
                    connection.execute(text(refused))
        finally:
            as_app.dispose()
    finally:
        with owner.begin() as connection:
            connection.execute(text(f'DROP OWNED BY "{role}"'))
            connection.execute(text(f'DROP ROLE "{role}"'))


@pytest.mark.skipif(not is_postgres(), reason="runs in the PostgreSQL pass of scripts/test (roles are PostgreSQL's)")
def test_the_postgresql_pass_runs_the_shop_as_its_own_role_of_least_privilege():
    """scripts/test makes TEST_APP_ROLE and the suite's shop connects as it, granted as in production (#21.22):
    every test that passes here passed without the right to edit the books."""
    role = os.environ.get("TEST_APP_ROLE")
    if not role:
        assert os.environ.get("CI") != "true", "CI's PostgreSQL pass must run as the app role (scripts/test)"
        pytest.skip("TEST_APP_ROLE is unset: this run connects as the tables' owner")
    assert db.session.scalar(text("SELECT current_user")) == role
    db.session.rollback()
    with pytest.raises(DBAPIError, match="permission denied"), db.engine.begin() as connection:
        connection.execute(text("UPDATE ledger_entry SET amount = amount"))
