"""`PostgresStore`: the team-server backend of the `Store` protocol, over psycopg 3 and a connection pool.

`PostgresStore("postgresql://user:pw@host:5432/db?agentlog_schema=NAME")`
opens (and on first use creates and migrates) the store; `agentlog_schema` is
optional and keeps the tables in that PostgreSQL schema (see
`postgres/conn.py`). The data model and semantics are the SQLite store's:
idempotent writes by id, auto-created sessions, per-item batch errors,
per-session and per-agent aggregates kept up by the writes, keyset cursors,
a full-text index written with the events (`postgres/search.py`),
and `scoped(team_id)` views that see and write only one team's sessions.

Every call borrows one pooled connection for one transaction, so the store
is safe to share between threads (FastAPI's thread pool, TUI workers).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

import orjson
import psycopg
from pydantic import ValidationError

from agentlog.errors import InvalidInput, UsageError
from agentlog.model import (
    BatchError,
    Event,
    Session,
    SessionSummary,
    SessionUpdate,
    WriteResult,
    from_us,
    to_us,
    validation_message,
)
from agentlog.storage.base import Deleted, StoreInfo
from agentlog.storage.postgres import partitions, retention
from agentlog.storage.postgres import search as fts
from agentlog.storage.postgres import write as w
from agentlog.storage.postgres.conn import Target, connect, open_pool, parse_url, translated
from agentlog.storage.postgres.dialect import POSTGRES
from agentlog.storage.postgres.events import PostgresEventReads
from agentlog.storage.postgres.migrations import apply, schema_version
from agentlog.storage.postgres.partitions import Month
from agentlog.storage.sql.sessions import (
    SESSION_FROM,
    SessionKey,
    SQLSessionReads,
    as_update,
    session_sets,
    split_events,
    stamp_changed,
    tree_ids,
)
from agentlog.storage.sql.teams import ambiguous, not_found, resolve_sessions, team_key

_DEADLOCK_RETRIES = 3
PRUNE_BATCH_SESSIONS = 500
PRUNE_BATCH_EVENTS = 50_000
log = logging.getLogger("agentlog.storage.postgres")


class PostgresStore(PostgresEventReads, SQLSessionReads):
    """The Store protocol over one PostgreSQL database (schema); see the module docstring."""

    backend = "postgresql"
    _dialect = POSTGRES

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.team_id: str | None = None
        self.user_id: str | None = None
        self._target: Target = parse_url(url)
        self._display = self._target.display
        self._owner = True
        with connect(self._target) as conn, translated(self._display):
            apply(conn, schema=self._target.schema, display=self._display)
            # Months that have partitions (shared with every scoped view): a write with a
            # timestamp outside them creates its month's partitions after it commits.
            self._months: set[Month] = _maintain(conn)
        self._pool = open_pool(self._target, max_size=pool_size)

    # ------------------------------------------------------------ views
    def scoped(self, team_id: str | None, user_id: str | None = None) -> PostgresStore:
        """A view over the same pool that sees and writes only `team_id`'s sessions."""
        view = object.__new__(PostgresStore)
        view.__dict__.update(self.__dict__)
        view.team_id = team_id
        view.user_id = user_id
        view._owner = False
        return view

    def close(self) -> None:
        """Close the pool (a scoped view leaves it to the store that opened it)."""
        if self._owner and not self._pool.closed:
            self._pool.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        scope = f", team_id={self.team_id!r}" if self.team_id is not None else ""
        return f"PostgresStore({self._display!r}{scope})"

    # ------------------------------------------------------------ writes
    def write(self, sessions: Sequence[Session] = (), events: Sequence[Event] = ()) -> WriteResult:
        good_sessions = [_as_session(s) for s in sessions]
        valid, errors = split_events(events, _nul_problem)
        if not good_sessions and not valid:
            return WriteResult(errors=errors)
        # Sorted by id: concurrent writers lock the same sessions in the same order.
        good_sessions.sort(key=lambda s: s.id)
        with translated(self._display):
            for attempt in range(_DEADLOCK_RETRIES + 1):
                try:
                    inserted, duplicates, foreign_errors = self._write_once(good_sessions, valid)
                    break
                except psycopg.errors.DeadlockDetected:
                    # Two writers' multi-session batches crossed; PostgreSQL rolled one back whole.
                    if attempt == _DEADLOCK_RETRIES:
                        raise
        errors.extend(foreign_errors)
        months = self._months
        if inserted and not {partitions.month_of_time(e.timestamp) for _, e in valid} <= months:
            # Rows of a month without partitions went to the default partition:
            # give the month its own (they move across), then this month and ahead.
            with self._conn() as conn:
                months.update(_maintain(conn, wait=False))
        errors.sort(key=lambda b: b.index)
        return WriteResult(inserted=inserted, duplicates=duplicates, errors=errors)

    def _write_once(
        self, sessions: Sequence[Session], valid: list[tuple[int, Event]]
    ) -> tuple[int, int, list[BatchError]]:
        """One write transaction: (inserted, duplicates, errors for ids several teams hold)."""
        errors: list[BatchError] = []
        duplicates = 0
        with self._pool.connection() as conn, conn.transaction():
            changed: list[SessionKey] = [
                (w.upsert_session(conn, s, self.team_id, self.user_id), s.id) for s in sessions
            ]
            sids = list({e.session_id for _, e in valid})
            known, several = resolve_sessions(w.session_teams(conn, sids, self.team_id), sids)
            if several:
                errors.extend(
                    BatchError(index=i, id=e.id, error=str(ambiguous(e.session_id)))
                    for i, e in valid
                    if e.session_id in several
                )
                valid = [(i, e) for i, e in valid if e.session_id not in several]
            w.create_missing_sessions(
                conn, [e for _, e in valid], known, team_key(self.team_id), self.user_id
            )
            seen: set[str] = set()
            unique: list[Event] = []
            for _, e in valid:
                if e.id in seen:
                    duplicates += 1
                else:
                    seen.add(e.id)
                    unique.append(e)
            inserted = w.insert_events(conn, unique, known)
            duplicates += len(unique) - inserted
            changed.extend((known[e.session_id], e.session_id) for e in unique)
            stamp_changed(conn, changed, POSTGRES.p)
        return inserted, duplicates, errors

    def _visible(
        self, conn: psycopg.Connection, session_id: str, lock: bool = False
    ) -> tuple[Any, ...]:
        """(team key, title, description, ended_at) of the session this view sees (NotFound if none)."""
        team = self._session_team(conn, session_id)
        row = conn.execute(
            "SELECT team_id, title, description, ended_at FROM sessions"
            " WHERE id = %s AND team_id = %s" + (" FOR UPDATE" if lock else ""),
            (session_id, team),
        ).fetchone()
        if row is None:  # deleted between the two reads
            raise not_found(session_id)
        return tuple(row)

    def update_session(self, session_id: str, changes: SessionUpdate) -> SessionSummary:
        changes = as_update(changes)
        with self._conn() as conn, conn.transaction():
            team, title, description, ended = self._visible(conn, session_id, lock=True)
            sets = session_sets(changes, ended)
            assignments = [
                f"{k} = %s::jsonb" if k in ("tags", "metadata") else f"{k} = %s" for k in sets
            ]
            conn.execute(
                f"UPDATE sessions SET {', '.join(assignments)} WHERE id = %s AND team_id = %s",
                [*sets.values(), session_id, team],
            )
            new_title = sets.get("title", title)
            new_description = sets.get("description", description)
            if (new_title, new_description) != (title, description):
                w.set_search(conn, team, session_id, new_title, new_description)
            stamp_changed(conn, [(team, session_id)], POSTGRES.p)
        return self.scoped(team, self.user_id).get_session(session_id)

    def delete_session(self, session_id: str) -> int:
        with self._conn() as conn, conn.transaction():
            team = self._visible(conn, session_id, lock=True)[0]
            return w.delete_session_rows(conn, team, session_id)

    def delete_session_tree(self, session_id: str) -> Deleted:
        with self._conn() as conn, conn.transaction():
            team = self._visible(conn, session_id, lock=True)[0]
            ids = tree_ids(conn, team, session_id, POSTGRES.p)
            erased = sum(w.delete_session_rows(conn, team, sid) for sid in ids)
            return Deleted(len(ids), erased)

    def prune(self, before: datetime) -> int:
        # Bounded transactions (retention runs this on a live server): at most
        # PRUNE_BATCH_SESSIONS sessions, or the first sessions holding PRUNE_BATCH_EVENTS
        # events, per transaction; each session goes whole or not at all.
        sql = (
            "SELECT s.team_id, s.id, st.event_count " + SESSION_FROM + " WHERE st.activity_at < %s"
        )
        params: list[Any] = [to_us(before)]
        if self.team_id is not None:
            sql += " AND s.team_id = %s"
            params.append(self.team_id)
        sql += " ORDER BY st.activity_at, s.id LIMIT %s FOR UPDATE OF s SKIP LOCKED"
        erased = 0
        with self._conn() as conn:
            while True:
                with conn.transaction():
                    rows = conn.execute(sql, [*params, PRUNE_BATCH_SESSIONS]).fetchall()
                    events = 0
                    for team, sid, count in rows:
                        w.delete_session_rows(conn, team, sid)
                        erased += 1
                        events += count
                        if events >= PRUNE_BATCH_EVENTS:
                            break
                if not rows:
                    return erased

    def erase_user_sessions(self, user_id: str, *, transfer: bool = False) -> int:
        # created_by has no index: a sessions scan, for a rare admin request.
        sql = "SELECT team_id, id FROM sessions WHERE created_by = %s"
        params: list[Any] = [user_id]
        if self.team_id is not None:
            sql += " AND team_id = %s"
            params.append(self.team_id)
        done = 0
        with self._conn() as conn:
            while True:
                with conn.transaction():
                    keys = conn.execute(
                        sql + " ORDER BY team_id, id LIMIT %s FOR UPDATE",
                        [*params, PRUNE_BATCH_SESSIONS],
                    ).fetchall()
                    if not keys:
                        return done
                    if transfer:
                        conn.execute(
                            "UPDATE sessions s SET created_by = NULL FROM unnest(%s::text[],"
                            " %s::text[]) AS k(team, sid) WHERE s.team_id = k.team AND s.id = k.sid",
                            ([k[0] for k in keys], [k[1] for k in keys]),
                        )
                        stamp_changed(conn, [(k[0], k[1]) for k in keys], POSTGRES.p)
                    else:
                        for team, sid in keys:
                            w.delete_session_rows(conn, team, sid)
                    done += len(keys)

    # ------------------------------------------------------------ partitions
    def maintain_partitions(self) -> list[str]:
        with self._conn() as conn:
            self._months.update(_maintain(conn))
            return [f"{y:04d}-{m:02d}" for y, m in sorted(partitions.existing_months(conn))]

    def drop_expired_months(self, horizons: Mapping[str, datetime]) -> list[str]:
        if self.team_id is not None:
            raise UsageError("months hold every team's events: drop them through an unscoped store")
        with self._conn() as conn:
            dropped = retention.drop_expired_months(
                conn, {team: to_us(when) for team, when in horizons.items()}
            )
        self._months.difference_update(dropped)
        return [f"{y:04d}-{m:02d}" for y, m in dropped]

    # ------------------------------------------------------------ sessions
    def _reading(self) -> AbstractContextManager[psycopg.Connection]:
        return self._conn()

    def _agents_of(
        self, conn: psycopg.Connection, keys: Sequence[SessionKey]
    ) -> dict[SessionKey, list[str]]:
        agents: dict[SessionKey, list[str]] = {key: [] for key in keys}
        if agents:
            rows = conn.execute(
                "SELECT sa.team_id, sa.session_id, sa.agent_id FROM session_agents sa"
                " JOIN unnest(%s::text[], %s::text[]) AS k(team, sid)"
                " ON sa.team_id = k.team AND sa.session_id = k.sid"
                " ORDER BY sa.first_event_at, sa.agent_id",
                ([k[0] for k in agents], [k[1] for k in agents]),
            ).fetchall()
            for team, sid, agent in rows:
                agents[(team, sid)].append(agent)
        return agents

    # ------------------------------------------------------------ admin
    def info(self) -> StoreInfo:
        sql = (
            "SELECT count(*), coalesce(sum(st.event_count), 0), min(st.first_event_at),"
            f" max(st.last_event_at) {SESSION_FROM}"
        )
        params: list[Any] = []
        if self.team_id is not None:
            sql += " WHERE s.team_id = %s"
            params.append(self.team_id)
        with self._conn() as conn:
            row = conn.execute(sql, params).fetchone()
            assert row is not None
            sessions, events, oldest, newest = row
            pending = fts.pending_events(conn)
            version = schema_version(conn)
            size = conn.execute(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'm')"
            ).fetchone()
        return StoreInfo(
            url=self._display,
            backend=self.backend,
            schema_version=version,
            sessions=int(sessions),
            events=int(events),
            size_bytes=int(size[0]) if size else None,
            oldest_event_at=from_us(oldest) if oldest is not None else None,
            newest_event_at=from_us(newest) if newest is not None else None,
            extra={"schema": self._target.schema or "public", "fts_pending": pending},
        )

    @property
    def schema_version(self) -> int:
        """The number of the newest migration applied to this schema."""
        with self._conn() as conn:
            return schema_version(conn)


def _maintain(conn: psycopg.Connection, *, wait: bool = True) -> set[Month]:
    """`partitions.maintain`, never fatal: a busy parent table (the DDL waits at most
    `partitions.LOCK_TIMEOUT` for its lock) leaves rows in the default partition until
    the next try, and the months already there are what the write path compares with.
    `wait=False` (after a write): skip when another session holds the partition lock."""
    try:
        return partitions.maintain(conn, wait=wait)
    except psycopg.OperationalError as exc:  # a lock timeout, a deadlock with other DDL
        log.warning("monthly partitions not made now (%s); retried later", exc)
        return partitions.existing_months(conn)


def _as_session(item: Session | dict[str, Any]) -> Session:
    try:
        session = item if isinstance(item, Session) else Session.model_validate(item)
    except ValidationError as exc:
        raise InvalidInput(f"session: {validation_message(exc)}") from None
    for name in ("title", "description", "parent_session_id"):
        if "\x00" in (getattr(session, name) or ""):
            raise InvalidInput(f"session: {_nul_message(name)}")
    if _json_has_nul(session.metadata) or any("\x00" in t for t in session.tags):
        raise InvalidInput(f"session: {_nul_message('metadata')}")
    return session


def _nul_message(field: str) -> str:
    return f"{field} contains a NUL character (\\x00), which PostgreSQL cannot store; remove it"


def _json_has_nul(value: Any) -> bool:
    return bool(value) and b"\\u0000" in orjson.dumps(
        value, option=orjson.OPT_NON_STR_KEYS, default=str
    )


def _nul_problem(e: Event) -> str | None:
    """Why `e` cannot be stored: its first field holding a NUL (PostgreSQL text cannot), or None."""
    for name in ("content", "name", "agent_id", "parent_id"):
        value = getattr(e, name)
        if value is not None and "\x00" in value:
            return _nul_message(name)
    return _nul_message("metadata") if _json_has_nul(e.metadata) else None


__all__ = ["PostgresStore"]
