"""Tables whose rows are never edited, guarded by the database itself on both engines, whoever runs the SQL:
the ledger, PNBP deposits and their months, and the audit log refuse UPDATE, DELETE and (PostgreSQL) TRUNCATE;
a closed month (period_close) refuses UPDATE but may be deleted by its reopening. The triggers come with the
tables (create_all, the tests) and by migration; `GUARDED` lists them for whoever must lift them (the test
suite's cleanup)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import DDL, event

GUARDED: dict[str, dict[str, list[str]]] = {}  # table name → dialect → its trigger DDL
DELETABLE: set[str] = set()  # guarded tables whose whole rows may still be deleted (a closed month, by reopening)


def append_only_ddl(table: str, message: str, *, deletable: bool = False) -> dict[str, list[str]]:
    """The triggers that keep `table`'s rows as written; `deletable`: a whole row may still go."""
    function = f"{table}_append_only"
    changes = "UPDATE" if deletable else "UPDATE OR DELETE"
    sqlite = [f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}\n"
              f"BEGIN SELECT RAISE(ABORT, '{message}'); END"]
    if not deletable:
        sqlite.append(f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}\n"
                      f"BEGIN SELECT RAISE(ABORT, '{message}'); END")
    return {
        "postgresql": [
            f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$\nBEGIN\n"
            f"  RAISE EXCEPTION '{message}';\nEND $$ LANGUAGE plpgsql",
            f"CREATE TRIGGER {function} BEFORE {changes} ON {table}\nFOR EACH ROW EXECUTE FUNCTION {function}()",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}\n"
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        ],
        "sqlite": sqlite,
    }


def guard(table: Any, message: str, *, deletable: bool = False) -> dict[str, list[str]]:
    """Create `table`'s guard with the table (a model's `__table__`); returns its DDL."""
    ddl = append_only_ddl(table.name, message, deletable=deletable)
    GUARDED[table.name] = ddl
    if deletable:
        DELETABLE.add(table.name)
    for dialect, statements in ddl.items():
        for statement in statements:
            event.listen(table, "after_create", DDL(statement).execute_if(dialect=dialect))
    return ddl


def app_role_grants(role: str, schema: str = "public") -> list[str]:
    """PostgreSQL statements that give the application's own role what the shop needs and no more: it reads and
    writes every table, but cannot change or delete what is append-only (nor TRUNCATE anything, nor drop or alter a
    table or trigger: the tables belong to the owner that runs the migrations). Run them as that owner after each
    `flask db upgrade` (`flask --app shop db-roles grant ROLE`)."""
    quoted = '"' + role.replace('"', '""') + '"'
    statements = [f"GRANT USAGE ON SCHEMA {schema} TO {quoted}",
                  f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {quoted}",
                  f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {schema} TO {quoted}"]
    for table in sorted(GUARDED):
        taken = "UPDATE" if table in DELETABLE else "UPDATE, DELETE"
        statements.append(f'REVOKE {taken} ON {schema}."{table}" FROM {quoted}')
    return statements
