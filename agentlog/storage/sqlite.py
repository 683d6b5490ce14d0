"""`SQLiteStore`: the embedded, local-first backend of the `Store` protocol.

One file holds everything (WAL mode, 5 s busy timeout, synchronous=NORMAL).
Writes are idempotent upserts in one transaction per call; per-session and
per-agent aggregates are kept up by the writes; the full-text index is filled
in batches behind them and brought up to date before any text search.
`scoped(team_id)` gives a view over the same connections that sees and
writes only that team's sessions (the server's tenancy).
"""

from __future__ import annotations

import heapq
import os
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError
from sqlite_utils import Database

from agentlog.errors import (
    DatabaseLocked,
    InvalidInput,
    NotAnAgentLogDatabase,
    NotFound,
    SchemaTooNew,
    StoreError,
    UsageError,
)
from agentlog.model import (
    AgentSummary,
    BatchError,
    Event,
    Session,
    SessionSummary,
    SessionUpdate,
    StatsReport,
    WriteResult,
    from_us,
    to_us,
    utcnow,
    validation_message,
)
from agentlog.storage import sqlite_write as w
from agentlog.storage.analytics import profile
from agentlog.storage.base import (
    EventQuery,
    Page,
    SessionQuery,
    StoreInfo,
    encode_cursor,
    event_cursor,
)
from agentlog.storage.sqlite_conn import (
    DEFAULT_BUSY_TIMEOUT_MS,
    SQLITE_HEADER,
    Connections,
    translated,
)
from agentlog.storage.sqlite_query import (
    EVENT_COLUMNS,
    SESSION_COLUMNS,
    SESSION_SORT_SQL,
    event_after,
    event_filters,
    page_limit,
    row_event,
    row_session,
    session_after,
    session_filters,
    session_tiebreak,
    ts_bounds,
    where_sql,
)
from agentlog.storage.sqlite_schema import (
    APPLICATION_ID,
    LATEST_VERSION,
    MIGRATION_SET,
    MIGRATIONS_TABLE,
    migration_names,
    migration_number,
    migrations,
)
from agentlog.storage.sqlite_search import search_keys
from agentlog.storage.textsearch import fts_query

_SESSION_FROM = "FROM sessions s JOIN session_stats st ON st.session_id = s.id"
_TOOL_TYPES = ("TOOL_CALL", "TOOL_RESULT")


class SQLiteStore:
    """The Store protocol over one SQLite file (see the module docstring)."""

    backend = "sqlite"

    def __init__(
        self,
        path: str | Path,
        read_only: bool = False,
        *,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
    ) -> None:
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
        self._db = Connections(self.path, read_only=read_only, busy_timeout_ms=busy_timeout_ms)
        try:
            self._open()
        except BaseException:
            self._db.close()
            raise

    # ------------------------------------------------------------ open / views
    def _open(self) -> None:
        path = self.path
        if self._db.read_only:
            if not path.is_file():
                raise NotFound(
                    f"no AgentLog database at {path}; record something first (agentlog demo)"
                )
        else:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                from agentlog.errors import ReadOnlyStore

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
            conn = self._db.reader()
            tables = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            applied = self._applied(conn, tables)
            if tables and not applied:
                raise NotAnAgentLogDatabase(
                    f"{path} is a SQLite file but not an AgentLog database; point --db at another file"
                )
            self._check_not_newer(conn, applied)
            pending = [n for n in migration_names() if n not in applied]
            if not pending:
                return
            if self._db.read_only:
                raise StoreError(
                    f"{path} uses an older AgentLog schema; open it once without --read-only to upgrade it"
                )
        with self._db.lock, translated(path):
            writer = self._db.writer()
            writer.execute("PRAGMA journal_mode = WAL")
            writer.execute("BEGIN IMMEDIATE")
            try:
                # Another process may have migrated while we waited for the lock.
                self._check_not_newer(writer, self._applied(writer, None))
                migrations.apply(Database(writer, recursive_triggers=False, execute_plugins=False))
                writer.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                writer.execute(f"PRAGMA user_version = {LATEST_VERSION}")
                writer.execute("COMMIT")
            except BaseException:
                if writer.in_transaction:
                    writer.execute("ROLLBACK")
                raise

    @staticmethod
    def _applied(conn: sqlite3.Connection, tables: set[str] | None) -> list[str]:
        if tables is None:
            tables = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
        if MIGRATIONS_TABLE not in tables:
            return []
        rows = conn.execute(
            f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ? ORDER BY id",
            (MIGRATION_SET,),
        )
        return [r[0] for r in rows]

    def _check_not_newer(self, conn: sqlite3.Connection, applied: list[str]) -> None:
        known = set(migration_names())
        unknown = [n for n in applied if n not in known]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if unknown or version > LATEST_VERSION:
            newest = max([version, *(migration_number(n) for n in unknown)])
            raise SchemaTooNew(
                f"{self.path} was written by a newer AgentLog (schema {newest}, this one knows "
                f"{LATEST_VERSION}); upgrade agentlog: pip install -U agentlog"
            )

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
            writer = self._db._writer
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

    def _read(self) -> sqlite3.Connection:
        return self._db.reader()

    # ------------------------------------------------------------ writes
    def write(self, sessions: Sequence[Session] = (), events: Sequence[Event] = ()) -> WriteResult:
        good_sessions = [_as_session(s) for s in sessions]
        errors: list[BatchError] = []
        valid: list[tuple[int, Event]] = []
        for index, item in enumerate(events):
            try:
                valid.append(
                    (index, item if isinstance(item, Event) else Event.model_validate(item))
                )
            except ValidationError as exc:
                raw_id = item.get("id") if isinstance(item, dict) else None
                errors.append(
                    BatchError(
                        index=index,
                        id=str(raw_id) if raw_id else None,
                        error=validation_message(exc),
                    )
                )
        inserted = duplicates = 0
        if not good_sessions and not valid:
            return WriteResult(errors=errors)
        with self._db.transaction() as conn:
            for s in good_sessions:
                w.upsert_session(conn, s, self.team_id, self.user_id)
            known = w.session_teams(conn, list({e.session_id for _, e in valid}))
            if self.team_id is not None:
                foreign = {sid for sid, team in known.items() if team != self.team_id}
                if foreign:
                    for index, e in valid:
                        if e.session_id in foreign:
                            errors.append(
                                BatchError(
                                    index=index, id=e.id, error=f"session {e.session_id} not found"
                                )
                            )
                    valid = [(i, e) for i, e in valid if e.session_id not in foreign]
            w.create_missing_sessions(
                conn, [e for _, e in valid], known, self.team_id, self.user_id
            )
            existing = w.existing_event_ids(conn, [e.id for _, e in valid])
            new: list[Event] = []
            for _, e in valid:
                if e.id in existing:
                    duplicates += 1
                else:
                    existing.add(e.id)
                    new.append(e)
            w.insert_events(conn, new)
            inserted = len(new)
        if inserted:
            self._index_if_large()
        errors.sort(key=lambda b: b.index)
        return WriteResult(inserted=inserted, duplicates=duplicates, errors=errors)

    def _index_if_large(self) -> None:
        with self._db.lock, translated(self.path):
            conn = self._db.writer()
            top = conn.execute("SELECT max(rid) FROM events").fetchone()[0] or 0
            if top - w.watermark(conn) >= w.FTS_BATCH_ROWS:
                self._index_all()

    def _index_all(self) -> None:
        """Bring the full-text index up to date, one large transaction per batch."""
        if self._db.read_only:
            return
        with self._db.lock:
            if not w.has_backlog(self._db.writer()):
                return
            while True:
                with self._db.transaction() as conn:
                    if w.index_batch(conn) < w.FTS_BATCH_ROWS:
                        return

    def flush_index(self) -> None:
        """Index every event written so far (a search does this itself first)."""
        with translated(self.path):
            self._index_all()

    def _session_rid(self, conn: sqlite3.Connection, session_id: str) -> int:
        row = conn.execute(
            "SELECT rid, team_id FROM sessions WHERE id = ?", (session_id,)
        ).fetchone()
        if row is None or (self.team_id is not None and row[1] != self.team_id):
            raise NotFound(
                f"session {session_id} not found; list sessions with `agentlog sessions list`"
            )
        return row[0]

    def update_session(self, session_id: str, changes: SessionUpdate) -> SessionSummary:
        if not isinstance(changes, SessionUpdate):
            try:
                changes = SessionUpdate.model_validate(changes)
            except ValidationError as exc:
                raise InvalidInput(validation_message(exc)) from None
        given = changes.model_fields_set
        with self._db.transaction() as conn:
            rid = self._session_rid(conn, session_id)
            title, description, ended = conn.execute(
                "SELECT title, description, ended_at FROM sessions WHERE rid = ?", (rid,)
            ).fetchone()
            now = to_us(utcnow())
            sets: dict[str, Any] = {"updated_at": now}
            if changes.title is not None:
                sets["title"] = changes.title
            if changes.description is not None:
                sets["description"] = changes.description
            if changes.status is not None:
                sets["status"] = changes.status.value
                if changes.status.value != "active" and ended is None and "ended_at" not in given:
                    sets["ended_at"] = now
            if changes.tags is not None:
                sets["tags"] = orjson.dumps(list(changes.tags)).decode()
            if changes.metadata is not None:
                sets["metadata"] = orjson.dumps(
                    changes.metadata, option=orjson.OPT_NON_STR_KEYS, default=str
                ).decode()
            if "ended_at" in given:
                sets["ended_at"] = to_us(changes.ended_at) if changes.ended_at is not None else None
            conn.execute(
                f"UPDATE sessions SET {', '.join(f'{k} = ?' for k in sets)} WHERE rid = ?",
                [*sets.values(), rid],
            )
            new_title = sets.get("title", title)
            new_description = sets.get("description", description)
            if (new_title, new_description) != (title, description):
                w._fts_replace_session(conn, rid, new_title, new_description)
        return self.get_session(session_id)

    def delete_session(self, session_id: str) -> int:
        with self._db.transaction() as conn:
            rid = self._session_rid(conn, session_id)
            return w.delete_session_rows(conn, session_id, rid)

    def prune(self, before: datetime) -> int:
        sql = "SELECT s.id, s.rid " + _SESSION_FROM + " WHERE st.activity_at < ?"
        params: list[Any] = [to_us(before)]
        if self.team_id is not None:
            sql += " AND s.team_id = ?"
            params.append(self.team_id)
        erased = 0
        with self._db.transaction() as conn:
            for sid, rid in conn.execute(sql, params).fetchall():
                w.delete_session_rows(conn, sid, rid)
                erased += 1
        return erased

    # ------------------------------------------------------------ sessions
    def _session_page_agents(
        self, conn: sqlite3.Connection, ids: Sequence[str]
    ) -> dict[str, list[str]]:
        agents: dict[str, list[str]] = {sid: [] for sid in ids}
        for part in w.chunks(list(ids)):
            rows = conn.execute(
                f"SELECT session_id, agent_id FROM session_agents WHERE session_id IN ({','.join('?' * len(part))})"
                " ORDER BY first_event_at, agent_id",
                list(part),
            )
            for sid, agent in rows:
                agents[sid].append(agent)
        return agents

    def get_session(self, session_id: str) -> SessionSummary:
        with translated(self.path):
            conn = self._read()
            row = conn.execute(
                f"SELECT {SESSION_COLUMNS} {_SESSION_FROM} WHERE s.id = ?", (session_id,)
            ).fetchone()
            if row is None or (self.team_id is not None and row[11] != self.team_id):
                raise NotFound(
                    f"session {session_id} not found; list sessions with `agentlog sessions list`"
                )
            return row_session(row, self._session_page_agents(conn, [session_id])[session_id])

    def list_sessions(self, query: SessionQuery) -> Page[SessionSummary]:
        limit = page_limit(query.limit)
        where, params = session_filters(query, self.team_id)
        after = session_after(query)
        if after:
            where.append(after[0])
            params.extend(after[1])
        sort = SESSION_SORT_SQL[query.sort]
        tie = session_tiebreak(query.sort)
        direction = "ASC" if query.order == "asc" else "DESC"
        sql = (
            f"SELECT {SESSION_COLUMNS}, {sort} {_SESSION_FROM}{where_sql(where)}"
            f" ORDER BY {sort} {direction}, {tie} {direction} LIMIT ?"
        )
        with translated(self.path):
            conn = self._read()
            rows = conn.execute(sql, [*params, limit + 1]).fetchall()
            more = len(rows) > limit
            rows = rows[:limit]
            agents = self._session_page_agents(conn, [r[1] for r in rows])
        items = [row_session(r, agents[r[1]]) for r in rows]
        cursor = encode_cursor(query.fingerprint(), [rows[-1][-1], rows[-1][1]]) if more else None
        return Page(items, cursor)

    def count_sessions(self, query: SessionQuery) -> int:
        where, params = session_filters(query, self.team_id)
        with translated(self.path):
            return (
                self._read()
                .execute(f"SELECT count(*) {_SESSION_FROM}{where_sql(where)}", params)
                .fetchone()[0]
            )

    # ------------------------------------------------------------ events
    def _event_where(self, query: EventQuery) -> tuple[list[str], list[Any]]:
        """Filters for `query`; checks its session is visible and the index is current."""
        if query.session_id is not None:
            self._require_session(query.session_id)
        tail = self._catch_up() if query.text is not None else None
        return event_filters(query, self.team_id, unindexed_from=tail)

    def _catch_up(self) -> int | None:
        """Index the backlog before a search; if that cannot happen now (read-only, or
        another process holds the write lock), the rid above which rows are unindexed."""
        if not self._db.read_only:
            with self._db.lock:
                writer = self._db.writer()
                # A search waits briefly for a busy writer, then matches the tail in Python.
                writer.execute("PRAGMA busy_timeout = 250")
                try:
                    self._index_all()
                    return None
                except DatabaseLocked:
                    pass
                finally:
                    writer.execute(f"PRAGMA busy_timeout = {self._db.busy_timeout_ms}")
        conn = self._read()
        mark = w.watermark(conn)
        top = conn.execute("SELECT max(rid) FROM events").fetchone()[0] or 0
        return mark if top > mark else None

    def _require_session(self, session_id: str) -> None:
        row = (
            self._read()
            .execute("SELECT team_id FROM sessions WHERE id = ?", (session_id,))
            .fetchone()
        )
        if row is None or (self.team_id is not None and row[0] != self.team_id):
            raise NotFound(
                f"session {session_id} not found; list sessions with `agentlog sessions list`"
            )

    def get_event(self, event_id: str) -> Event:
        sql = f"SELECT {EVENT_COLUMNS} FROM events e WHERE e.id = ?"
        params: list[Any] = [event_id]
        if self.team_id is not None:
            sql += " AND e.session_id IN (SELECT id FROM sessions WHERE team_id = ?)"
            params.append(self.team_id)
        with translated(self.path):
            row = self._read().execute(sql, params).fetchone()
        if row is None:
            raise NotFound(f"event {event_id} not found")
        return row_event(row)

    def list_events(self, query: EventQuery) -> Page[Event]:
        limit = page_limit(query.limit)
        match = fts_query(query.text) if query.text is not None else None
        if match is not None:
            return self._search_page(query, match, limit)
        with translated(self.path):
            where, params = self._event_where(query)
            after = event_after(query)
            if after:
                where.append(after[0])
                params.extend(after[1])
            direction = "ASC" if query.order == "asc" else "DESC"
            sql = (
                f"SELECT {EVENT_COLUMNS} FROM events e{where_sql(where)}"
                f" ORDER BY e.ts {direction}, e.id {direction} LIMIT ?"
            )
            rows = self._read().execute(sql, [*params, limit + 1]).fetchall()
        more = len(rows) > limit
        items = [row_event(r) for r in rows[:limit]]
        cursor = event_cursor(query, rows[limit - 1][2], rows[limit - 1][0]) if more else None
        return Page(items, cursor)

    def _search_page(self, query: EventQuery, match: str, limit: int) -> Page[Event]:
        """A full-text page, found without sorting every match (see `sqlite_search`)."""
        with translated(self.path):
            if query.session_id is not None:
                self._require_session(query.session_id)
            tail = self._catch_up()
            conn = self._read()
            where, params = event_filters(query, self.team_id, text=False)
            after = event_after(query)
            if after:
                where.append(after[0])
                params.extend(after[1])
            span = None
            if query.session_id is not None:
                span = conn.execute(
                    "SELECT first_rid, last_rid FROM session_stats WHERE session_id = ?",
                    (query.session_id,),
                ).fetchone()
                if span is None or span[0] is None:
                    return Page([], None)
            keys = search_keys(
                conn,
                match,
                where,
                params,
                desc=query.order == "desc",
                n=limit + 1,
                ts_range=ts_bounds(query),
                rid_span=span,
            )
            if tail is not None:
                keys = self._with_unindexed(conn, keys, query, where, params, tail, limit + 1)
            rows = conn.execute(
                f"SELECT {EVENT_COLUMNS}, e.rid FROM events e WHERE e.rid IN ({','.join('?' * len(keys))})",
                [k[2] for k in keys],
            ).fetchall()
        by_rid = {row[-1]: row for row in rows}
        items = [row_event(by_rid[k[2]]) for k in keys[:limit]]
        more = len(keys) > limit
        cursor = event_cursor(query, keys[limit - 1][0], keys[limit - 1][1]) if more else None
        return Page(items, cursor)

    @staticmethod
    def _with_unindexed(
        conn: sqlite3.Connection,
        keys: list[tuple[int, str, int]],
        query: EventQuery,
        where: list[str],
        params: list[Any],
        tail: int,
        n: int,
    ) -> list[tuple[int, str, int]]:
        """`keys` merged with the matching rows above the index watermark (matched in Python)."""
        direction = "DESC" if query.order == "desc" else "ASC"
        extra = conn.execute(
            "SELECT e.ts, e.id, e.rid FROM events e WHERE e.rid > ? AND agentlog_match(?, e.name, e.content)"
            f"{''.join(' AND ' + c for c in where)} ORDER BY e.ts {direction}, e.id {direction} LIMIT ?",
            [tail, query.text, *params, n],
        ).fetchall()
        merged = sorted([*keys, *extra], key=lambda k: (k[0], k[1]), reverse=query.order == "desc")
        return merged[:n]

    def count_events(self, query: EventQuery) -> int:
        with translated(self.path):
            if self.team_id is None and _only_text(query):
                # Counting postings never touches `events`: 10,000 matches in ~1 ms, not ~40.
                match = fts_query(query.text or "")
                if match is None:
                    return 0
                tail = self._catch_up()
                conn = self._read()
                if tail is None and not w.stale_rows(conn):
                    sql = "SELECT count(*) FROM events_fts WHERE events_fts MATCH ?"
                    return conn.execute(sql, (match,)).fetchone()[0]
            where, params = self._event_where(query)
            return (
                self._read()
                .execute(f"SELECT count(*) FROM events e{where_sql(where)}", params)
                .fetchone()[0]
            )

    def facets(self, query: EventQuery) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {"type": {}, "agent": {}, "status": {}}
        with translated(self.path):
            where, params = self._event_where(query)
            if not where:  # three covering-index scans beat one pass over every row
                conn = self._read()
                for key, column in (("type", "type"), ("agent", "agent_id"), ("status", "status")):
                    sql = f"SELECT {column}, count(*) FROM events GROUP BY {column}"
                    out[key] = {v: n for v, n in conn.execute(sql) if v is not None}
                return out
            rows = self._read().execute(
                "SELECT e.type, e.agent_id, e.status, count(*) FROM events e"
                f"{where_sql(where)} GROUP BY e.type, e.agent_id, e.status",
                params,
            )
            # One pass over the matches, split three ways here.
            for etype, agent, status, n in rows:
                out["type"][etype] = out["type"].get(etype, 0) + n
                if agent is not None:
                    out["agent"][agent] = out["agent"].get(agent, 0) + n
                out["status"][status] = out["status"].get(status, 0) + n
        return out

    def event_keys(self, query: EventQuery) -> list[tuple[int, str]]:
        with translated(self.path):
            where, params = self._event_where(query)
            direction = "ASC" if query.order == "asc" else "DESC"
            sql = f"SELECT e.ts, e.id FROM events e{where_sql(where)} ORDER BY e.ts {direction}, e.id {direction}"
            return [(ts, eid) for ts, eid in self._read().execute(sql, params)]

    def stats(self, query: EventQuery) -> StatsReport:
        # Two passes over the matching events (aggregates, then the timed ones), not one per figure.
        with translated(self.path):
            where, params = self._event_where(query)
            conn = self._read()
            base = f"FROM events e{where_sql(where)}"
            by_type: dict[str, int] = {}
            by_agent: dict[str, int] = {}
            events = errors = tin = tout = 0
            cost = 0.0
            for etype, agent, n, n_err, n_in, n_out, usd in conn.execute(
                "SELECT e.type, e.agent_id, count(*), sum(e.status = 'error' OR e.type = 'ERROR'),"
                " coalesce(sum(e.input_tokens), 0), coalesce(sum(e.output_tokens), 0),"
                f" coalesce(sum(e.cost_usd), 0.0) {base} GROUP BY e.type, e.agent_id",
                params,
            ):
                by_type[etype] = by_type.get(etype, 0) + n
                if agent is not None:
                    by_agent[agent] = by_agent.get(agent, 0) + n
                events += n
                errors += n_err
                tin += n_in
                tout += n_out
                cost += usd
            if query.session_id is not None:
                sessions = 1 if events else 0
            else:
                sessions = conn.execute(
                    f"SELECT count(DISTINCT e.session_id) {base}", params
                ).fetchone()[0]
            timed = conn.execute(
                f"SELECT e.rid, e.ts, e.id, e.type, e.name, e.duration_ms, e.status = 'error' {base}"
                f"{' AND' if where else ' WHERE'} e.duration_ms IS NOT NULL",
                params,
            ).fetchall()
            slow = heapq.nsmallest(10, timed, key=lambda r: (-r[5], r[1], r[2]))
            slow_rows = {
                row[-1]: row
                for row in conn.execute(
                    f"SELECT {EVENT_COLUMNS}, e.rid FROM events e WHERE e.rid IN ({','.join('?' * len(slow))})",
                    [r[0] for r in slow],
                )
            }
        tools = [(r[4], r[5], r[6]) for r in timed if r[4] is not None and r[3] in _TOOL_TYPES]
        models = [(r[4], r[5], r[6]) for r in timed if r[4] is not None and r[3] == "LLM_CALL"]
        return StatsReport(
            sessions=sessions,
            events=events,
            errors=errors,
            by_type=dict(sorted(by_type.items(), key=lambda kv: (-kv[1], kv[0]))),
            by_agent=dict(sorted(by_agent.items(), key=lambda kv: (-kv[1], kv[0]))),
            tools=profile(tools),
            models=profile(models),
            input_tokens=tin,
            output_tokens=tout,
            cost_usd=cost,
            slowest=[row_event(slow_rows[r[0]]) for r in slow],
        )

    def agents(self, since: datetime | None = None) -> list[AgentSummary]:
        sql = (
            "SELECT sa.agent_id, count(*), sum(sa.event_count), sum(sa.error_count),"
            " min(sa.first_event_at), max(sa.last_event_at) FROM session_agents sa"
        )
        where: list[str] = []
        params: list[Any] = []
        if self.team_id is not None:
            where.append("sa.session_id IN (SELECT id FROM sessions WHERE team_id = ?)")
            params.append(self.team_id)
        if since is not None:
            where.append("sa.last_event_at >= ?")
            params.append(to_us(since))
        sql += (
            where_sql(where)
            + " GROUP BY sa.agent_id ORDER BY max(sa.last_event_at) DESC, sa.agent_id"
        )
        with translated(self.path):
            rows = self._read().execute(sql, params).fetchall()
        return [
            AgentSummary(
                agent_id=agent,
                sessions=n_sessions,
                events=n_events,
                errors=n_errors,
                first_seen=from_us(first),
                last_seen=from_us(last),
            )
            for agent, n_sessions, n_events, n_errors, first, last in rows
        ]

    # ------------------------------------------------------------ admin
    def info(self) -> StoreInfo:
        sql = (
            "SELECT count(*), coalesce(sum(st.event_count), 0), min(st.first_event_at),"
            f" max(st.last_event_at) {_SESSION_FROM}"
        )
        params: list[Any] = []
        if self.team_id is not None:
            sql += " WHERE s.team_id = ?"
            params.append(self.team_id)
        with translated(self.path):
            conn = self._read()
            sessions, events, oldest, newest = conn.execute(sql, params).fetchone()
            pending = w.backlog(conn)
            stale = w.stale_rows(conn)
        return StoreInfo(
            url=self.url,
            backend=self.backend,
            schema_version=self.schema_version,
            sessions=sessions,
            events=events,
            size_bytes=self.size_bytes(),
            oldest_event_at=from_us(oldest) if oldest is not None else None,
            newest_event_at=from_us(newest) if newest is not None else None,
            extra={"path": str(self.path), "fts_pending": pending, "fts_stale": stale},
        )

    @property
    def schema_version(self) -> int:
        """The number of the newest migration applied to this file."""
        with translated(self.path):
            applied = self._applied(self._read(), None)
        return max((migration_number(n) for n in applied), default=0)

    def size_bytes(self) -> int:
        """The file plus its write-ahead log."""
        total = 0
        for suffix in ("", "-wal"):
            try:
                total += os.path.getsize(f"{self.path}{suffix}")
            except OSError:
                pass
        return total

    def check(self) -> list[str]:
        """Problems found by SQLite's integrity check, the FTS5 checks and the aggregates (empty = OK)."""
        problems: list[str] = []
        with translated(self.path):
            conn = self._read()
            for (line,) in conn.execute("PRAGMA integrity_check"):
                if line != "ok":
                    problems.append(f"integrity: {line}")
            if not self._db.read_only:
                with self._db.lock:
                    writer = self._db.writer()
                    for table in ("events_fts", "sessions_fts"):
                        try:
                            writer.execute(
                                f"INSERT INTO {table} ({table}) VALUES ('integrity-check')"
                            )
                        except sqlite3.DatabaseError as exc:
                            problems.append(f"full-text index {table}: {exc}")
            mismatched = conn.execute(
                "SELECT count(*) FROM session_stats st LEFT JOIN"
                " (SELECT session_id, count(*) AS n FROM events GROUP BY session_id) c"
                " ON c.session_id = st.session_id WHERE st.event_count != coalesce(c.n, 0)"
            ).fetchone()[0]
            if mismatched:
                problems.append(
                    f"aggregates: {mismatched} sessions' event counts disagree with their events"
                )
        return problems

    def vacuum(self) -> None:
        """Rebuild the full-text index if deletes left tombstones, merge it, compact the file."""
        with self._db.lock, translated(self.path):
            if w.stale_rows(self._db.writer()):
                with self._db.transaction() as conn:
                    w.reset_index(conn)
            self._index_all()
            writer = self._db.writer()
            writer.execute("INSERT INTO events_fts (events_fts) VALUES ('optimize')")
            writer.execute("INSERT INTO sessions_fts (sessions_fts) VALUES ('optimize')")
            writer.execute("VACUUM")
            writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def backup(self, dest_path: str | Path) -> Path:
        """A consistent copy of the whole store, taken online (writers keep going)."""
        dest = Path(dest_path).expanduser()
        if dest.exists():
            raise UsageError(f"{dest} already exists; choose a new file name for the backup")
        with translated(dest):
            dest.parent.mkdir(parents=True, exist_ok=True)
            target = sqlite3.connect(str(dest))
            try:
                with translated(self.path):
                    self._read().backup(target)
            finally:
                target.close()
        return dest


def _only_text(q: EventQuery) -> bool:
    """Whether `q` filters by full text and nothing else."""
    return q.text is not None and not (
        q.session_id
        or q.types
        or q.agents
        or q.names
        or q.status
        or q.since
        or q.until
        or q.metadata
        or q.parent_id
    )


def _as_session(item: Session | dict[str, Any]) -> Session:
    if isinstance(item, Session):
        return item
    try:
        return Session.model_validate(item)
    except ValidationError as exc:
        raise InvalidInput(f"session: {validation_message(exc)}") from None


__all__ = ["SQLiteStore"]
