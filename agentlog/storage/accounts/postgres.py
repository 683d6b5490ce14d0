"""`PostgresAccounts`: users, teams, API keys, audit log and API usage of `agentlog serve` on PostgreSQL.

The `AccountStore` protocol of `accounts.py` over the same database (and
`agentlog_schema`) as the `PostgresStore` it sits beside, with its own
migration set ("agentlog_accounts") in the shared migrations table. Emails
and team names are unique regardless of case, as in the SQLite tables. The
queries live in `SQLAccounts` (`accounts/sql.py`), shared with SQLite; this
module adds the pool and the PostgreSQL spellings.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row

from agentlog.errors import Conflict
from agentlog.storage.accounts.sql import SQLAccounts, Statement
from agentlog.storage.postgres.conn import connect, open_pool, parse_url, translated
from agentlog.storage.postgres.migrations import Migration, _statements, apply

ACCOUNTS_SET = "agentlog_accounts"

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        "m001_accounts",
        _statements(
            "CREATE TABLE teams (id text PRIMARY KEY, name text NOT NULL,"
            " created_at bigint NOT NULL)",
            "CREATE UNIQUE INDEX teams_name ON teams (lower(name))",
            "CREATE TABLE users (id text PRIMARY KEY, email text NOT NULL, password_hash text,"
            " role text NOT NULL, team_id text NOT NULL REFERENCES teams(id),"
            " disabled boolean NOT NULL DEFAULT false, created_at bigint NOT NULL)",
            "CREATE UNIQUE INDEX users_email ON users (lower(email))",
            "CREATE TABLE api_keys (id text PRIMARY KEY, user_id text NOT NULL REFERENCES users(id),"
            " team_id text NOT NULL REFERENCES teams(id), label text NOT NULL,"
            " prefix text NOT NULL UNIQUE, key_hash text NOT NULL, created_at bigint NOT NULL,"
            " last_used_at bigint, revoked_at bigint)",
            "CREATE INDEX api_keys_team ON api_keys (team_id)",
            'CREATE TABLE audit_log (id text COLLATE "C" PRIMARY KEY, at bigint NOT NULL,'
            " action text NOT NULL, actor_user_id text, actor_key_id text, team_id text,"
            " target text, details jsonb NOT NULL DEFAULT '{}')",
            "CREATE INDEX audit_log_team_at ON audit_log (team_id, at)",
            "CREATE TABLE api_usage (team_id text NOT NULL, day text NOT NULL,"
            " endpoint text NOT NULL, requests bigint NOT NULL DEFAULT 0,"
            " errors bigint NOT NULL DEFAULT 0, PRIMARY KEY (team_id, day, endpoint))",
        ),
    ),
    Migration(
        "m002_token_revocation",
        _statements(
            "ALTER TABLE users ADD COLUMN token_version integer NOT NULL DEFAULT 0",
            "CREATE TABLE refresh_tokens (jti text PRIMARY KEY,"
            " user_id text NOT NULL REFERENCES users(id), family text NOT NULL,"
            " created_at bigint NOT NULL, expires_at bigint NOT NULL, used_at bigint,"
            " replaced_by text, revoked_at bigint)",
            "CREATE INDEX refresh_tokens_family ON refresh_tokens (family)",
            "CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id)",
            "CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at)",
        ),
    ),
    Migration(
        "m003_team_retention",
        # Days a team keeps its sessions after their last activity (NULL: for ever).
        _statements("ALTER TABLE teams ADD COLUMN retention_days integer"),
    ),
)


class PostgresAccounts(SQLAccounts):
    """`AccountStore` in the server's PostgreSQL database (a small connection pool)."""

    _JSON_PARAM = "?::jsonb"
    _AUDIT_COLUMNS = (
        "id, at, action, actor_user_id, actor_key_id, team_id, target, details::text AS details"
    )
    _DETAILS_TEXT = "details::text"

    @staticmethod
    def _ci(expr: str) -> str:
        return f"lower({expr})"

    @staticmethod
    def _sum(column: str) -> str:
        return f"sum({column})::bigint"  # sum(bigint) is numeric; callers expect int

    def __init__(self, url: str, *, pool_size: int = 4) -> None:
        self.url = url
        self._target = parse_url(url)
        self._display = self._target.display
        with connect(self._target) as conn, translated(self._display):
            apply(
                conn,
                schema=self._target.schema,
                display=self._display,
                migration_set=ACCOUNTS_SET,
                migrations=MIGRATIONS,
                marker_table="teams",
            )
        self._pool = open_pool(self._target, max_size=pool_size)

    # -- plumbing
    @contextmanager
    def _conn(self) -> Iterator[psycopg.Connection]:
        with translated(self._display), self._pool.connection() as conn:
            yield conn

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self._conn() as conn, conn.cursor(row_factory=dict_row) as cur:
            return cur.execute(_pg(sql), params).fetchall()

    def _write(self, statements: Sequence[Statement]) -> None:
        with translated(self._display):
            try:
                with self._pool.connection() as conn, conn.transaction():
                    for sql, params in statements:
                        conn.execute(_pg(sql), params)
            except psycopg.errors.UniqueViolation as exc:
                raise Conflict(f"already exists: {str(exc).splitlines()[0]}") from None

    def close(self) -> None:
        if not self._pool.closed:
            self._pool.close()


def _pg(sql: str) -> str:
    """A shared query (`?` placeholders) in psycopg's `%s` style."""
    return sql.replace("?", "%s")


__all__ = ["ACCOUNTS_SET", "PostgresAccounts"]
