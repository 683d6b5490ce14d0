"""Event reads of the PostgreSQL store: filtered pages, full-text pages, counts, facets, keys, stats.

A mixin of `PostgresStore` (every call borrows a pooled connection). A text
search first brings the full-text index up to date, so a flushed event is
always found.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from agentlog.errors import NotFound
from agentlog.model import Event, StatsReport
from agentlog.storage.base import EventQuery, Page, event_cursor, event_records_page
from agentlog.storage.postgres import search as fts
from agentlog.storage.postgres.conn import translated
from agentlog.storage.postgres.dialect import POSTGRES
from agentlog.storage.sql.filters import event_after, event_filters, page_limit, where_sql
from agentlog.storage.sql.rows import row_event
from agentlog.storage.sql.stats import Tally, fold_facets, slowest, timed_sql
from agentlog.storage.sql.teams import pick_team

EVENT_COLUMNS = POSTGRES.event_columns

# Every team key holding sessions, by a loose scan of session_stats' (team_id, session_id)
# key: one index probe per team, however many sessions each holds.
TEAMS_SQL = POSTGRES.every_team or ""


def _prepare(query: EventQuery) -> bool | None:
    """Never prepare a full-text query: psycopg prepares a statement after its 5th run,
    and PostgreSQL may then plan it once for any words. That generic plan read every
    posting of a common word (200 ms instead of 2 at 3,000,000 events); a plan made for
    each search's own words costs ~0.3 ms of planning, which pages are spared."""
    return False if query.text is not None else None


class PostgresEventReads:
    """The event-reading methods of `PostgresStore`."""

    team_id: str | None
    _pool: ConnectionPool
    _display: str
    _session_team: Callable[[psycopg.Connection, str], str]  # from SQLSessionReads

    @contextmanager
    def _conn(self) -> Iterator[psycopg.Connection]:
        """A pooled connection for one call; psycopg failures become one-line StoreErrors."""
        with translated(self._display), self._pool.connection() as conn:
            yield conn

    def _event_where(
        self, conn: psycopg.Connection, query: EventQuery
    ) -> tuple[list[str], list[Any]]:
        """Filters for `query`; checks its session is visible and the index is current.

        A query naming a session reads that session's team's events (the view's, or
        in an unscoped view the team holding the id).
        """
        teams = self._teams(conn, query)
        # Every index leads with team_id: one team is an equality (its order serves the
        # page), several (an unscoped view of a multi-team store) a list.
        team = teams[0] if len(teams) == 1 else None

        def filters(text: bool = True) -> tuple[list[str], list[Any]]:
            where, params = event_filters(POSTGRES, query, team, text=text)
            if team is None:
                where.append("e.team_id = ANY(%s)")
                params.append(teams)
            return where, params

        if query.text is None:
            return filters()
        fts.index_all(conn)
        rids = fts.few_matches(conn, query.text, teams)
        if rids is None:
            return filters()
        # Few matches: exactly those rows, by rid (the other filters still apply).
        where, params = filters(text=False)
        where.append("e.rid = ANY(%s)")
        params.append(rids)
        return where, params

    def _teams(self, conn: psycopg.Connection, query: EventQuery) -> list[str]:
        """The team keys `query` reads: the view's, its session's, or (unscoped) every team's."""
        if query.session_id is not None:
            return [self._session_team(conn, query.session_id)]
        if self.team_id is not None:
            return [self.team_id]
        return [r[0] for r in conn.execute(TEAMS_SQL).fetchall()] or [""]

    def flush_index(self) -> None:
        """Index every event written so far (a search does this itself first)."""
        with self._conn() as conn:
            fts.index_all(conn)

    def get_event(self, event_id: str) -> Event:
        sql = f"SELECT {EVENT_COLUMNS}, e.team_id FROM events e WHERE e.id = %s"
        params: list[Any] = [event_id]
        if self.team_id is not None:
            sql += " AND e.team_id = %s"
            params.append(self.team_id)
        else:
            # The key is (team_id, id, ts): name every team, so the lookup is one probe
            # of each team's part of each month's key instead of a scan of every event.
            sql += f" AND e.team_id = ANY(ARRAY({TEAMS_SQL}))"
        with self._conn() as conn:
            rows = {row[-1]: row for row in conn.execute(sql, params).fetchall()}
        team = pick_team(event_id, rows.keys(), "event")
        if team is None:
            raise NotFound(f"event {event_id} not found")
        return row_event(rows[team])

    def list_events(self, query: EventQuery) -> Page[Event]:
        limit = page_limit(query.limit)
        with self._conn() as conn:
            where, params = self._event_where(conn, query)
            after = event_after(query, "%s")
            if after:
                where.append(after[0])
                params.extend(after[1])
            direction = "ASC" if query.order == "asc" else "DESC"
            sql = (
                f"SELECT {EVENT_COLUMNS} FROM events e{where_sql(where)}"
                f" ORDER BY e.ts {direction}, e.id {direction} LIMIT %s"
            )
            rows = conn.execute(sql, [*params, limit + 1], prepare=_prepare(query)).fetchall()
        more = len(rows) > limit
        items = [row_event(r) for r in rows[:limit]]
        cursor = event_cursor(query, rows[limit - 1][2], rows[limit - 1][0]) if more else None
        return Page(items, cursor)

    def list_event_records(self, query: EventQuery) -> Page[dict[str, Any]]:
        return event_records_page(self.list_events(query))

    def count_events(self, query: EventQuery) -> int:
        with self._conn() as conn:
            where, params = self._event_where(conn, query)
            row = conn.execute(
                f"SELECT count(*) FROM events e{where_sql(where)}", params, prepare=_prepare(query)
            ).fetchone()
        return int(row[0]) if row else 0

    def facets(self, query: EventQuery) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {"type": {}, "agent": {}, "status": {}}
        with self._conn() as conn:
            where, params = self._event_where(conn, query)
            rows = conn.execute(
                "SELECT e.type, e.agent_id, e.status, count(*) FROM events e"
                f"{where_sql(where)} GROUP BY e.type, e.agent_id, e.status",
                params,
                prepare=_prepare(query),
            ).fetchall()
        fold_facets(rows, out)
        return out

    def event_keys(self, query: EventQuery) -> list[tuple[int, str]]:
        direction = "ASC" if query.order == "asc" else "DESC"
        with self._conn() as conn:
            where, params = self._event_where(conn, query)
            sql = (
                f"SELECT e.ts, e.id FROM events e{where_sql(where)}"
                f" ORDER BY e.ts {direction}, e.id {direction}"
            )
            rows = conn.execute(sql, params, prepare=_prepare(query)).fetchall()
            return [(ts, eid) for ts, eid in rows]

    def stats(self, query: EventQuery) -> StatsReport:
        tally = Tally()
        with self._conn() as conn:
            where, params = self._event_where(conn, query)
            base = f"FROM events e{where_sql(where)}"
            tally.add(
                conn.execute(
                    "SELECT e.type, e.agent_id, CASE WHEN e.type = 'LLM_CALL' THEN e.name END, count(*),"
                    " count(*) FILTER (WHERE e.status = 'error' OR e.type = 'ERROR'),"
                    " coalesce(sum(e.input_tokens), 0), coalesce(sum(e.output_tokens), 0),"
                    " coalesce(sum(e.cost_usd), 0.0), coalesce(sum(e.cache_read_tokens), 0),"
                    " coalesce(sum(e.cache_creation_tokens), 0),"
                    f" coalesce(sum(e.reasoning_tokens), 0) {base} GROUP BY 1, 2, 3",
                    params,
                ).fetchall()
            )
            if query.session_id is not None:
                sessions = 1 if tally.events else 0
            else:
                row = conn.execute(f"SELECT count(DISTINCT e.session_id) {base}", params).fetchone()
                sessions = int(row[0]) if row else 0
            timed = conn.execute(timed_sql(base, bool(where)), params).fetchall()
            slow = slowest(timed)
            slow_rows = {
                row[-1]: row
                for row in conn.execute(
                    f"SELECT {EVENT_COLUMNS}, e.rid FROM events e"
                    + where_sql([*where, "e.rid = ANY(%s)"]),
                    [*params, [r[0] for r in slow]],
                ).fetchall()
            }
        return tally.report(sessions, timed, [row_event(slow_rows[r[0]]) for r in slow])
