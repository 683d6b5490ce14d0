"""Rows to models and back, for both SQL stores: events, export records, sessions.

Both backends select the same columns in the same order (each dialect's
`event_columns` / `session_columns`), so one converter serves both; JSON comes
back as text and is parsed with orjson.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import orjson

from agentlog.model import (
    EVENT_FIELDS,
    Event,
    EventStatus,
    EventType,
    Session,
    SessionStatus,
    SessionSummary,
    WriteResult,
    to_us,
    trusted_model,
)
from agentlog.storage.base import Store, ts_text_us, writes_rows

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TYPES = {t.value: t for t in EventType}
_STATUSES = {t.value: t for t in EventStatus}
_SUMMARY_FIELDS = frozenset(SessionSummary.model_fields)


def _time(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def _json(text: str | None, empty: Any) -> Any:
    return orjson.loads(text) if text and text != "{}" and text != "[]" else empty


def row_event(row: Sequence[Any]) -> Event:
    """An events row (a dialect's `event_columns` order) as an Event."""
    return trusted_model(
        Event,
        {
            "id": row[0],
            "session_id": row[1],
            "timestamp": _EPOCH + timedelta(microseconds=row[2]),
            "type": _TYPES[row[3]],
            "agent_id": row[4],
            "name": row[5],
            "content": row[13],
            "metadata": _json(row[12], {}),
            "parent_id": row[7],
            "duration_ms": row[8],
            "status": _STATUSES[row[6]],
            "input_tokens": row[9],
            "output_tokens": row[10],
            "cost_usd": row[11],
            "cache_read_tokens": row[14],
            "cache_creation_tokens": row[15],
            "reasoning_tokens": row[16],
        },
        EVENT_FIELDS,
    )


def _record(row: Sequence[Any], metadata: Any) -> dict[str, Any]:
    """An events row as its JSON-ready record, with `metadata` as given."""
    return {
        "id": row[0],
        "session_id": row[1],
        "timestamp": ts_text_us(row[2]),
        "type": row[3],
        "agent_id": row[4],
        "name": row[5],
        "content": row[13],
        "metadata": metadata,
        "parent_id": row[7],
        "duration_ms": row[8],
        "status": row[6],
        "input_tokens": row[9],
        "output_tokens": row[10],
        "cost_usd": row[11],
        "cache_read_tokens": row[14],
        "cache_creation_tokens": row[15],
        "reasoning_tokens": row[16],
    }


def row_record(row: Sequence[Any]) -> dict[str, Any]:
    """An events row (a dialect's `event_columns` order) as its JSON-ready record (`base.event_record`'s shape).

    Built straight from the row, with no Event or datetime in between: exports
    read every event this way (type and status are stored as their values).
    """
    return _record(row, _json(row[12], {}))


def event_end_us(ts_us: int, duration_ms: float | None) -> int:
    """When an event ended: its timestamp (its start) plus its duration."""
    return ts_us + int((duration_ms or 0) * 1000) if duration_ms and duration_ms > 0 else ts_us


def row_session(row: Sequence[Any], agents: list[str]) -> SessionSummary:
    """A row in a dialect's `session_columns` order, with its agents as a SessionSummary.

    The duration runs to the end of the last event to finish (an 840 ms LLM call alone
    lasts 840 ms), not to the last timestamp.
    """
    first, last = row[15], row[16]
    end = max(last, row[20] or last) if last is not None else None
    return trusted_model(
        SessionSummary,
        {
            "id": row[1],
            "title": row[2],
            "description": row[3],
            "status": SessionStatus(row[4]),
            "parent_session_id": row[5],
            "tags": _json(row[6], []),
            "metadata": _json(row[7], {}),
            "created_at": _time(row[8]),
            "updated_at": _time(row[9]),
            "ended_at": _time(row[10]) if row[10] is not None else None,
            "team_id": row[11] or None,  # a team key: '' is no team (sql/teams.py)
            "created_by": row[12],
            "event_count": row[13] or 0,
            "error_count": row[14] or 0,
            "agents": agents,
            "first_event_at": _time(first) if first is not None else None,
            "last_event_at": _time(last) if last is not None else None,
            "duration_ms": (end - first) / 1000 if first is not None and end is not None else None,
            "input_tokens": row[17] or 0,
            "output_tokens": row[18] or 0,
            "cost_usd": row[19] or 0.0,
            "cache_read_tokens": row[21] or 0,
            "cache_creation_tokens": row[22] or 0,
            "reasoning_tokens": row[23] or 0,
        },
        _SUMMARY_FIELDS,
    )


def session_row(s: Session) -> dict[str, Any]:
    """A Session as the column values of the `sessions` table (without rid/team stamps)."""
    return {
        "id": s.id,
        "title": s.title or "",
        "description": s.description or "",
        "status": SessionStatus(s.status).value,
        "parent_session_id": s.parent_session_id,
        "tags": orjson.dumps(list(s.tags)).decode(),
        "metadata": orjson.dumps(s.metadata, option=orjson.OPT_NON_STR_KEYS, default=str).decode(),
        "created_at": to_us(s.created_at),
        "updated_at": to_us(s.updated_at),
        "ended_at": to_us(s.ended_at) if s.ended_at is not None else None,
    }


_ONE_US = timedelta(microseconds=1)


def fast_us(dt: datetime) -> int:
    """`model.to_us` for the aware datetimes the model guarantees, in one C operation (3x faster)."""
    try:
        return (dt - _EPOCH) // _ONE_US
    except TypeError:  # naive: taken as UTC, as to_us does
        return to_us(dt)


# An event as the stores insert it, rid and team aside: `row_event`'s column order. The
# writes build these from Events (`event_values`), or trusted producers build them straight
# from values they checked themselves (`agentlog.rowcheck`) and call `Store.write_rows`.
ROW_ID, ROW_SESSION, ROW_TS, ROW_TYPE, ROW_AGENT, ROW_NAME, ROW_STATUS = 0, 1, 2, 3, 4, 5, 6
ROW_PARENT, ROW_DURATION, ROW_INPUT, ROW_OUTPUT, ROW_COST, ROW_METADATA = 7, 8, 9, 10, 11, 12
ROW_CONTENT, ROW_CACHE_READ, ROW_CACHE_CREATION, ROW_REASONING = 13, 14, 15, 16


GROUP_ROWS = 10_000
"""Rows a writer with many waiting (the SDK's, an import) hands a store that takes rows in
one call: a local store takes 10,000 rows in one transaction 10-15% faster than ten of
1,000 (`bench/bench_ingest.py`)."""


def event_values(e: Event) -> tuple[Any, ...]:
    """An Event as the stores' event columns (`row_event`'s order)."""
    return (
        e.id,
        e.session_id,
        fast_us(e.timestamp),
        str(e.type),
        e.agent_id,
        e.name,
        str(e.status),
        e.parent_id,
        e.duration_ms,
        e.input_tokens,
        e.output_tokens,
        e.cost_usd,
        orjson.dumps(e.metadata, option=orjson.OPT_NON_STR_KEYS, default=str).decode()
        if e.metadata
        else "{}",
        e.content,
        e.cache_read_tokens,
        e.cache_creation_tokens,
        e.reasoning_tokens,
    )


class _Document(msgspec.Struct, gc=False):
    """An events row as the API's JSON event (the fields in `_record`'s order)."""

    id: str
    session_id: str
    timestamp: str
    type: str
    agent_id: str | None
    name: str | None
    content: str | None
    metadata: msgspec.Raw
    parent_id: str | None
    duration_ms: float | None
    status: str
    input_tokens: int | None
    output_tokens: int | None
    cost_usd: float | None
    cache_read_tokens: int | None
    cache_creation_tokens: int | None
    reasoning_tokens: int | None


_encode_document = msgspec.json.Encoder().encode


def row_json(row: Sequence[Any]) -> bytes:
    """A checked event row as the API's JSON event, its metadata column spliced in as the
    JSON text it already is. msgspec, not `orjson.dumps` of `_record`: no dict on the way,
    and the SDK's writer builds a thousand ~1.5 KB documents at a time, where orjson's
    output buffers made glibc's heap grow and shrink each batch: 4.3 µs an event against
    1.5 (1.7 with glibc's trimming off; bench/RESULTS.md, issue 21, session 9)."""
    return _encode_document(
        _Document(
            row[0],
            row[1],
            ts_text_us(row[2]),
            row[3],
            row[4],
            row[5],
            row[13],
            msgspec.Raw(row[12]),
            row[7],
            row[8],
            row[6],
            row[9],
            row[10],
            row[11],
            row[14],
            row[15],
            row[16],
        )
    )


def write_rows_to(store: Store, sessions: Sequence[Session], rows: Sequence[Any]) -> WriteResult:
    """Checked event rows into `store`: as they are where it takes rows (`WritesRows`), else
    as the Events they hold. Errors index into `rows`."""
    row_store = writes_rows(store)
    if row_store is not None:
        return row_store.write_rows(sessions, rows)
    return store.write(sessions, [row_event(row) for row in rows])


def row_is_error(row: Sequence[Any]) -> bool:
    """`Event.is_error` of a row: status error, or an ERROR event."""
    return row[ROW_STATUS] == "error" or row[ROW_TYPE] == "ERROR"


def empty_session(session_id: str, created_us: int, updated_us: int) -> Session:
    """The untitled active session that events for an unknown session create."""
    return Session.model_construct(
        id=session_id,
        title="",
        description="",
        status=SessionStatus.ACTIVE,
        parent_session_id=None,
        tags=[],
        metadata={},
        created_at=_time(created_us),
        updated_at=_time(updated_us),
        ended_at=None,
        team_id=None,
        created_by=None,
    )


def missing_sessions(events: Sequence[Event], known: Container[str]) -> dict[str, Session]:
    """An untitled session per unknown session id in `events`, spanning its events' times."""
    return _spanning(((e.session_id, to_us(e.timestamp)) for e in events), known)


def missing_sessions_of_rows(
    rows: Sequence[Sequence[Any]], known: Container[str]
) -> dict[str, Session]:
    """`missing_sessions` for event rows (`event_values`' order)."""
    return _spanning(((r[ROW_SESSION], r[ROW_TS]) for r in rows), known)


def _spanning(times: Iterable[tuple[str, int]], known: Container[str]) -> dict[str, Session]:
    spans: dict[str, list[int]] = {}
    for sid, ts in times:
        if sid in known:
            continue
        span = spans.get(sid)
        if span is None:
            spans[sid] = [ts, ts]
        else:
            span[0] = min(span[0], ts)
            span[1] = max(span[1], ts)
    return {sid: empty_session(sid, first, last) for sid, (first, last) in spans.items()}
