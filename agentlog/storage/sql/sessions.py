"""The session reads (and update rules) the SQLite and PostgreSQL stores share, written once.

`SQLSessionReads` holds `get_session`, `list_sessions` (keyset pages),
`count_sessions` and `agents`; a backend supplies its read connection
(`_reading`), its agents lookup (SQLite chunks an `IN` list, PostgreSQL binds
one array) and its `Dialect` (`sql/dialect.py`). Queries are f-strings already built per call, so the
placeholder costs nothing extra. `as_update` / `session_sets` are the rules of
`update_session`; each backend runs them in its own locked transaction.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

import orjson
from pydantic import ValidationError

from agentlog.errors import InvalidCursor, InvalidInput
from agentlog.model import (
    AgentSummary,
    BatchError,
    Event,
    Session,
    SessionSummary,
    SessionUpdate,
    from_us,
    to_us,
    utcnow,
    validation_message,
)
from agentlog.storage.base import (
    CHANGE_MARGIN_US,
    Page,
    SessionChanges,
    SessionQuery,
    change_since,
    change_token,
    decode_cursor,
    encode_cursor,
)
from agentlog.storage.sql.dialect import Dialect
from agentlog.storage.sql.filters import page_limit, session_filters, where_sql
from agentlog.storage.sql.rows import row_session
from agentlog.storage.sql.teams import not_found, pick_team
from agentlog.storage.tree import TreeTotals

SESSION_FROM = (
    "FROM sessions s JOIN session_stats st ON st.team_id = s.team_id AND st.session_id = s.id"
)

# A session's key: (team key, id); see `sql/teams.py`.
SessionKey = tuple[str, str]

# The value each session sort orders by; never NULL, so keyset comparisons hold.
SESSION_SORT_SQL: dict[str, str] = {
    "last_event_at": "st.activity_at",
    "created_at": "s.created_at",
    "updated_at": "s.updated_at",
    "title": "s.title",
    "event_count": "st.event_count",
    "error_count": "st.error_count",
    "duration_ms": "coalesce(st.last_end_at - st.first_event_at, -1)",
    "input_tokens": "st.input_tokens",
    "output_tokens": "st.output_tokens",
    "cost_usd": "st.cost_usd",
}

# A sqlite3 or psycopg connection: both have execute(sql, params).fetchone()/fetchall().
Conn = Any


def session_tiebreak(sort: str) -> str:
    """The id column to break ties with: the one in the same index as the sort column."""
    return "st.session_id" if "st." in SESSION_SORT_SQL[sort] else "s.id"


def session_after(q: SessionQuery, p: str = "?") -> tuple[str, list[Any]] | None:
    """The keyset clause placing the page after `q.cursor` (`p`: the placeholder), or None."""
    if not q.cursor:
        return None
    key = decode_cursor(q.cursor, q.fingerprint())
    if len(key) != 2 or not isinstance(key[1], str) or not isinstance(key[0], int | float | str):
        raise InvalidCursor(
            "the cursor is not valid; use the next_cursor value from the previous page"
        )
    op = ">" if q.order == "asc" else "<"
    clause = f"({SESSION_SORT_SQL[q.sort]}, {session_tiebreak(q.sort)}) {op} ({p}, {p})"
    return clause, [key[0], key[1]]


def split_events(
    events: Sequence[Event | dict[str, Any]], problem: Callable[[Event], str | None] | None = None
) -> tuple[list[tuple[int, Event]], list[BatchError]]:
    """A batch's valid events with their indexes, and an item error for every other one.

    Dicts are validated here; `problem` is a backend's own check of a valid event
    (PostgreSQL: NUL characters), returning the item's error message or None.
    """
    valid: list[tuple[int, Event]] = []
    errors: list[BatchError] = []
    for index, item in enumerate(events):
        try:
            event = item if isinstance(item, Event) else Event.model_validate(item)
        except ValidationError as exc:
            raw_id = item.get("id") if isinstance(item, dict) else None
            errors.append(
                BatchError(
                    index=index,
                    id=str(raw_id) if raw_id else None,
                    error=validation_message(exc),
                )
            )
            continue
        message = problem(event) if problem is not None else None
        if message is None:
            valid.append((index, event))
        else:
            errors.append(BatchError(index=index, id=event.id, error=message))
    return valid, errors


def as_session(item: Session | dict[str, Any]) -> Session:
    """`item` as a Session; a dict is validated (InvalidInput naming the field if not one)."""
    if isinstance(item, Session):
        return item
    try:
        return Session.model_validate(item)
    except ValidationError as exc:
        raise InvalidInput(f"session: {validation_message(exc)}") from None


def as_update(changes: SessionUpdate | dict[str, Any]) -> SessionUpdate:
    """`changes` as a SessionUpdate; a dict is validated (InvalidInput if it is not one)."""
    if isinstance(changes, SessionUpdate):
        return changes
    try:
        return SessionUpdate.model_validate(changes)
    except ValidationError as exc:
        raise InvalidInput(validation_message(exc)) from None


def session_sets(changes: SessionUpdate, ended: int | None) -> dict[str, Any]:
    """The `sessions` columns an update writes, given the stored `ended_at`.

    `updated_at` is always now; leaving the active status ends the session now
    unless it has ended already or the update gives `ended_at` itself.
    """
    given = changes.model_fields_set
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
    return sets


def tree_ids(conn: Conn, team: str, session_id: str, p: str = "?") -> list[str]:
    """`session_id` and every session of team `team` below it (children at any depth), the
    root first. UNION (not UNION ALL) keeps each id once, so a cycle of parent ids ends."""
    rows = conn.execute(
        f"WITH RECURSIVE tree(id) AS (SELECT id FROM sessions WHERE team_id = {p} AND id = {p}"
        " UNION SELECT s.id FROM sessions s JOIN tree t ON s.parent_session_id = t.id"
        f" WHERE s.team_id = {p}) SELECT id FROM tree",
        (team, session_id, team),
    ).fetchall()
    below = sorted(r[0] for r in rows if r[0] != session_id)
    return [session_id, *below]


def stamp_changed(conn: Conn, keys: Sequence[SessionKey], p: str = "?") -> None:
    """Mark these sessions changed now (inside the write's transaction): `changed_sessions` finds them."""
    by_team: dict[str, set[str]] = {}
    for team, sid in keys:
        by_team.setdefault(team, set()).add(sid)
    now = to_us(utcnow())
    for team in sorted(by_team):
        ids = sorted(by_team[team])
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            conn.execute(
                f"UPDATE session_stats SET changed_at = {p} WHERE team_id = {p}"
                f" AND session_id IN ({', '.join([p] * len(part))})",
                [now, team, *part],
            )


class SQLSessionReads(ABC):
    """The session-reading methods of both SQL stores; see the module docstring."""

    team_id: str | None
    _dialect: Dialect

    @abstractmethod
    def _reading(self) -> AbstractContextManager[Conn]:
        """A read connection for one call, with the backend's errors translated."""

    @abstractmethod
    def _agents_of(self, conn: Conn, keys: Sequence[SessionKey]) -> dict[SessionKey, list[str]]:
        """Each session of `keys` with its agents, in first-seen order."""

    def _view_team(
        self, conn: Conn, column: str = "s.team_id"
    ) -> tuple[str | None, list[str], list[Any]]:
        """The team an unscoped view filters by, or the clause naming its teams.

        A scoped view, or a backend whose indexes lead with ids, adds nothing here
        (`session_filters` takes `self.team_id`). Where every index leads with
        team_id (`Dialect.every_team`), an unscoped view names every team: one team
        (a local store) as an equality whose index order serves the page, several
        as a list.
        """
        every = self._dialect.every_team
        if self.team_id is not None or every is None:
            return self.team_id, [], []
        teams = [r[0] for r in conn.execute(every).fetchall()] or [""]
        if len(teams) == 1:
            return teams[0], [], []
        clause, args = self._dialect.member(column, teams)
        return None, [clause], args

    def _team_where(self, conn: Conn, column: str) -> tuple[list[str], list[Any]]:
        """`_view_team` as conditions on `column` (a joined table's team_id)."""
        team, where, params = self._view_team(conn, column)
        if team is not None:
            return [f"{column} = {self._dialect.p}"], [team]
        return where, params

    def _session_team(self, conn: Conn, session_id: str) -> str:
        """The team key of the session `session_id` this view sees (NotFound if none)."""
        p = self._dialect.p
        if self.team_id is not None:
            row = conn.execute(
                f"SELECT 1 FROM sessions WHERE id = {p} AND team_id = {p}",
                (session_id, self.team_id),
            ).fetchone()
            if row is None:
                raise not_found(session_id)
            return self.team_id
        sql = f"SELECT team_id FROM sessions s WHERE id = {p}"
        if self._dialect.every_team:
            sql += f" AND team_id = ANY(ARRAY({self._dialect.every_team}))"
        rows = conn.execute(sql, (session_id,))
        team = pick_team(session_id, {r[0] for r in rows.fetchall()})
        if team is None:
            raise not_found(session_id)
        return team

    def get_session(self, session_id: str) -> SessionSummary:
        p = self._dialect.p
        sql = f"SELECT {self._dialect.session_columns} {SESSION_FROM} WHERE s.id = {p}"
        params: list[Any] = [session_id]
        if self.team_id is not None:
            sql += f" AND s.team_id = {p}"
            params.append(self.team_id)
        elif self._dialect.every_team:
            sql += f" AND s.team_id = ANY(ARRAY({self._dialect.every_team}))"
        with self._reading() as conn:
            rows = {row[11]: row for row in conn.execute(sql, params).fetchall()}
            team = pick_team(session_id, rows.keys())
            if team is None:
                raise not_found(session_id)
            key = (team, session_id)
            return row_session(rows[team], self._agents_of(conn, [key])[key])

    def list_sessions(self, query: SessionQuery) -> Page[SessionSummary]:
        limit = page_limit(query.limit)
        d = self._dialect
        sort = SESSION_SORT_SQL[query.sort]
        tie = session_tiebreak(query.sort)
        direction = "ASC" if query.order == "asc" else "DESC"
        with self._reading() as conn:
            team, teams_where, teams_params = self._view_team(conn)
            where, params = session_filters(d, query, team)
            where += teams_where
            params += teams_params
            after = session_after(query, d.p)
            if after:
                where.append(after[0])
                params.extend(after[1])
            sql = (
                f"SELECT {d.session_columns}, {sort} {SESSION_FROM}{where_sql(where)}"
                f" ORDER BY {sort} {direction}, {tie} {direction} LIMIT {d.p}"
            )
            rows = conn.execute(sql, [*params, limit + 1]).fetchall()
            more = len(rows) > limit
            rows = rows[:limit]
            agents = self._agents_of(conn, [(r[11], r[1]) for r in rows])
        items = [row_session(r, agents[(r[11], r[1])]) for r in rows]
        cursor = encode_cursor(query.fingerprint(), [rows[-1][-1], rows[-1][1]]) if more else None
        return Page(items, cursor)

    def changed_sessions(self, since: str | None = None, limit: int = 200) -> SessionChanges:
        # The token is this store's clock when the call began (or a later change stamp, from
        # a writer whose clock runs ahead): the next call re-reads only CHANGE_MARGIN_US
        # before it, so an idle poll answers nothing instead of the last burst again.
        now = to_us(utcnow())
        if since is None:
            return SessionChanges([], change_token(now))
        after = change_since(since)
        limit = page_limit(limit)
        p = self._dialect.p
        where = ["s.team_id = st.team_id", "s.id = st.session_id", f"st.changed_at >= {p}"]
        params: list[Any] = [after - CHANGE_MARGIN_US]
        # session_stats first (CROSS JOIN fixes SQLite's join order): the changed_at index
        # finds the few changed rows instead of walking a team's every session.
        with self._reading() as conn:
            team_where, team_params = self._team_where(conn, "st.team_id")
            where += team_where
            params += team_params
            rows = conn.execute(
                f"SELECT {self._dialect.session_columns}, st.changed_at"
                f" FROM session_stats st CROSS JOIN sessions s{where_sql(where)}"
                f" ORDER BY st.changed_at DESC, st.session_id DESC LIMIT {p}",
                [*params, limit + 1],
            ).fetchall()
            more = len(rows) > limit
            rows = rows[:limit]
            agents = self._agents_of(conn, [(r[11], r[1]) for r in rows])
        newest = max([now, *(int(r[-1]) for r in rows)])
        return SessionChanges(
            [row_session(r, agents[(r[11], r[1])]) for r in rows], change_token(newest), more
        )

    def count_sessions(self, query: SessionQuery) -> int:
        with self._reading() as conn:
            team, teams_where, teams_params = self._view_team(conn)
            where, params = session_filters(self._dialect, query, team)
            row = conn.execute(
                f"SELECT count(*) {SESSION_FROM}{where_sql(where + teams_where)}",
                params + teams_params,
            ).fetchone()
        return int(row[0]) if row else 0

    def tree_totals(self, session_ids: Sequence[str]) -> dict[str, TreeTotals]:
        """Each session's tree summed (itself and every session below it), in one query: a
        recursive walk down `parent_session_id` within each root's team, over the summary
        rows. UNION (not UNION ALL) keeps each (root, session) once, so a cycle ends."""
        ids = list(dict.fromkeys(session_ids))
        if not ids:
            return {}
        d = self._dialect
        with self._reading() as conn:
            team_where, team_params = self._team_where(conn, "s.team_id")
            member, member_params = d.member("s.id", ids)
            rows = conn.execute(
                "WITH RECURSIVE tree(root, team_id, id) AS ("
                f"SELECT s.id, s.team_id, s.id FROM sessions s{where_sql([member, *team_where])}"
                " UNION SELECT t.root, s.team_id, s.id FROM tree t JOIN sessions s"
                " ON s.team_id = t.team_id AND s.parent_session_id = t.id)"
                " SELECT t.root, count(*), sum(st.event_count), sum(st.error_count),"
                " sum(st.input_tokens), sum(st.output_tokens), sum(st.cache_read_tokens),"
                " sum(st.cache_creation_tokens), sum(st.reasoning_tokens), sum(st.cost_usd)"
                " FROM tree t JOIN session_stats st"
                " ON st.team_id = t.team_id AND st.session_id = t.id GROUP BY t.root, t.team_id",
                [*member_params, *team_params],
            ).fetchall()
        # PostgreSQL's sum of bigints is numeric: int() makes both backends' counts ints.
        return {
            root: TreeTotals(
                sessions=int(n),
                events=int(events or 0),
                errors=int(errors or 0),
                input_tokens=int(tin or 0),
                output_tokens=int(tout or 0),
                cache_read_tokens=int(cread or 0),
                cache_creation_tokens=int(cmade or 0),
                reasoning_tokens=int(reason or 0),
                cost_usd=float(cost or 0.0),
                complete=True,
            )
            for root, n, events, errors, tin, tout, cread, cmade, reason, cost in rows
        }

    def agents(self, since: datetime | None = None) -> list[AgentSummary]:
        sql = (
            "SELECT sa.agent_id, count(*), sum(sa.event_count), sum(sa.error_count),"
            " min(sa.first_event_at), max(sa.last_event_at) FROM session_agents sa"
        )
        p = self._dialect.p
        where: list[str] = []
        params: list[Any] = []
        if since is not None:
            where.append(f"sa.last_event_at >= {p}")
            params.append(to_us(since))
        with self._reading() as conn:
            team_where, team_params = self._team_where(conn, "sa.team_id")
            sql += (
                where_sql(team_where + where)
                + " GROUP BY sa.agent_id ORDER BY max(sa.last_event_at) DESC, sa.agent_id"
            )
            rows = conn.execute(sql, team_params + params).fetchall()
        return [
            # PostgreSQL's sum of bigints is numeric: int() makes both backends' counts ints.
            AgentSummary(
                agent_id=agent,
                sessions=n_sessions,
                events=int(n_events),
                errors=int(n_errors),
                first_seen=from_us(first),
                last_seen=from_us(last),
            )
            for agent, n_sessions, n_events, n_errors, first, last in rows
        ]
