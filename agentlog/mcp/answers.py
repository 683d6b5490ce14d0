"""What `agentlog mcp serve` answers: read-only queries over a Store as JSON-ready, size-capped dicts.

Each function is one tool of the MCP server (see `serve.py`, which only wires
them to the protocol). Answers are paged by the Store's keyset cursors and cut
to `MAX_ANSWER_BYTES`: when a page would be larger, it ends early with a cursor
to the rest, so an assistant never gets an answer that floods its context.
Event content is clipped per event (`content_chars`); `get_event` gives one
event's content in full up to the same cap.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

import orjson

from agentlog.cli.resolve import resolve_session_id
from agentlog.compare import align
from agentlog.errors import UsageError
from agentlog.model import (
    Event,
    EventStatus,
    EventType,
    SessionStatus,
    SessionSummary,
    format_ts,
    to_us,
)
from agentlog.storage.base import EventQuery, SessionQuery, Store, event_cursor, iter_events
from agentlog.timeparse import parse_time

MAX_ANSWER_BYTES = 64 * 1024  # one tool answer, as JSON
MAX_LIMIT = 200  # items per page
DEFAULT_CONTENT_CHARS = 500
MAX_COMPARE_EVENTS = 2000  # steps aligned per side by compare_sessions


def _size(value: Any) -> int:
    return len(orjson.dumps(value, default=str))


def _clip(text: str | None, chars: int) -> tuple[str | None, bool]:
    if text is None or len(text) <= chars:
        return text, False
    return text[:chars], True


def _limit(limit: int) -> int:
    return max(1, min(int(limit), MAX_LIMIT))


def _time(value: str | None, option: str) -> Any:
    return parse_time(value, option) if value else None


def _types(types: list[str] | None) -> list[EventType] | None:
    if not types:
        return None
    try:
        return [EventType.parse(t) for t in types]
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def session_record(s: SessionSummary, *, metadata: bool = False) -> dict[str, Any]:
    """A session as an assistant needs it (metadata only when asked: it can be large)."""
    out: dict[str, Any] = {
        "id": s.id,
        "title": s.title,
        "status": str(s.status),
        "tags": s.tags,
        "agents": s.agents,
        "events": s.event_count,
        "errors": s.error_count,
        "created_at": format_ts(s.created_at),
        "last_event_at": format_ts(s.last_event_at) if s.last_event_at else None,
        "duration_ms": s.duration_ms,
        "input_tokens": s.input_tokens,
        "output_tokens": s.output_tokens,
        "cost_usd": s.cost_usd,
    }
    if s.parent_session_id:
        out["parent_session_id"] = s.parent_session_id
    if metadata:
        out["description"] = s.description
        out["metadata"] = s.metadata
    return out


def event_record(e: Event, content_chars: int = DEFAULT_CONTENT_CHARS) -> dict[str, Any]:
    """An event with its content clipped to `content_chars` characters (`content_clipped` says so)."""
    content, clipped = _clip(e.content, max(0, content_chars))
    out: dict[str, Any] = {
        "id": e.id,
        "session_id": e.session_id,
        "timestamp": format_ts(e.timestamp),
        "type": str(e.type),
        "name": e.name,
        "agent": e.agent_id,
        "status": str(e.status),
        "content": content,
    }
    if clipped:
        out["content_clipped"] = True
        out["content_chars"] = len(e.content or "")
    for key in ("parent_id", "duration_ms", "input_tokens", "output_tokens", "cost_usd"):
        value = getattr(e, key)
        if value is not None:
            out[key] = value
    if e.metadata:
        out["metadata"] = e.metadata
    return out


def _page(
    items: list[dict[str, Any]], next_cursor: str | None, cut_cursor: Any, key: str
) -> dict[str, Any]:
    """Items cut to the answer cap; a cut page's cursor continues after its last item."""
    kept: list[dict[str, Any]] = []
    used = 200
    for index, item in enumerate(items):
        size = _size(item)
        if kept and used + size > MAX_ANSWER_BYTES:
            return {key: kept, "next_cursor": cut_cursor(index - 1), "truncated": True}
        if not kept and size > MAX_ANSWER_BYTES:  # one huge item: send it without content
            item = dict(item, content=None, content_clipped=True)
        kept.append(item)
        used += min(size, MAX_ANSWER_BYTES)
    return {key: kept, "next_cursor": next_cursor}


def list_sessions(
    store: Store,
    *,
    text: str | None = None,
    status: str | None = None,
    tag: str | None = None,
    agent: str | None = None,
    since: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Sessions, most recently active first."""
    try:
        state = SessionStatus(status) if status else None
    except ValueError:
        raise UsageError(f"status must be active, completed or failed, not {status!r}") from None
    query = SessionQuery(
        status=state,
        tags=[tag] if tag else None,
        agent=agent,
        since=_time(since, "since"),
        text=text,
        limit=_limit(limit),
        cursor=cursor,
    )
    page = store.list_sessions(query)
    return {
        "sessions": [session_record(s) for s in page.items],
        "next_cursor": page.next_cursor,
    }


def get_session(store: Store, session: str) -> dict[str, Any]:
    """One session (id, unique prefix or `latest`) with its metadata and event counts by type."""
    sid = resolve_session_id(store, session)
    record = session_record(store.get_session(sid), metadata=True)
    facets = store.facets(EventQuery(session_id=sid))
    record["by_type"] = facets.get("type", {})
    record["by_status"] = facets.get("status", {})
    if _size(record) > MAX_ANSWER_BYTES:
        record["metadata"] = {"note": "metadata too large to show here"}
    return record


def _event_query(
    store: Store,
    *,
    session: str | None,
    types: list[str] | None,
    name: str | None,
    status: str | None,
    text: str | None,
    since: str | None,
    until: str | None,
    order: str,
    limit: int,
    cursor: str | None,
) -> EventQuery:
    if status not in (None, "ok", "error"):
        raise UsageError(f"status must be ok or error, not {status!r}")
    if order not in ("asc", "desc"):
        raise UsageError(f"order must be asc or desc, not {order!r}")
    return EventQuery(
        session_id=resolve_session_id(store, session) if session else None,
        types=_types(types),
        names=[name] if name else None,
        status=EventStatus(status) if status else None,
        text=text or None,
        since=_time(since, "since"),
        until=_time(until, "until"),
        order=order,  # type: ignore[arg-type]  # checked just above
        limit=_limit(limit),
        cursor=cursor,
    )


def _events_page(store: Store, query: EventQuery, content_chars: int) -> dict[str, Any]:
    page = store.list_events(query)
    events = page.items

    def cut(last: int) -> str:
        event = events[last]
        return event_cursor(replace(query, cursor=None), to_us(event.timestamp), event.id)

    items = [event_record(e, content_chars) for e in events]
    return _page(items, page.next_cursor, cut, "events")


def list_events(
    store: Store,
    session: str,
    *,
    types: list[str] | None = None,
    name: str | None = None,
    status: str | None = None,
    text: str | None = None,
    since: str | None = None,
    until: str | None = None,
    order: str = "asc",
    limit: int = 50,
    cursor: str | None = None,
    content_chars: int = DEFAULT_CONTENT_CHARS,
) -> dict[str, Any]:
    """A session's events in time order, filtered."""
    query = _event_query(
        store,
        session=session,
        types=types,
        name=name,
        status=status,
        text=text,
        since=since,
        until=until,
        order=order,
        limit=limit,
        cursor=cursor,
    )
    return _events_page(store, query, content_chars)


def search_events(
    store: Store,
    text: str,
    *,
    session: str | None = None,
    types: list[str] | None = None,
    status: str | None = None,
    since: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
    content_chars: int = DEFAULT_CONTENT_CHARS,
) -> dict[str, Any]:
    """Full-text search over every session's events, newest first."""
    if not text.strip():
        raise UsageError("give some text to search for")
    query = _event_query(
        store,
        session=session,
        types=types,
        name=None,
        status=status,
        text=text,
        since=since,
        until=None,
        order="desc",
        limit=limit,
        cursor=cursor,
    )
    return _events_page(store, query, content_chars)


def get_event(store: Store, event_id: str) -> dict[str, Any]:
    """One event with as much of its content as fits in one answer."""
    record = event_record(store.get_event(event_id), MAX_ANSWER_BYTES // 2)
    return record


def stats(store: Store, *, session: str | None = None, since: str | None = None) -> dict[str, Any]:
    """Counts, error rate, tokens, cost and the slowest tools and models (a session or everything)."""
    query = EventQuery(
        session_id=resolve_session_id(store, session) if session else None,
        since=_time(since, "since"),
    )
    report = store.stats(query)
    out = report.to_json_dict()
    out["error_rate"] = report.error_rate
    out["slowest"] = [event_record(e, 200) for e in report.slowest[:10]]
    return out


def compare_sessions(store: Store, a: str, b: str) -> dict[str, Any]:
    """Two sessions side by side: totals, tool use, and the first step where they diverge."""
    ids = [resolve_session_id(store, a), resolve_session_id(store, b)]
    sides = []
    for sid in ids:
        events: list[Event] = []
        for event in iter_events(store, EventQuery(session_id=sid)):
            if len(events) == MAX_COMPARE_EVENTS:
                break
            events.append(event)
        sides.append((store.get_session(sid), events))
    rows, first = align(sides[0][1], sides[1][1])
    out: dict[str, Any] = {"a": session_record(sides[0][0]), "b": session_record(sides[1][0])}
    for label, (_, events) in zip(("a", "b"), sides, strict=True):
        tools = Counter(e.name or "" for e in events if e.type is EventType.TOOL_CALL)
        out[label]["tools"] = dict(tools.most_common(50))
        out[label]["by_type"] = dict(Counter(str(e.type) for e in events))
        out[label]["steps_compared"] = len(events)
    out["same_steps"] = sum(1 for r in rows if r.same)
    out["different_steps"] = sum(1 for r in rows if not r.same)
    if first is not None:
        window = rows[first : first + 5]
        out["first_divergence"] = {
            "step": first,
            "rows": [
                {
                    "a": event_record(r.a, 300) if r.a else None,
                    "b": event_record(r.b, 300) if r.b else None,
                }
                for r in window
            ],
        }
    else:
        out["first_divergence"] = None
    return out
