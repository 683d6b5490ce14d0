"""Throwaway PostgreSQL stores for tests and benchmarks: each in its own schema, dropped on close.

Every test gets a fresh schema in the database named by
AGENTLOG_TEST_POSTGRES_URL (never a database shared across tests), so tests
stay independent and can run side by side.
"""

from __future__ import annotations

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
    """A `PostgresStore` in a new schema that `close()` drops."""
    from agentlog.storage.postgres.store import PostgresStore

    class TemporaryPostgresStore(PostgresStore):
        def close(self) -> None:
            owner = self._owner and not self._pool.closed
            super().close()
            if owner:
                # Dropped beside the next test (about 80 ms each); a non-daemon thread,
                # so the interpreter waits for it before exiting.
                threading.Thread(target=drop_schema, args=(self._target.schema or "",)).start()

    url, schema = new_schema_url()
    try:
        return TemporaryPostgresStore(url, pool_size=pool_size)
    except BaseException:
        drop_schema(schema)
        raise


__all__ = ["ENV", "base_url", "drop_schema", "new_schema_url", "temporary_store", "with_schema"]
