"""Which migrations a server database still lacks, without applying them (`serve --no-migrate`, `db upgrade`)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from agentlog.errors import UsageError


def is_postgres(db: str) -> bool:
    return db.startswith(("postgresql://", "postgres://"))


def pending_migrations(db: str) -> list[str]:
    """`set:name` of every migration not yet applied to `db` (events and accounts); reads only."""
    if db.startswith(("http://", "https://")):
        raise UsageError("give a database (SQLite path or postgresql:// URL), not a server URL")
    if is_postgres(db):
        return _pending_postgres(db)
    return _pending_sqlite(Path(db).expanduser())


def _pending_postgres(db: str) -> list[str]:
    from agentlog.storage.accounts import postgres as postgres_accounts
    from agentlog.storage.postgres import migrations as postgres_schema
    from agentlog.storage.postgres.conn import connect, parse_url, translated

    target = parse_url(db)
    sets = (
        (postgres_schema.EVENTS_SET, postgres_schema.MIGRATIONS),
        (postgres_accounts.ACCOUNTS_SET, postgres_accounts.MIGRATIONS),
    )
    with connect(target) as conn, translated(target.display):
        out: list[str] = []
        missing = (
            target.schema
            and not conn.execute(
                "SELECT 1 FROM pg_namespace WHERE nspname = %s", (target.schema,)
            ).fetchone()
        )
        for name, migrations in sets:
            # A schema not made yet has nothing applied (and search_path would fall
            # through to public's tables).
            done = set() if missing else set(postgres_schema.applied(conn, name))
            out.extend(f"{name}:{m.name}" for m in migrations if m.name not in done)
        return out


def _pending_sqlite(path: Path) -> list[str]:
    import sqlite_utils

    from agentlog.storage.accounts import sqlite as accounts_sqlite
    from agentlog.storage.sqlite import migrations as sqlite_schema

    sets = (
        (sqlite_schema.MIGRATION_SET, sqlite_schema.migration_set()),
        ("agentlog_accounts", accounts_sqlite.migrations),
    )
    if path.exists():
        # Read-only: looking never creates the file or stamps it.
        db = sqlite_utils.Database(sqlite3.connect(f"file:{path}?mode=ro", uri=True))
    else:
        db = sqlite_utils.Database(memory=True)
    try:
        return [f"{name}:{m.name}" for name, reg in sets for m in reg.pending(db)]
    finally:
        db.close()


def upgrade(db: str) -> list[str]:
    """Apply every pending migration (the stores do it on open); return what was pending."""
    from agentlog.server.service import open_backends

    pending = pending_migrations(db)
    store, accounts = open_backends(db)
    accounts.close()
    store.close()
    return pending
