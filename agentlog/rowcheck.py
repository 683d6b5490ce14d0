"""Events straight into the stores' row form, checked by plain comparisons against the model's limits.

The SDK's writer holds values that are almost always valid and canonical.
`sdk_row` checks its queued tuple against every limit of `Event` and gives the
row `Store.write_rows` inserts (`storage.sql.rows.event_values`' order): no Event, no pydantic, and the
metadata dumped once for both its size check and its column. They accept a
subset of what the model accepts, never more: on anything else (a value in
another spelling, text to repair, a limit to report) they return None and the
caller builds the model, so every value stored and every error message stays
the model's (`tests/test_rowcheck.py` holds them to that). JSON input (a request,
an export) goes through `batchcheck` instead, checked in C by msgspec, with the
time and metadata rules from here.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import orjson

from agentlog.model import (
    MAX_AGENT_ID_CHARS,
    MAX_CONTENT_BYTES,
    MAX_COST_USD,
    MAX_DURATION_MS,
    MAX_METADATA_BYTES,
    MAX_METADATA_DEPTH,
    MAX_NAME_CHARS,
    MAX_TIMESTAMP,
    MAX_TOKENS,
    EventStatus,
    EventType,
    _depth,
    to_us,
)
from agentlog.storage.sql.rows import fast_us

Row = tuple[Any, ...]

# Each spelling taken as is, to the text stored (an EventType hashes as its value).
_TYPES: dict[Any, str] = {t.value: t.value for t in EventType}
_STATUSES: dict[Any, str] = {None: "ok", **{s.value: s.value for s in EventStatus}}
_FLAT = (str, int, float, bool, type(None))
# Up to this many characters a text cannot be over the byte limit (4 bytes a character at most).
SAFE_CONTENT_CHARS = MAX_CONTENT_BYTES // 4
_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").fullmatch
MAX_US = to_us(MAX_TIMESTAMP)


def _text(value: Any, limit: int) -> bool:
    """Text the model stores unchanged and within `limit` characters: no NUL, no lone surrogate."""
    return value.__class__ is str and len(value) <= limit and plain_text(value)


def plain_text(value: str) -> bool:
    """A text the model stores as it is: no NUL, no lone surrogate."""
    if "\x00" in value:
        return False
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: the model repairs it
        return False
    return True


def _content(value: Any) -> bool:
    if value.__class__ is not str or "\x00" in value:
        return False
    if value.isascii():
        return len(value) <= MAX_CONTENT_BYTES
    if len(value) > SAFE_CONTENT_CHARS:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def metadata_text(value: Any) -> str | None:
    """The metadata column for a plain JSON object within the limits, else None."""
    if value is None:
        return "{}"
    if value.__class__ is not dict:
        return None
    if not value:
        return "{}"
    for item in value.values():
        if item.__class__ not in _FLAT:
            if _depth(value, MAX_METADATA_DEPTH) > MAX_METADATA_DEPTH:
                return None
            break
    try:
        dumped = orjson.dumps(value)
    except TypeError:  # lone surrogates, non-text keys, big integers, values JSON has no form for
        return None
    if len(dumped) > MAX_METADATA_BYTES or b"\\u0000" in dumped:
        return None
    return dumped.decode()


def _count(value: Any) -> bool:
    return value is None or (value.__class__ is int and 0 <= value <= MAX_TOKENS)


def _measure(value: Any, limit: float) -> bool:
    # NaN fails both comparisons, so it goes to the model too.
    return value is None or (
        (value.__class__ is float or value.__class__ is int) and 0 <= value <= limit
    )


def _real(value: Any) -> float | None:
    return None if value is None else float(value)


def sdk_row(item: tuple[Any, ...]) -> Row | None:
    """The row of an event the SDK queued, or None when the model must decide.

    `item` is `sdk.writer`'s event tuple: (sink, kind, session_id, id, ts, type,
    agent_id, name, content, metadata, parent_id, duration_ms, status,
    input_tokens, output_tokens, cost_usd[, token details]); the session id was
    normalised when the session opened and the id made by `new_id`, as the model
    would; `ts` is the SDK clock's microseconds (a caller's time goes to the model).
    """
    ts = item[4]
    try:
        type_ = _TYPES.get(item[5])
        status = _STATUSES.get(item[12])
    except TypeError:  # unhashable: not a spelling of either
        return None
    agent_id, name, content, parent_id = item[6], item[7], item[8], item[10]
    duration, cost = item[11], item[15]
    if (
        ts.__class__ is not int
        or type_ is None
        or status is None
        or (agent_id is not None and not _text(agent_id, MAX_AGENT_ID_CHARS))
        or (name is not None and not _text(name, MAX_NAME_CHARS))
        or (content is not None and not _content(content))
        or (parent_id is not None and (parent_id.__class__ is not str or not _ID(parent_id)))
        or not _measure(duration, MAX_DURATION_MS)
        or not _count(item[13])
        or not _count(item[14])
        or not _measure(cost, MAX_COST_USD)
    ):
        return None
    metadata = metadata_text(item[9])
    if metadata is None:
        return None
    cache_read = cache_creation = reasoning = None
    if len(item) > 16:
        details = item[16]
        cache_read = details.get("cache_read_tokens")
        cache_creation = details.get("cache_creation_tokens")
        reasoning = details.get("reasoning_tokens")
        if not (_count(cache_read) and _count(cache_creation) and _count(reasoning)):
            return None
    return (
        item[3],
        item[2],
        ts,
        type_,
        agent_id,
        name,
        status,
        parent_id,
        _real(duration),
        item[13],
        item[14],
        _real(cost),
        metadata,
        content,
        cache_read,
        cache_creation,
        reasoning,
    )


def time_us(value: Any) -> int | None:
    """Microseconds of an ISO 8601 time `datetime.fromisoformat` reads as it stands (as the
    model reads it: a time without offset is UTC), inside 1970..9999; else None."""
    if value.__class__ is not str:
        return None
    try:
        us = fast_us(datetime.fromisoformat(value))
    except (ValueError, OverflowError):
        return None
    return us if 0 <= us <= MAX_US else None
