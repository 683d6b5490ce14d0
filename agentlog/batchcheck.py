"""A request body of canonical events read into the stores' rows in one compiled pass (msgspec).

`POST /v1/events:batch` bodies almost always hold events in canonical form.
msgspec decodes such a body and checks types, lengths, bounds, the event type
and status and unknown fields in C while it parses, the ids are checked with
a few passes over all of the batch's ids at once (msgspec refuses a lone surrogate
and the decoded texts are searched for NUL, so the text rule never applies to
what passes), and `rowcheck` applies the checks
no schema can express (the time as the model reads it, metadata's depth and
size) while it builds each row. Like `rowcheck`, it accepts a subset of what
the model accepts: any doubt returns None and the route reads the body the
model's way, item by item, with the model's messages. msgspec earns its place
here: this pass costs about a third of validating each event with the model
(`bench/bench_ingest.py`, "validation").
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from itertools import repeat
from operator import floordiv, sub
from typing import Annotated, Any, Literal

import msgspec

from agentlog.model import (
    MAX_AGENT_ID_CHARS,
    MAX_BATCH_EVENTS,
    MAX_COST_USD,
    MAX_DURATION_MS,
    MAX_NAME_CHARS,
    MAX_TOKENS,
    EventType,
    new_id,
)
from agentlog.rowcheck import MAX_US, SAFE_CONTENT_CHARS, Row, metadata_text, plain_text, time_us

_Id = Annotated[str, msgspec.Meta(min_length=36, max_length=36)]  # the form: `_IDS` below
_Count = Annotated[int, msgspec.Meta(ge=0, le=MAX_TOKENS)]
_TYPE_NAMES = tuple(t.value for t in EventType)


class _Event(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, gc=False):
    """An event in canonical form, its fields in the stores' column order (`astuple` is
    the row, but for the id, the time and the metadata)."""

    id: _Id | None = None
    session_id: _Id
    timestamp: str | None = None
    type: Literal[_TYPE_NAMES]  # type: ignore[valid-type]  # plain text, not the enum
    agent_id: Annotated[str, msgspec.Meta(max_length=MAX_AGENT_ID_CHARS)] | None = None
    name: Annotated[str, msgspec.Meta(max_length=MAX_NAME_CHARS)] | None = None
    status: Literal["ok", "error"] = "ok"
    parent_id: _Id | None = None
    duration_ms: Annotated[float, msgspec.Meta(ge=0, le=MAX_DURATION_MS)] | None = None
    input_tokens: _Count | None = None
    output_tokens: _Count | None = None
    cost_usd: Annotated[float, msgspec.Meta(ge=0, le=MAX_COST_USD)] | None = None
    metadata: dict[str, Any] | None = None
    content: Annotated[str, msgspec.Meta(max_length=SAFE_CONTENT_CHARS)] | None = None
    cache_read_tokens: _Count | None = None
    cache_creation_tokens: _Count | None = None
    reasoning_tokens: _Count | None = None


class _EventLine(_Event, forbid_unknown_fields=True, kw_only=True, gc=False):
    """An event line of an NDJSON export (`"kind": "event"`, or no kind at all)."""

    kind: Literal["event"] = "event"


class _Batch(msgspec.Struct, forbid_unknown_fields=True):
    sessions: list[dict[str, Any]] = []
    events: Annotated[list[_Event], msgspec.Meta(max_length=MAX_BATCH_EVENTS)] = []


_decode = msgspec.json.Decoder(_Batch).decode
_decode_line = msgspec.json.Decoder(_EventLine).decode
astuple = msgspec.structs.astuple
_convert = msgspec.convert
fromisoformat = datetime.fromisoformat
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_ID_TEXT = b"0123456789abcdef-"


def _canonical_ids(joined: str) -> bool:
    """Ids of 36 characters each (msgspec checked the lengths), joined: each is a lowercase
    hyphenated UUID, as `model.normalize_id` writes them. A few C-level passes over the
    text instead of a regular expression per id (a third of the cost)."""
    try:
        raw = joined.encode("ascii")
    except UnicodeEncodeError:
        return False
    count = len(raw) // 36
    return (
        len(raw) == 36 * count
        and raw.count(b"-") == 4 * count
        and all(not raw[at::36].strip(b"-") for at in (8, 13, 18, 23))
        and not raw.translate(None, _ID_TEXT)
    )


def _times(stamps: tuple[str | None, ...]) -> list[int] | None:
    """The events' times in microseconds (now, in order, for those without one), or None
    if any is not a time the model reads or is outside 1970..9999."""
    try:  # the common case, in C-level passes: every time given, with its offset
        deltas = map(sub, map(fromisoformat, stamps), repeat(_EPOCH))  # type: ignore[arg-type]
        times = list(map(floordiv, deltas, repeat(_ONE_US)))
    except (TypeError, ValueError, OverflowError):  # a time missing, naive (UTC) or odd
        times = []
        for stamp in stamps:
            us = time.time_ns() // 1000 if stamp is None else time_us(stamp)
            if us is None:
                return None
            times.append(us)
    if min(times) < 0 or max(times) > MAX_US:
        return None
    return times


def _rows(events: list[_Event], texts: str = "decoded") -> list[Row] | None:
    """The rows of decoded events, or None if any needs the model. Column by column, each
    in one C-level pass (map, zip, join), then back into rows. `texts`: "decoded" (JSON
    msgspec decoded, so no lone surrogate: a NUL is looked for here, in the joined texts,
    a sixth of the cost of looking for its escape in the body) or "any" (both looked for
    here). Metadata is checked for NUL either way (`metadata_text`)."""
    if not events:
        return []
    columns = list(zip(*map(astuple, events), strict=True))
    given_ids, session_ids, parent_ids = columns[0], columns[1], columns[7]
    if not _canonical_ids("".join(session_ids) + "".join(filter(None, given_ids + parent_ids))):
        return None
    if texts == "decoded":
        if "\x00" in "".join(filter(None, columns[4] + columns[5] + columns[13])):
            return None
    elif not all(plain_text(t) for t in columns[4] + columns[5] + columns[13] if t is not None):
        return None
    ids = given_ids if None not in given_ids else tuple(i or new_id() for i in given_ids)
    times = _times(columns[2])
    metadata = ["{}" if m is None else metadata_text(m) for m in columns[12]]
    if times is None or None in metadata:
        return None
    return list(
        zip(ids, session_ids, times, *columns[3:12], metadata, *columns[13:17], strict=True)
    )


def json_row(data: Any) -> Row | None:
    """The row of one event given as a parsed JSON object (a line of an export, an item of
    a request the batch pass doubted) in canonical form, or None when the model must
    decide. msgspec checks it in C (`msgspec.convert`); a missing id and time are made
    here, now, as the model's defaults would be."""
    try:
        event = _convert(data, _Event)
    except msgspec.ValidationError:
        return None
    rows = _rows([event], texts="any")
    return rows[0] if rows else None


def line_event(line: bytes) -> _Event | None:
    """An NDJSON event line of the current format decoded and type-checked in C (no dict on
    the way), or None for any other line or any doubt: the caller reads it the model's way.
    `event_rows` turns a run of them into rows (and looks for NUL in the decoded texts,
    far cheaper than in the line)."""
    try:
        return _decode_line(line)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    except RecursionError:  # msgspec nests as deep as Python's stack; the model's path refuses it
        return None


def event_rows(events: list[_Event]) -> list[Row] | None:
    """The rows of events `line_event` decoded, in one columnar pass, or None if any of them
    needs the model (then each is read again on its own)."""
    return _rows(events, texts="decoded")


def batch_rows(body: bytes) -> tuple[list[dict[str, Any]], list[Row]] | None:
    """(raw sessions, event rows) of a body whose events are all canonical and valid,
    or None when anything needs the model's exact path. An event without an id or a
    time gets them here, in order, as the model's defaults would."""
    try:
        batch = _decode(body)
    except msgspec.ValidationError:
        return None
    except msgspec.DecodeError:  # not JSON at all: the route says so in its own words
        return None
    except RecursionError:  # metadata nested past the stack: the model's path names the limit
        return None
    rows = _rows(batch.events)
    if rows is None:
        return None
    return batch.sessions, rows
