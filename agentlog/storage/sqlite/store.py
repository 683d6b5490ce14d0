"""`SQLiteStore`: the embedded, local-first backend of the `Store` protocol.

One file holds everything (WAL mode, 5 s busy timeout, synchronous=NORMAL).
Writes are idempotent upserts in one transaction per call; per-session and
per-agent aggregates are kept up by the writes; the full-text index is filled
in batches behind them and brought up to date before any text search.
`scoped(team_id)` gives a view over the same connections that sees and
writes only that team's sessions (the server's tenancy).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from agentlog.errors import UsageError
from agentlog.model import (
    BatchError,
    Event,
    Session,
    SessionSummary,
    SessionUpdate,
    WriteResult,
    to_us,
)
from agentlog.storage.base import Deleted, StoreInfo
from agentlog.storage.sql.rows import ROW_ID, ROW_SESSION, event_values
from agentlog.storage.sql.sessions import (
    SESSION_FROM,
    SessionKey,
    SQLSessionReads,
    as_session,
    as_update,
    session_sets,
    split_events,
    stamp_changed,
    tree_ids,
)
from agentlog.storage.sql.teams import ambiguous, resolve_sessions, team_key
from agentlog.storage.sqlite import admin, fts
from agentlog.storage.sqlite import write as w
from agentlog.storage.sqlite.conn import DEFAULT_BUSY_TIMEOUT_MS, Connections, translated
from agentlog.storage.sqlite.dialect import SQLITE
from agentlog.storage.sqlite.events import EventReads


class SQLiteStore(EventReads, SQLSessionReads):
    """The Store protocol over one SQLite file (see the module docstring)."""

    backend = "sqlite"
    _dialect = SQLITE

    def __init__(
        self,
        path: str | Path,
        read_only: bool = False,
        *,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        synchronous: str = "normal",
    ) -> None:
        """`synchronous="full"` makes each commit survive a power loss too (see SYNCHRONOUS)."""
        if str(path) in ("", ":memory:"):
            raise UsageError(
                "SQLiteStore needs a file (its reader and writer connections share it); "
                "give it a path, e.g. a temporary file"
            )
        self.path = Path(path).expanduser()
        self.url = str(path)
        self.team_id: str | None = None
        self.user_id: str | None = None
        self._owner = True
        self._db = Connections(
            self.path,
            read_only=read_only,
            busy_timeout_ms=busy_timeout_ms,
            synchronous=synchronous,
        )
        try:
            admin.open_file(self._db, self.path)
        except BaseException:
            self._db.close()
            raise

    # ------------------------------------------------------------ open / views
    def scoped(self, team_id: str | None, user_id: str | None = None) -> SQLiteStore:
        """A view over the same connections that sees and writes only `team_id`'s sessions."""
        view = object.__new__(SQLiteStore)
        view.path = self.path
        view.url = self.url
        view.team_id = team_id
        view.user_id = user_id
        view._owner = False
        view._db = self._db
        return view

    def close(self) -> None:
        """Close every connection (a scoped view leaves them to the store that opened them)."""
        if not self._owner or self._db.closed:
            return
        with self._db.lock:
            writer = self._db.open_writer
            if writer is not None:
                try:
                    writer.execute("PRAGMA optimize")
                except sqlite3.Error:
                    pass
            self._db.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        scope = f", team_id={self.team_id!r}" if self.team_id is not None else ""
        return f"SQLiteStore({self.url!r}{scope})"

    # ------------------------------------------------------------ maintenance (sqlite/admin.py)
    def info(self) -> StoreInfo:
        return admin.info(self._db, self.path, self.url, self.team_id)

    @property
    def schema_version(self) -> int:
        """The number of the newest migration applied to this file."""
        return admin.schema_version(self._db, self.path)

    def size_bytes(self) -> int:
        """The file plus its write-ahead log."""
        return admin.size_bytes(self.path)

    def check(self) -> list[str]:
        """Problems found by SQLite's integrity check, the FTS5 checks and the aggregates (empty = OK)."""
        return admin.check(self._db, self.path)

    def vacuum(self) -> None:
        """Rebuild the full-text index if deletes left tombstones, merge it, compact the file."""
        admin.vacuum(self._db, self.path)

    def backup(self, dest_path: str | Path) -> Path:
        """A consistent copy of the whole store, taken online (writers keep going)."""
        return admin.backup(self._db, self.path, dest_path)

    # ------------------------------------------------------------ writes
    def write(self, sessions: Sequence[Session] = (), events: Sequence[Event] = ()) -> WriteResult:
        """Upsert sessions, then insert new events, in one transaction (see `Store.write`).

        `inserted` / `duplicates` count events. Sessions and events are keyed by
        (team, id): a scoped view's ids never meet another team's (`sql/teams.py`);
        an unscoped view's event for an id several teams hold is an item error. Items may
        also be dicts, validated here. The batch size is the caller's: the API and
        the SDK cap it (model.MAX_BATCH_EVENTS); `migrate` may write more at once.
        """
        good_sessions = [as_session(s) for s in sessions]
        valid, errors = split_events(events)
        return self._write(
            good_sessions, [i for i, _ in valid], [event_values(e) for _, e in valid], errors
        )

    def write_rows(
        self, sessions: Sequence[Session] = (), rows: Sequence[Sequence[Any]] = ()
    ) -> WriteResult:
        """`write` for events a trusted producer already checked into the stores' column
        values (`sql.rows.event_values`' order; `agentlog.rowcheck`): no Event is built and
        no value checked again. Errors index into `rows`."""
        return self._write([as_session(s) for s in sessions], range(len(rows)), rows, [])

    def _write(
        self,
        sessions: list[Session],
        indexes: Sequence[int],
        rows: Sequence[Sequence[Any]],
        errors: list[BatchError],
    ) -> WriteResult:
        inserted = duplicates = 0
        if not sessions and not rows:
            return WriteResult(errors=errors)
        with self._db.transaction() as conn:
            changed: list[SessionKey] = [
                (w.upsert_session(conn, s, self.team_id, self.user_id), s.id) for s in sessions
            ]
            sids = list({row[ROW_SESSION] for row in rows})
            known, several = resolve_sessions(w.session_teams(conn, sids, self.team_id), sids)
            if several:
                errors.extend(
                    BatchError(index=i, id=row[ROW_ID], error=str(ambiguous(row[ROW_SESSION])))
                    for i, row in zip(indexes, rows, strict=True)
                    if row[ROW_SESSION] in several
                )
                kept = [
                    (i, row)
                    for i, row in zip(indexes, rows, strict=True)
                    if row[ROW_SESSION] not in several
                ]
                indexes, rows = [i for i, _ in kept], [row for _, row in kept]
            if any(sid not in known for sid in sids):
                w.create_missing_sessions(conn, rows, known, team_key(self.team_id), self.user_id)
            ids = [row[ROW_ID] for row in rows]
            existing = w.existing_event_ids(conn, ids)
            new: Sequence[Sequence[Any]]
            if not existing and len(set(ids)) == len(ids):  # the usual batch: all new
                new = rows
            else:
                new = []
                for row in rows:
                    key = (known[row[ROW_SESSION]], row[ROW_ID])
                    if key in existing:
                        duplicates += 1
                    else:
                        existing.add(key)
                        new.append(row)
            w.insert_events(conn, new, known)
            inserted = len(new)
            changed.extend((known[sid], sid) for sid in {row[ROW_SESSION] for row in new})
            stamp_changed(conn, changed)
        if inserted:
            with translated(self.path):
                fts.index_if_large(self._db)
        errors.sort(key=lambda b: b.index)
        return WriteResult(inserted=inserted, duplicates=duplicates, errors=errors)

    def flush_index(self) -> None:
        """Index every event written so far (a search does this itself first)."""
        with translated(self.path):
            fts.index_all(self._db)

    def _session_rid(self, conn: sqlite3.Connection, session_id: str) -> tuple[str, int]:
        """The (team key, rid) of the session `session_id` this view sees (NotFound if none)."""
        team = self._session_team(conn, session_id)
        row = conn.execute(
            "SELECT rid FROM sessions WHERE id = ? AND team_id = ?", (session_id, team)
        ).fetchone()
        return team, row[0]

    def update_session(self, session_id: str, changes: SessionUpdate) -> SessionSummary:
        changes = as_update(changes)
        with self._db.transaction() as conn:
            team, rid = self._session_rid(conn, session_id)
            title, description, ended = conn.execute(
                "SELECT title, description, ended_at FROM sessions WHERE rid = ?", (rid,)
            ).fetchone()
            sets = session_sets(changes, ended)
            conn.execute(
                f"UPDATE sessions SET {', '.join(f'{k} = ?' for k in sets)} WHERE rid = ?",
                [*sets.values(), rid],
            )
            new_title = sets.get("title", title)
            new_description = sets.get("description", description)
            if (new_title, new_description) != (title, description):
                w._fts_replace_session(conn, rid, new_title, new_description)
            stamp_changed(conn, [(team, session_id)])
        return self.scoped(team, self.user_id).get_session(session_id)

    def delete_session(self, session_id: str) -> int:
        with self._db.transaction() as conn:
            team, rid = self._session_rid(conn, session_id)
            return w.delete_session_rows(conn, team, session_id, rid)

    def delete_session_tree(self, session_id: str) -> Deleted:
        with self._db.transaction() as conn:
            team, _ = self._session_rid(conn, session_id)
            ids = tree_ids(conn, team, session_id)
            erased = 0
            for sid in ids:
                (rid,) = conn.execute(
                    "SELECT rid FROM sessions WHERE id = ? AND team_id = ?", (sid, team)
                ).fetchone()
                erased += w.delete_session_rows(conn, team, sid, rid)
            return Deleted(len(ids), erased)

    def erase_user_sessions(self, user_id: str, *, transfer: bool = False) -> int:
        sql = "SELECT team_id, id FROM sessions WHERE created_by = ?"
        params: list[Any] = [user_id]
        if self.team_id is not None:
            sql += " AND team_id = ?"
            params.append(self.team_id)
        with translated(self.path):
            keys = [(t, sid) for t, sid in self._read().execute(sql, params).fetchall()]
        # One transaction per session, as in prune: the write lock is never held long.
        for team, sid in keys:
            with self._db.transaction() as conn:
                if transfer:
                    conn.execute(
                        "UPDATE sessions SET created_by = NULL WHERE team_id = ? AND id = ?",
                        (team, sid),
                    )
                    stamp_changed(conn, [(team, sid)])
                else:
                    row = conn.execute(
                        "SELECT rid FROM sessions WHERE team_id = ? AND id = ?", (team, sid)
                    ).fetchone()
                    if row is not None:
                        w.delete_session_rows(conn, team, sid, row[0])
        return len(keys)

    def prune(self, before: datetime) -> int:
        # One transaction per session, not one for all: a long prune must not hold the
        # write lock past other processes' busy timeout (an agent logging meanwhile).
        # Each session goes whole or not at all; one still idle is re-checked inside.
        cutoff = to_us(before)
        sql = "SELECT s.team_id, s.id " + SESSION_FROM + " WHERE st.activity_at < ?"
        params: list[Any] = [cutoff]
        if self.team_id is not None:
            sql += " AND s.team_id = ?"
            params.append(self.team_id)
        with translated(self.path):
            candidates = self._read().execute(sql, params).fetchall()
        erased = 0
        for team, sid in candidates:
            with self._db.transaction() as conn:
                row = conn.execute(
                    "SELECT s.rid "
                    + SESSION_FROM
                    + " WHERE s.id = ? AND s.team_id = ? AND st.activity_at < ?",
                    (sid, team, cutoff),
                ).fetchone()
                if row is not None:
                    w.delete_session_rows(conn, team, sid, row[0])
                    erased += 1
        return erased

    # ------------------------------------------------------------ sessions
    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with translated(self.path):
            yield self._read()

    def _agents_of(
        self, conn: sqlite3.Connection, keys: Sequence[SessionKey]
    ) -> dict[SessionKey, list[str]]:
        agents: dict[SessionKey, list[str]] = {key: [] for key in keys}
        for part in w.chunks(list(agents)):
            pairs = ",".join("(?,?)" for _ in part)
            rows = conn.execute(
                "SELECT team_id, session_id, agent_id FROM session_agents"
                f" WHERE (team_id, session_id) IN (VALUES {pairs})"
                " ORDER BY first_event_at, agent_id",
                [v for key in part for v in key],
            )
            for team, sid, agent in rows:
                agents[(team, sid)].append(agent)
        return agents


__all__ = ["SQLiteStore"]
