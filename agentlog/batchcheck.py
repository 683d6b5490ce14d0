"""A request body of canonical events read into the stores' rows in one compiled pass (msgspec).

`POST /v1/events:batch` bodies almost always hold events in canonical form.
msgspec decodes such a body and checks types, lengths, bounds, the event type
and status and unknown fields in C while it parses, the ids are checked with
one regular expression over the whole batch (msgspec refuses a lone surrogate
and the body is searched for an escaped NUL, so the text rule never applies to
what passes), and `rowcheck` applies the checks
no schema can express (the time as the model reads it, metadata's depth and
size) while it builds each row. Like `rowcheck`, it accepts a subset of what
the model accepts: any doubt returns None and the route reads the body the
model's way, item by item, with the model's messages. msgspec earns its place
here: this pass costs about a third of validating each event with the model
(`bench/bench_ingest.py`, "validation").
"""

from __future__ import annotations

import re
import time
from typing import Annotated, Any

import msgspec

from agentlog.model import (
    MAX_AGENT_ID_CHARS,
    MAX_BATCH_EVENTS,
    MAX_COST_USD,
    MAX_DURATION_MS,
    MAX_NAME_CHARS,
    MAX_TOKENS,
    EventStatus,
    EventType,
    new_id,
)
from agentlog.rowcheck import SAFE_CONTENT_CHARS, Row, metadata_text, time_us

_Id = Annotated[str, msgspec.Meta(min_length=36, max_length=36)]  # the form: `_IDS` below
_Count = Annotated[int, msgspec.Meta(ge=0, le=MAX_TOKENS)]


class _Event(msgspec.Struct, forbid_unknown_fields=True):
    session_id: _Id
    type: EventType
    id: _Id | None = None
    timestamp: str | None = None
    agent_id: Annotated[str, msgspec.Meta(max_length=MAX_AGENT_ID_CHARS)] | None = None
    name: Annotated[str, msgspec.Meta(max_length=MAX_NAME_CHARS)] | None = None
    content: Annotated[str, msgspec.Meta(max_length=SAFE_CONTENT_CHARS)] | None = None
    metadata: dict[str, Any] | None = None
    parent_id: _Id | None = None
    duration_ms: Annotated[float, msgspec.Meta(ge=0, le=MAX_DURATION_MS)] | None = None
    status: EventStatus = EventStatus.OK
    input_tokens: _Count | None = None
    output_tokens: _Count | None = None
    cost_usd: Annotated[float, msgspec.Meta(ge=0, le=MAX_COST_USD)] | None = None
    cache_read_tokens: _Count | None = None
    cache_creation_tokens: _Count | None = None
    reasoning_tokens: _Count | None = None


class _Batch(msgspec.Struct, forbid_unknown_fields=True):
    sessions: list[dict[str, Any]] = []
    events: Annotated[list[_Event], msgspec.Meta(max_length=MAX_BATCH_EVENTS)] = []


_decode = msgspec.json.Decoder(_Batch).decode
_ID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_IDS = re.compile(f"(?:{_ID})*").fullmatch  # ids of 36 characters each, joined


def batch_rows(body: bytes) -> tuple[list[dict[str, Any]], list[Row]] | None:
    """(raw sessions, event rows) of a body whose events are all canonical and valid,
    or None when anything needs the model's exact path. An event without an id or a
    time gets them here, in order, as the model's defaults would."""
    if b"\\u0000" in body:  # NUL can only be escaped in JSON: the text rule applies
        return None
    try:
        batch = _decode(body)
    except msgspec.ValidationError:
        return None
    except msgspec.DecodeError:  # not JSON at all: the route says so in its own words
        return None
    events = batch.events
    ids = [e.session_id for e in events]
    ids += [e.id for e in events if e.id is not None]
    ids += [e.parent_id for e in events if e.parent_id is not None]
    if not _IDS("".join(ids)):
        return None
    rows: list[Row] = []
    for e in events:
        metadata = metadata_text(e.metadata)
        ts = time.time_ns() // 1000 if e.timestamp is None else time_us(e.timestamp)
        if metadata is None or ts is None:
            return None
        rows.append(
            (
                new_id() if e.id is None else e.id,
                e.session_id,
                ts,
                e.type.value,
                e.agent_id,
                e.name,
                e.status.value,
                e.parent_id,
                None if e.duration_ms is None else float(e.duration_ms),
                e.input_tokens,
                e.output_tokens,
                None if e.cost_usd is None else float(e.cost_usd),
                metadata,
                e.content,
                e.cache_read_tokens,
                e.cache_creation_tokens,
                e.reasoning_tokens,
            )
        )
    return batch.sessions, rows
