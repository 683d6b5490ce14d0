"""Event reads of the SQLite store: filtered pages, full-text pages, counts, facets, keys, stats.

A mixin of `SQLiteStore` (it reads through the store's per-thread connections);
a search first brings the index up to date through `sqlite/fts.py` and leaves
the page to `sqlite/search.py`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentlog.errors import NotFound
from agentlog.model import Event, StatsReport
from agentlog.storage.base import EventQuery, Page, event_cursor
from agentlog.storage.sql.filters import event_after, event_filters, page_limit, where_sql
from agentlog.storage.sql.rows import row_event, row_record
from agentlog.storage.sql.stats import Tally, fold_facets, slowest, timed_sql
from agentlog.storage.sql.teams import pick_team
from agentlog.storage.sql.textsearch import fts_query
from agentlog.storage.sqlite import fts
from agentlog.storage.sqlite.conn import Connections, translated
from agentlog.storage.sqlite.dialect import SQLITE
from agentlog.storage.sqlite.search import search_page

EVENT_COLUMNS = SQLITE.event_columns


class EventReads:
    """The event-reading methods of `SQLiteStore`."""

    path: Path
    team_id: str | None
    _db: Connections
    _session_team: Callable[[sqlite3.Connection, str], str]  # from SQLSessionReads

    def _event_where(self, query: EventQuery) -> tuple[list[str], list[Any]]:
        """Filters for `query`; checks its session is visible and the index is current."""
        team = self._query_team(query)
        tail = self._catch_up() if query.text is not None else None
        return event_filters(SQLITE, query, team, unindexed_from=tail)

    def _query_team(self, query: EventQuery) -> str | None:
        """The team key `query`'s events are in: its session's when it names one, else the view's."""
        if query.session_id is not None:
            return self._require_session(query.session_id)
        return self.team_id

    def _catch_up(self) -> int | None:
        """Bring the full-text index up to date for a search (`sqlite/fts.py`)."""
        return fts.catch_up(self._db)

    def _require_session(self, session_id: str) -> str:
        """The team key of the session `session_id` this view sees (NotFound if none)."""
        return self._session_team(self._read(), session_id)

    def get_event(self, event_id: str) -> Event:
        sql = f"SELECT {EVENT_COLUMNS}, e.team_id FROM events e WHERE e.id = ?"
        params: list[Any] = [event_id]
        if self.team_id is not None:
            sql += " AND e.team_id = ?"
            params.append(self.team_id)
        with translated(self.path):
            rows = {row[-1]: row for row in self._read().execute(sql, params).fetchall()}
        team = pick_team(event_id, rows.keys(), "event")
        if team is None:
            raise NotFound(f"event {event_id} not found")
        return row_event(rows[team])

    def list_events(self, query: EventQuery) -> Page[Event]:
        rows, cursor = self._event_rows(query)
        return Page([row_event(r) for r in rows], cursor)

    def list_event_records(self, query: EventQuery) -> Page[dict[str, Any]]:
        rows, cursor = self._event_rows(query)
        return Page([row_record(r) for r in rows], cursor)

    def _event_rows(self, query: EventQuery) -> tuple[list[Any], str | None]:
        """One page of `query` as rows in EVENT_COLUMNS order, and the next page's cursor."""
        limit = page_limit(query.limit)
        match = fts_query(query.text) if query.text is not None else None
        if match is not None:
            return self._search_rows(query, match, limit)
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
        cursor = event_cursor(query, rows[limit - 1][2], rows[limit - 1][0]) if more else None
        return rows[:limit] if more else rows, cursor

    def _search_rows(
        self, query: EventQuery, match: str, limit: int
    ) -> tuple[list[Any], str | None]:
        """A full-text page of `query` (planned by `sqlite/search.py`)."""
        with translated(self.path):
            team = self._query_team(query)
            tail = self._catch_up()
            return search_page(self._read(), query, match, team, limit, unindexed_from=tail)

    def count_events(self, query: EventQuery) -> int:
        with translated(self.path):
            if self.team_id is None and _only_text(query):
                # Counting postings never touches `events`: 10,000 matches in ~1 ms, not ~40.
                match = fts_query(query.text or "")
                if match is None:
                    return 0
                tail = self._catch_up()
                conn = self._read()
                if tail is None and not fts.stale_rows(conn):
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
            fold_facets(rows, out)  # one pass over the matches, split three ways
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
            tally = Tally()
            tally.add(
                conn.execute(
                    "SELECT e.type, e.agent_id, CASE WHEN e.type = 'LLM_CALL' THEN e.name END, count(*), sum(e.status = 'error' OR e.type = 'ERROR'),"
                    " coalesce(sum(e.input_tokens), 0), coalesce(sum(e.output_tokens), 0),"
                    " coalesce(sum(e.cost_usd), 0.0), coalesce(sum(e.cache_read_tokens), 0),"
                    " coalesce(sum(e.cache_creation_tokens), 0),"
                    f" coalesce(sum(e.reasoning_tokens), 0) {base} GROUP BY 1, 2, 3",
                    params,
                )
            )
            if query.session_id is not None:
                sessions = 1 if tally.events else 0
            else:
                sessions = conn.execute(
                    f"SELECT count(DISTINCT e.session_id) {base}", params
                ).fetchone()[0]
            timed = conn.execute(timed_sql(base, bool(where)), params).fetchall()
            slow = slowest(timed)
            slow_rows = {
                row[-1]: row
                for row in conn.execute(
                    f"SELECT {EVENT_COLUMNS}, e.rid FROM events e WHERE e.rid IN ({','.join('?' * len(slow))})",
                    [r[0] for r in slow],
                )
            }
        return tally.report(sessions, timed, [row_event(slow_rows[r[0]]) for r in slow])

    def _read(self) -> sqlite3.Connection:
        return self._db.reader()


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
