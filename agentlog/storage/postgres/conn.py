"""PostgreSQL connections for one store URL: URL parsing, the schema, a thread-safe pool, one-line faults.

The URL is an ordinary libpq URL, plus one optional query parameter of ours:
`agentlog_schema=NAME` keeps AgentLog's tables in that PostgreSQL schema
(created on first open), e.g.
`postgresql://postgres@127.0.0.1:5432/test?agentlog_schema=team_a`. It is
taken off the URL and becomes `search_path` of every pooled connection (the
`options` connection parameter). Without it the tables live in the server's
default search path (usually `public`).

The Store protocol is synchronous and is called from many threads at once
(FastAPI's thread pool), so every call borrows a connection from one
`psycopg_pool.ConnectionPool` for one transaction. Every psycopg failure
becomes a `StoreError` whose one line names the URL without its password.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from agentlog.errors import AgentLogError, StoreError, UsageError

SCHEMA_PARAM = "agentlog_schema"
DEFAULT_POOL_MAX = 10
CONNECT_TIMEOUT_S = 5
_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


@dataclass(frozen=True, slots=True)
class Target:
    """Where a store lives: the libpq URL to connect to, its schema, and a printable name."""

    conninfo: str
    schema: str | None
    display: str


def parse_url(url: str) -> Target:
    """Split `agentlog_schema` off `url`; the display form drops the password."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = None
    kept: list[tuple[str, str]] = []
    for key, value in query:
        if key == SCHEMA_PARAM:
            schema = value
        else:
            kept.append((key, value))
    if schema is not None and not _SCHEMA_NAME.match(schema):
        raise UsageError(
            f"{SCHEMA_PARAM}={schema!r} is not a plain schema name; use letters, digits and _"
        )
    conninfo = urlunsplit(parts._replace(query=urlencode(kept)))
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        netloc = f"{userinfo.split(':', 1)[0]}@{host}"
    display = urlunsplit(parts._replace(netloc=netloc, query=""))
    if schema:
        display += f"?{SCHEMA_PARAM}={schema}"
    return Target(conninfo, schema, display)


def connect_kwargs(target: Target) -> dict[str, object]:
    # Autocommit: a single statement is its own transaction, and `conn.transaction()`
    # is a real BEGIN/COMMIT rather than a savepoint in an implicit transaction.
    kwargs: dict[str, object] = {"connect_timeout": CONNECT_TIMEOUT_S, "autocommit": True}
    if target.schema:
        # The schema first, then public so extensions installed there still resolve.
        kwargs["options"] = f"-csearch_path={target.schema},public"
    return kwargs


def translate(exc: psycopg.Error, display: str) -> AgentLogError:
    """The user-facing error for a psycopg failure on the store at `display`."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, psycopg.OperationalError):
        lowered = text.lower()
        if "password authentication failed" in lowered or "authentication" in lowered:
            return StoreError(
                f"PostgreSQL at {display} refused the login ({text}); check the user and "
                "password in the URL"
            )
        if "does not exist" in lowered and "database" in lowered:
            return StoreError(
                f"PostgreSQL at {display}: {text}; create it (createdb) or fix the URL"
            )
        return StoreError(
            f"cannot reach PostgreSQL at {display} ({text}); check that it is running and the "
            "URL is right"
        )
    return StoreError(f"PostgreSQL at {display} failed: {text}")


@contextlib.contextmanager
def translated(display: str) -> Iterator[None]:
    """Turn psycopg and pool errors inside the block into one-line `StoreError`s."""
    try:
        yield
    except PoolTimeout:  # first: it is a psycopg.OperationalError, but the database did answer
        raise StoreError(
            f"no PostgreSQL connection to {display} became free in time; the database is "
            "unreachable or overloaded, try again"
        ) from None
    except psycopg.Error as exc:
        raise translate(exc, display) from None


def connect(target: Target) -> psycopg.Connection:
    """One direct connection (used to migrate before the pool opens)."""
    with translated(target.display):
        return psycopg.connect(target.conninfo, **connect_kwargs(target))  # type: ignore[arg-type]


def open_pool(
    target: Target, max_size: int = DEFAULT_POOL_MAX, timeout: float = 10.0
) -> ConnectionPool:
    """A pool of connections with the store's search path, opened and checked."""
    pool = ConnectionPool(
        target.conninfo,
        min_size=1,
        max_size=max_size,
        kwargs=connect_kwargs(target),
        timeout=timeout,
        # A connection broken by a database restart is noticed (and replaced) on
        # checkout, not by failing the caller's request: one empty round trip.
        check=ConnectionPool.check_connection,
        open=False,
        name="agentlog",
    )
    pool.open(wait=False)
    return pool


def schema_lock(conn: psycopg.Connection, name: str, wait: bool) -> bool:
    """Take the transaction's advisory lock `name` of the connection's schema; False: busy.

    Keyed by schema as the tables it guards are: stores in two schemas of one
    database (one per team, or per test) never wait on, or skip for, each other.
    """
    key = "hashtext(%s || ':' || coalesce(current_schema(), ''))"
    if wait:
        conn.execute(f"SELECT pg_advisory_xact_lock({key})", (name,))
        return True
    got = conn.execute(f"SELECT pg_try_advisory_xact_lock({key})", (name,)).fetchone()
    return bool(got and got[0])


__all__ = ["Target", "connect", "open_pool", "parse_url", "schema_lock", "translate", "translated"]
