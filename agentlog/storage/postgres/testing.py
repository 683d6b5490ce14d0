"""Throwaway PostgreSQL stores for tests and benchmarks: each in its own schema, emptied on close.

Every test gets a schema of its own in the database named by
AGENTLOG_TEST_POSTGRES_URL (never a database shared across tests), so tests
stay independent and can run side by side. Migrating a new schema takes most
of a second, so a closed store's schema is emptied (TRUNCATE) and handed to
the next store of the same process; what is left over is dropped at exit.
"""

from __future__ import annotations

import atexit
import os
import threading
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from agentlog.errors import UsageError

if TYPE_CHECKING:
    from agentlog.storage.postgres.store import PostgresStore

ENV = "AGENTLOG_TEST_POSTGRES_URL"


def base_url() -> str:
    url = os.environ.get(ENV)
    if not url:
        raise UsageError(
            f"set {ENV} to a PostgreSQL URL, e.g. postgresql://postgres@127.0.0.1:5432/test"
        )
    return url


def with_schema(url: str, schema: str) -> str:
    """`url` with `agentlog_schema=schema` added to its query."""
    parts = urlsplit(url)
    query = (
        f"{parts.query}&agentlog_schema={schema}" if parts.query else f"agentlog_schema={schema}"
    )
    return urlunsplit(parts._replace(query=query))


def new_schema_url(prefix: str = "t") -> tuple[str, str]:
    """A URL for a schema name nobody uses yet, and that name."""
    schema = f"agentlog_{prefix}_{uuid.uuid4().hex[:16]}"
    return with_schema(base_url(), schema), schema


def drop_schema(schema: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(base_url(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def connect_to_schema(schema: str) -> Any:
    """An autocommit psycopg connection to the test database with `schema` first on its path
    (for a test reading or preparing a store's tables behind its back)."""
    import psycopg

    conn = psycopg.connect(base_url(), autocommit=True)
    conn.execute(f"SET search_path = {schema}")
    return conn


def temporary_store(pool_size: int = 4) -> PostgresStore:
    """A `PostgresStore` in a schema of its own, emptied or dropped when it closes."""
    from agentlog.storage.postgres.store import PostgresStore

    class TemporaryPostgresStore(PostgresStore):
        _partitions: frozenset[str] = frozenset()  # as opened: see _recycle

        def close(self) -> None:
            owner = self._owner and not self._pool.closed
            super().close()
            if owner:
                # Emptied now (tens of ms), so the very next store finds it.
                _recycle(self._target.schema or "", self._partitions)

    with _spare_lock:
        spare = _spare.pop() if _spare else None
    if spare is not None:
        schema, partitions = spare
        url = with_schema(base_url(), schema)
    else:
        url, schema = new_schema_url()
        partitions = None
    try:
        store = TemporaryPostgresStore(url, pool_size=pool_size)
        if partitions is None:
            with connect_to_schema(schema) as conn:
                partitions = frozenset(_tables(conn, schema, partitions=True))
        store._partitions = partitions
        return store
    except BaseException:
        drop_schema(schema)
        raise


# Schemas at the latest migration, emptied, waiting for the next temporary store,
# with the partitions they hold.
_spare: list[tuple[str, frozenset[str]]] = []
_spare_lock = threading.Lock()
_SPARES_KEPT = 4


def _tables(conn: Any, schema: str, *, partitions: bool) -> list[str]:
    """The tables in `schema`: its partitions (months a store made), or the others."""
    return [
        name
        for (name,) in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND c.relispartition = %s",
            (schema, partitions),
        )
    ]


def _recycle(schema: str, partitions: frozenset[str]) -> None:
    """Empty a closed temporary store's schema for the next one, or drop it.

    The months' partitions the store made for what it was sent are dropped; a
    schema missing one it opened with (retention dropped it) is dropped whole.
    """
    from psycopg import sql

    from agentlog.storage.postgres.migrations import MIGRATIONS_TABLE

    try:
        with connect_to_schema(schema) as conn:
            now = frozenset(_tables(conn, schema, partitions=True))
            if not partitions <= now:
                raise LookupError(schema)
            for name in sorted(now - partitions):
                conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(schema, name)))
            tables = [t for t in _tables(conn, schema, partitions=False) if t != MIGRATIONS_TABLE]
            if tables:
                conn.execute(
                    sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
                        sql.SQL(", ").join(sql.Identifier(schema, name) for name in tables)
                    )
                )
    except Exception:
        drop_schema(schema)
        return
    with _spare_lock:
        if len(_spare) < _SPARES_KEPT:
            _spare.append((schema, partitions))
            return
    drop_schema(schema)


@atexit.register
def _drop_spares() -> None:
    with _spare_lock:
        left = list(_spare)
        _spare.clear()
    for schema, _ in left:
        try:
            drop_schema(schema)
        except Exception:
            pass


__all__ = ["ENV", "base_url", "drop_schema", "new_schema_url", "temporary_store", "with_schema"]
