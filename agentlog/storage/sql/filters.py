"""Every query filter of both SQL stores, written once over a `Dialect`, and the keyset clauses.

Pages are strictly keyset: events on (ts, id), sessions on (sort value, id),
with the position carried by an opaque cursor bound to its query
(`base.encode_cursor`). Never OFFSET, so a page costs the same at any depth.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agentlog.errors import InvalidCursor
from agentlog.model import EventStatus, EventType, SessionStatus, to_us
from agentlog.storage.base import MAX_PAGE, EventQuery, SessionQuery, decode_cursor
from agentlog.storage.sql.dialect import Dialect


def page_limit(limit: int) -> int:
    return max(1, min(int(limit), MAX_PAGE))


def where_sql(clauses: Sequence[str]) -> str:
    return " WHERE " + " AND ".join(clauses) if clauses else ""


def event_filters(
    d: Dialect,
    q: EventQuery,
    team_id: str | None,
    *,
    text: bool = True,
    unindexed_from: int | None = None,
) -> tuple[list[str], list[Any]]:
    """WHERE clauses (over `events e`) and parameters for every filter of `q` but the cursor.

    `text=False` leaves out the full-text filter (for `sqlite/search.py`, which drives from it);
    `unindexed_from` is the rid above which rows are not yet indexed (see `Dialect.event_text`).
    """
    p = d.p
    where: list[str] = []
    params: list[Any] = []

    def add(clause: tuple[str, list[Any]]) -> None:
        where.append(clause[0])
        params.extend(clause[1])

    if q.session_id is not None:
        add((f"e.session_id = {p}", [q.session_id]))
    if q.types:
        add(d.member("e.type", [str(EventType.parse(t)) for t in q.types]))
    if q.agents:
        add(d.member("e.agent_id", list(q.agents)))
    if q.names:
        add(d.member("e.name", list(q.names)))
    if q.status is not None:
        # A literal, so the partial index on errors can serve `status = 'error'`.
        where.append(f"e.status = '{EventStatus(q.status).value}'")
    if q.since is not None:
        add((f"e.ts >= {p}", [to_us(q.since)]))
    if q.until is not None:
        add((f"e.ts < {p}", [to_us(q.until)]))
    for key, value in sorted(q.metadata.items()):
        add(d.meta_equals("e.metadata", key, str(value)))
    if q.parent_id is not None:
        add((f"e.parent_id = {p}", [q.parent_id]))
    if q.text is not None and text:
        add(d.event_text(q.text, unindexed_from))
    if team_id is not None:
        add((f"e.team_id = {p}", [team_id]))
    return where, params


def session_filters(
    d: Dialect, q: SessionQuery, team_id: str | None
) -> tuple[list[str], list[Any]]:
    """WHERE clauses (over `sessions s JOIN session_stats st`) for every filter of `q`."""
    p = d.p
    where: list[str] = []
    params: list[Any] = []

    def add(clause: tuple[str, list[Any]]) -> None:
        where.append(clause[0])
        params.extend(clause[1])

    if q.status is not None:
        add((f"s.status = {p}", [SessionStatus(q.status).value]))
    if q.tags:
        add(d.tags_contain("s.tags", list(q.tags)))
    if q.agent is not None:
        add(
            (
                "EXISTS (SELECT 1 FROM session_agents sa"
                f" WHERE sa.team_id = s.team_id AND sa.session_id = s.id AND sa.agent_id = {p})",
                [q.agent],
            )
        )
    if q.since is not None:
        add((f"st.activity_at >= {p}", [to_us(q.since)]))
    if q.until is not None:
        add((f"s.created_at < {p}", [to_us(q.until)]))
    if q.text is not None:
        add(d.session_text(q.text))
    if q.parent_session_id is not None:
        add((f"s.parent_session_id = {p}", [q.parent_session_id]))
    if q.replay_of is not None:
        add(d.meta_equals("s.metadata", "replay_of", q.replay_of))
    if team_id is not None:
        add((f"s.team_id = {p}", [team_id]))
    return where, params


def event_after(q: EventQuery, p: str = "?") -> tuple[str, list[Any]] | None:
    """The keyset clause placing the page after `q.cursor` (`p`: the placeholder), or None."""
    if not q.cursor:
        return None
    key = decode_cursor(q.cursor, q.fingerprint())
    if len(key) != 2 or not isinstance(key[0], int) or not isinstance(key[1], str):
        raise InvalidCursor(
            "the cursor is not valid; use the next_cursor value from the previous page"
        )
    op = ">" if q.order == "asc" else "<"
    return f"(e.ts, e.id) {op} ({p}, {p})", [key[0], key[1]]


def ts_bounds(q: EventQuery) -> tuple[int | None, int | None]:
    """Inclusive (low, high) timestamps any event on `q`'s page can have (None = open)."""
    low = to_us(q.since) if q.since is not None else None
    high = to_us(q.until) - 1 if q.until is not None else None
    after = event_after(q)
    if after is not None:
        cursor_ts = after[1][0]
        if q.order == "asc":
            low = cursor_ts if low is None else max(low, cursor_ts)
        else:
            high = cursor_ts if high is None else min(high, cursor_ts)
    return low, high
