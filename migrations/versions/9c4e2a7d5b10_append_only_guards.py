"""append-only guards in the database: PNBP deposits, their months and the audit log refuse UPDATE, DELETE and
TRUNCATE; a closed month refuses UPDATE; the ledger refuses TRUNCATE as well (PostgreSQL)

Revision ID: 9c4e2a7d5b10
Revises: 3b1f0917abdf
Create Date: 2026-12-03 09:20:00

The DDL is written out here as shop/guards.py made it on that day, so that this migration never changes.
"""
from alembic import op


revision = '9c4e2a7d5b10'
down_revision = '3b1f0917abdf'
branch_labels = None
depends_on = None

DEPOSITS = "PNBP deposits are never edited: correct one with a reversing deposit"
TABLES = {  # table → (message, whole rows may be deleted)
    "pnbp_deposit": (DEPOSITS, False),
    "pnbp_deposit_month": (DEPOSITS, False),
    "audit_entry": ("audit entries are never changed or deleted", False),
    "period_close": ("a closed month is never edited: reopen it (an admin, with a reason)", True),
}


def _ddl(dialect, table, message, deletable):
    function = f"{table}_append_only"
    if dialect == "postgresql":
        changes = "UPDATE" if deletable else "UPDATE OR DELETE"
        return [
            f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$\nBEGIN\n"
            f"  RAISE EXCEPTION '{message}';\nEND $$ LANGUAGE plpgsql",
            f"CREATE TRIGGER {function} BEFORE {changes} ON {table}\nFOR EACH ROW EXECUTE FUNCTION {function}()",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}\n"
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        ]
    statements = [f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}\n"
                  f"BEGIN SELECT RAISE(ABORT, '{message}'); END"]
    if not deletable:
        statements.append(f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}\n"
                          f"BEGIN SELECT RAISE(ABORT, '{message}'); END")
    return statements


def upgrade():
    dialect = op.get_bind().dialect.name
    for table, (message, deletable) in TABLES.items():
        for statement in _ddl(dialect, table, message, deletable):
            op.execute(statement)
    if dialect == "postgresql":
        op.execute("CREATE TRIGGER ledger_entry_no_truncate BEFORE TRUNCATE ON ledger_entry\n"
                   "FOR EACH STATEMENT EXECUTE FUNCTION ledger_entry_append_only()")


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ledger_entry_no_truncate ON ledger_entry")
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {table}_append_only()")
    else:
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
