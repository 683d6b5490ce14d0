"""`AccountStore` in the server's SQLite file: users, teams, API keys, audit log and API usage.

Its own sqlite-utils migration set ("agentlog_accounts"), so it never touches
the event schema; one connection serialised by a lock (account reads are
small and cached by the server's authenticator). The queries live in
`SQLAccounts` (`accounts/sql.py`), shared with PostgreSQL.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.migrations import Migrations

from agentlog.errors import Conflict, StoreError
from agentlog.storage.accounts.sql import SQLAccounts, Statement
from agentlog.storage.private_files import create_private, tighten
from agentlog.storage.sqlite.conn import use_wal

migrations = Migrations("agentlog_accounts")
_BUSY_TIMEOUT_MS = 10_000


@migrations()
def m001_accounts(db: sqlite_utils.Database) -> None:
    db.execute(
        """CREATE TABLE teams (
            id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE,
            created_at INTEGER NOT NULL)"""
    )
    db.execute(
        """CREATE TABLE users (
            id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE COLLATE NOCASE,
            password_hash TEXT, role TEXT NOT NULL, team_id TEXT NOT NULL REFERENCES teams(id),
            disabled INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL)"""
    )
    db.execute(
        """CREATE TABLE api_keys (
            id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id),
            team_id TEXT NOT NULL REFERENCES teams(id), label TEXT NOT NULL,
            prefix TEXT NOT NULL UNIQUE, key_hash TEXT NOT NULL,
            created_at INTEGER NOT NULL, last_used_at INTEGER, revoked_at INTEGER)"""
    )
    db.execute("CREATE INDEX api_keys_team ON api_keys(team_id)")
    db.execute(
        """CREATE TABLE audit_log (
            id TEXT PRIMARY KEY, at INTEGER NOT NULL, action TEXT NOT NULL,
            actor_user_id TEXT, actor_key_id TEXT, team_id TEXT, target TEXT,
            details TEXT NOT NULL DEFAULT '{}')"""
    )
    db.execute("CREATE INDEX audit_log_team_at ON audit_log(team_id, at)")
    db.execute(
        """CREATE TABLE api_usage (
            team_id TEXT NOT NULL, day TEXT NOT NULL, endpoint TEXT NOT NULL,
            requests INTEGER NOT NULL DEFAULT 0, errors INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (team_id, day, endpoint))"""
    )


@migrations()
def m002_token_revocation(db: sqlite_utils.Database) -> None:
    """Token versions (sign out everywhere) and issued refresh tokens (rotation, reuse detection)."""
    db.execute("ALTER TABLE users ADD COLUMN token_version INTEGER NOT NULL DEFAULT 0")
    db.execute(
        """CREATE TABLE refresh_tokens (
            jti TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id),
            family TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
            used_at INTEGER, replaced_by TEXT, revoked_at INTEGER)"""
    )
    db.execute("CREATE INDEX refresh_tokens_family ON refresh_tokens(family)")
    db.execute("CREATE INDEX refresh_tokens_user ON refresh_tokens(user_id)")
    db.execute("CREATE INDEX refresh_tokens_expires ON refresh_tokens(expires_at)")


@migrations()
def m003_team_retention(db: sqlite_utils.Database) -> None:
    """Days a team keeps its sessions after their last activity (NULL: for ever)."""
    db.execute("ALTER TABLE teams ADD COLUMN retention_days INTEGER")


class SQLiteAccounts(SQLAccounts):
    """`AccountStore` in the server's SQLite file (one connection, serialised by a lock)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.warnings: list[str] = []
        try:
            if self.path != ":memory:":
                # Password and key hashes live here: owner-only, and existing files tightened.
                create_private(Path(self.path))
                self.warnings = tighten(Path(self.path))
            conn = sqlite3.connect(
                self.path, check_same_thread=False, isolation_level=None, timeout=10
            )
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            if self.path != ":memory:":
                use_wal(conn, _BUSY_TIMEOUT_MS)
            conn.execute("PRAGMA foreign_keys = ON")
            migrations.apply(sqlite_utils.Database(conn))
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the accounts tables in {self.path}: {exc}") from None
        self._conn = conn
        self._lock = threading.Lock()

    # -- plumbing
    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.OperationalError as exc:
                raise StoreError(f"account store unavailable: {exc}") from None

    def _write(self, statements: Sequence[Statement]) -> None:
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    for sql, params in statements:
                        self._conn.execute(sql, params)
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
            except sqlite3.IntegrityError as exc:
                raise Conflict(f"already exists: {exc}") from None
            except sqlite3.OperationalError as exc:
                raise StoreError(f"account store unavailable: {exc}") from None

    def close(self) -> None:
        with self._lock:
            self._conn.close()


__all__ = ["SQLiteAccounts"]
