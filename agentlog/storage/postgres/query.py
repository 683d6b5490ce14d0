"""SQL for the PostgreSQL store's reads: query filters and keyset clauses in PostgreSQL's dialect.

Rows come back in the same column order as the SQLite store's, so
`sqlite/query.row_event` / `row_session` turn them into models (JSONB is read
as text and parsed with orjson). Pages are strictly keyset, never OFFSET.
"""

from __future__ import annotations

from typing import Any

from agentlog.model import EventStatus, EventType, SessionStatus, to_us
from agentlog.storage.base import EventQuery, SessionQuery
from agentlog.storage.postgres.search import query_phrases, tsquery_sql
from agentlog.storage.sqlite.query import event_after as _sqlite_event_after
from agentlog.storage.sqlite.query import where_sql

EVENT_COLUMNS = (
    "e.id, e.session_id, e.ts, e.type, e.agent_id, e.name, e.status, e.parent_id, e.duration_ms,"
    " e.input_tokens, e.output_tokens, e.cost_usd, e.metadata::text, e.content"
)

# Column 0 mirrors SQLite's rid slot; row_session never reads it.
SESSION_COLUMNS = (
    "0, s.id, s.title, s.description, s.status, s.parent_session_id, s.tags::text,"
    " s.metadata::text, s.created_at, s.updated_at, s.ended_at, s.team_id, s.created_by,"
    " st.event_count, st.error_count, st.first_event_at, st.last_event_at, st.input_tokens,"
    " st.output_tokens, st.cost_usd"
)

TEAM_EVENTS = "e.session_id IN (SELECT id FROM sessions WHERE team_id = %s)"


def event_filters(
    q: EventQuery, team_id: str | None, *, text: bool = True
) -> tuple[list[str], list[Any]]:
    """WHERE clauses (over `events e`) and parameters for every filter of `q` but the cursor."""
    where: list[str] = []
    params: list[Any] = []
    if q.session_id is not None:
        where.append("e.session_id = %s")
        params.append(q.session_id)
    if q.types:
        where.append("e.type = ANY(%s)")
        params.append([str(EventType.parse(t)) for t in q.types])
    if q.agents:
        where.append("e.agent_id = ANY(%s)")
        params.append(list(q.agents))
    if q.names:
        where.append("e.name = ANY(%s)")
        params.append(list(q.names))
    if q.status is not None:
        # A literal, so the partial index on errors can serve `status = 'error'`.
        where.append(f"e.status = '{EventStatus(q.status).value}'")
    if q.since is not None:
        where.append("e.ts >= %s")
        params.append(to_us(q.since))
    if q.until is not None:
        where.append("e.ts < %s")
        params.append(to_us(q.until))
    for key, value in sorted(q.metadata.items()):
        # JSON null reads as 'null' (as in SQLite's json_each); strings unquoted.
        where.append(
            "(CASE jsonb_typeof(e.metadata -> %s) WHEN 'null' THEN 'null'"
            " ELSE e.metadata ->> %s END) = %s"
        )
        params.extend([key, key, str(value)])
    if q.parent_id is not None:
        where.append("e.parent_id = %s")
        params.append(q.parent_id)
    if q.text is not None and text:
        phrases = query_phrases(q.text)
        if not phrases:
            where.append("false")  # no words to look for: nothing matches
        else:
            tsq, args = tsquery_sql(phrases)
            where.append(f"e.rid IN (SELECT f.rid FROM events_fts f WHERE f.tsv @@ {tsq})")
            params.extend(args)
    if team_id is not None:
        where.append(TEAM_EVENTS)
        params.append(team_id)
    return where, params


def event_after(q: EventQuery) -> tuple[str, list[Any]] | None:
    """The keyset clause placing the page after `q.cursor` (validated as SQLite does)."""
    return _sqlite_event_after(q, "%s")


def session_filters(q: SessionQuery, team_id: str | None) -> tuple[list[str], list[Any]]:
    """WHERE clauses (over `sessions s JOIN session_stats st`) for every filter of `q`."""
    where: list[str] = []
    params: list[Any] = []
    if q.status is not None:
        where.append("s.status = %s")
        params.append(SessionStatus(q.status).value)
    if q.tags:
        where.append("s.tags @> %s::jsonb")
        params.append(_json_array(list(q.tags)))
    if q.agent is not None:
        where.append(
            "EXISTS (SELECT 1 FROM session_agents sa WHERE sa.session_id = s.id AND sa.agent_id = %s)"
        )
        params.append(q.agent)
    if q.since is not None:
        where.append("st.activity_at >= %s")
        params.append(to_us(q.since))
    if q.until is not None:
        where.append("s.created_at < %s")
        params.append(to_us(q.until))
    if q.text is not None:
        phrases = query_phrases(q.text)
        if not phrases:
            where.append("false")
        else:
            tsq, args = tsquery_sql(phrases)
            where.append(f"s.search @@ {tsq}")
            params.extend(args)
    if q.parent_session_id is not None:
        where.append("s.parent_session_id = %s")
        params.append(q.parent_session_id)
    if team_id is not None:
        where.append("s.team_id = %s")
        params.append(team_id)
    return where, params


def _json_array(values: list[str]) -> str:
    import orjson

    return orjson.dumps(values).decode()


__all__ = [
    "EVENT_COLUMNS",
    "SESSION_COLUMNS",
    "event_after",
    "event_filters",
    "session_filters",
    "where_sql",
]
