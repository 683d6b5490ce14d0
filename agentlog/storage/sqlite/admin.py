"""Opening a SQLite store file (checks, migrations) and its maintenance: info, check, vacuum, backup.

Functions over the store's `Connections`; `SQLiteStore` calls them (composition,
not a mixin: nothing here reads events).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from agentlog.errors import (
    NotAnAgentLogDatabase,
    NotFound,
    ReadOnlyStore,
    SchemaTooNew,
    StoreError,
    UsageError,
)
from agentlog.model import from_us
from agentlog.storage.base import StoreInfo
from agentlog.storage.private_files import create_private
from agentlog.storage.sql.sessions import SESSION_FROM
from agentlog.storage.sqlite import fts
from agentlog.storage.sqlite.conn import SQLITE_HEADER, Connections, translated, use_wal
from agentlog.storage.sqlite.migrations import (
    APPLICATION_ID,
    LATEST_VERSION,
    MIGRATION_SET,
    MIGRATIONS_TABLE,
    migration_names,
    migration_number,
    migration_set,
)


def _writable(path: Path) -> bool:
    """Whether SQLite can write `path` and create its -wal/-shm files beside it."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def open_file(db: Connections, path: Path) -> None:
    """Check `path` is an AgentLog database (creating it owner-only if new) and migrate it."""
    if not db.read_only and path.is_file() and not _writable(path):
        _open_read_only_file(db, path)
    if db.read_only:
        if not path.is_file():
            raise NotFound(
                f"no AgentLog database at {path}; record something first (agentlog demo)"
            )
    else:
        try:
            create_private(path)
        except OSError as exc:
            raise ReadOnlyStore(
                f"cannot create the folder {path.parent} ({exc.strerror}); point AGENTLOG_HOME "
                "or --db at a writable place"
            ) from None
    if path.is_file() and path.stat().st_size > 0:
        with open(path, "rb") as fh:
            if fh.read(16) != SQLITE_HEADER:
                raise NotAnAgentLogDatabase(
                    f"{path} is not an AgentLog database (not a SQLite file); "
                    "point --db at another file"
                )
    with translated(path):
        conn = db.reader()
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        applied = _applied(conn, tables)
        if tables and not applied:
            raise NotAnAgentLogDatabase(
                f"{path} is a SQLite file but not an AgentLog database; point --db at another file"
            )
        _check_not_newer(conn, applied, path)
        pending = [n for n in migration_names() if n not in applied]
        if not pending:
            return
        if db.read_only:
            fix = (
                "make it writable once to upgrade it"
                if db.read_only_reason
                else "open it once without --read-only to upgrade it"
            )
            raise StoreError(f"{path} uses an older AgentLog schema; {fix}")
    with db.lock, translated(path):
        writer = db.writer()
        use_wal(writer, db.busy_timeout_ms)
        writer.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated while we waited for the lock.
            _check_not_newer(writer, _applied(writer, None), path)
            from sqlite_utils import Database

            database = Database(writer, recursive_triggers=False, execute_plugins=False)
            migration_set().apply(database)
            writer.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            writer.execute(f"PRAGMA user_version = {LATEST_VERSION}")
            writer.execute("COMMIT")
        except BaseException:
            if writer.in_transaction:
                writer.execute("ROLLBACK")
            raise


def _open_read_only_file(db: Connections, path: Path) -> None:
    """Reads work on a read-only file or folder; writes say why they cannot."""
    db.read_only = True
    db.read_only_reason = (
        f"cannot write to {path}: the file or its folder is read-only; fix the permissions "
        "or point AGENTLOG_HOME / --db at a writable place (reading works as it is)"
    )
    # Without a -shm file and no way to create one, WAL reads need `immutable`:
    # safe, since nobody can write beside a file in a folder no one may change.
    shm = path.with_name(path.name + "-shm")
    db.immutable = not shm.exists() and not os.access(path.parent, os.W_OK)


def _applied(conn: sqlite3.Connection, tables: set[str] | None) -> list[str]:
    if tables is None:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if MIGRATIONS_TABLE not in tables:
        return []
    rows = conn.execute(
        f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ? ORDER BY id",
        (MIGRATION_SET,),
    )
    return [r[0] for r in rows]


def _check_not_newer(conn: sqlite3.Connection, applied: list[str], path: Path) -> None:
    known = set(migration_names())
    unknown = [n for n in applied if n not in known]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if unknown or version > LATEST_VERSION:
        newest = max([version, *(migration_number(n) for n in unknown)])
        raise SchemaTooNew(
            f"{path} was written by a newer AgentLog (schema {newest}, this one knows "
            f"{LATEST_VERSION}); upgrade agentlog: pip install -U agentlog"
        )


def counts(db: Connections, path: Path, team_id: str | None) -> dict[str, Any]:
    """Sessions, events, oldest and newest event time and the index backlog (for `info`)."""
    sql = (
        "SELECT count(*), coalesce(sum(st.event_count), 0), min(st.first_event_at),"
        f" max(st.last_event_at) {SESSION_FROM}"
    )
    params: list[Any] = []
    if team_id is not None:
        sql += " WHERE s.team_id = ?"
        params.append(team_id)
    with translated(path):
        conn = db.reader()
        sessions, events, oldest, newest = conn.execute(sql, params).fetchone()
        pending = fts.backlog(conn)
        stale = fts.stale_rows(conn)
    return {
        "sessions": sessions,
        "events": events,
        "oldest_event_at": from_us(oldest) if oldest is not None else None,
        "newest_event_at": from_us(newest) if newest is not None else None,
        "extra": {"path": str(path), "fts_pending": pending, "fts_stale": stale},
    }


def info(db: Connections, path: Path, url: str, team_id: str | None) -> StoreInfo:
    """What `agentlog db info` shows of the file (scoped to `team_id` when given)."""
    return StoreInfo(
        url=url,
        backend="sqlite",
        schema_version=schema_version(db, path),
        size_bytes=size_bytes(path),
        **counts(db, path, team_id),
    )


def schema_version(db: Connections, path: Path) -> int:
    """The number of the newest migration applied to this file."""
    with translated(path):
        applied = _applied(db.reader(), None)
    return max((migration_number(n) for n in applied), default=0)


def size_bytes(path: Path) -> int:
    """The file plus its write-ahead log."""
    total = 0
    for suffix in ("", "-wal"):
        try:
            total += os.path.getsize(f"{path}{suffix}")
        except OSError:
            pass
    return total


def check(db: Connections, path: Path) -> list[str]:
    """Problems found by SQLite's integrity check, the FTS5 checks and the aggregates (empty = OK)."""
    problems: list[str] = []
    with translated(path):
        conn = db.reader()
        for (line,) in conn.execute("PRAGMA integrity_check"):
            if line != "ok":
                problems.append(f"integrity: {line}")
        if not db.read_only:
            with db.lock:
                writer = db.writer()
                for table in ("events_fts", "sessions_fts"):
                    try:
                        writer.execute(f"INSERT INTO {table} ({table}) VALUES ('integrity-check')")
                    except sqlite3.DatabaseError as exc:
                        problems.append(f"full-text index {table}: {exc}")
        mismatched = conn.execute(
            "SELECT count(*) FROM session_stats st LEFT JOIN"
            " (SELECT team_id, session_id, count(*) AS n FROM events"
            " GROUP BY team_id, session_id) c ON c.team_id = st.team_id"
            " AND c.session_id = st.session_id WHERE st.event_count != coalesce(c.n, 0)"
        ).fetchone()[0]
        if mismatched:
            problems.append(
                f"aggregates: {mismatched} sessions' event counts disagree with their events"
            )
    return problems


def vacuum(db: Connections, path: Path) -> None:
    """Rebuild the full-text index if deletes left tombstones, merge it, compact the file."""
    with db.lock, translated(path):
        if fts.stale_rows(db.writer()):
            with db.transaction() as conn:
                fts.reset_index(conn)
        fts.index_all(db)
        writer = db.writer()
        writer.execute("INSERT INTO events_fts (events_fts) VALUES ('optimize')")
        writer.execute("INSERT INTO sessions_fts (sessions_fts) VALUES ('optimize')")
        writer.execute("VACUUM")
        writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def backup(db: Connections, path: Path, dest_path: str | Path) -> Path:
    """A consistent copy of the whole store, taken online (writers keep going)."""
    dest = Path(dest_path).expanduser()
    if dest.exists():
        raise UsageError(f"{dest} already exists; choose a new file name for the backup")
    with translated(dest):
        create_private(dest)  # owner-only, as the store it copies (sqlite would make it 0644)
        target = sqlite3.connect(str(dest))
        try:
            with translated(path):
                db.reader().backup(target)
        finally:
            target.close()
    return dest
