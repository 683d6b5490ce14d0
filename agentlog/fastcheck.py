"""Validation at parsing speed: the model's limits as pydantic-core constraints, for input in canonical form.

`Event` accepts many spellings (any-case types, UUIDs in any form, epoch
seconds, non-text content it turns into JSON, lone surrogates it repairs) and
answers each problem with its own one-line message, which costs Python
validators per field. Almost every event arrives already canonical: ids as
lowercase hyphenated UUIDs, times as ISO 8601 UTC, types in capitals, text
content. `FastEvent` accepts exactly that form, checked by pydantic-core's
compiled constraints (patterns, lengths, bounds) with only the two checks no
constraint can express (the timestamp's value, metadata's depth and size) in
Python, and gives the same `Event` the model would. It accepts a subset of
what `Event` accepts, never more: anything it refuses is validated again by
`Event` itself, so limits and error messages stay exactly the model's
(`event_from`, `events_from`). Lone surrogates never pass here (constrained
strings refuse them, orjson refuses them in metadata), so the text rule stays
the model's too, and so does NUL (which the model replaces).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from agentlog.model import (
    MAX_AGENT_ID_CHARS,
    MAX_CONTENT_BYTES,
    MAX_COST_USD,
    MAX_DURATION_MS,
    MAX_METADATA_BYTES,
    MAX_METADATA_DEPTH,
    MAX_NAME_CHARS,
    MAX_TOKENS,
    Event,
    EventStatus,
    EventType,
    _depth,
    new_id,
    utcnow,
)

# The form `normalize_id` gives back unchanged (so the model would store it as is).
_CANONICAL_ID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
# ISO 8601 in UTC with years 1970..9998 (so always inside the model's range; 9999
# and every other form go to the model), as `format_ts` and exports write it.
_UTC_TIME = (
    r"^(19[7-9][0-9]|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9])"
    r"-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|\+00:00)$"
)
# Up to this many characters a text cannot be over the byte limit (4 bytes a character at most).
_SAFE_CONTENT_CHARS = MAX_CONTENT_BYTES // 4
_FLAT = (str, int, float, bool, type(None))

_TYPES = {t.value: t for t in EventType}
_TYPE_NAMES = "^(" + "|".join(_TYPES) + ")$"

Id = Annotated[str, StringConstraints(strict=True, pattern=_CANONICAL_ID)]


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text)  # tz-aware UTC: the pattern allows only Z / +00:00


def _metadata(value: dict[str, Any] | None) -> dict[str, Any]:
    """Depth and size as `check_metadata` measures them; any doubt raises (the model decides)."""
    if not value:
        return {} if value is None else value
    for item in value.values():
        if type(item) not in _FLAT:
            if _depth(value, MAX_METADATA_DEPTH) > MAX_METADATA_DEPTH:
                raise ValueError("too deep")
            break
    try:
        dumped = orjson.dumps(value)
    except TypeError:  # lone surrogates, non-text keys, values JSON has no form for
        raise ValueError("not plain JSON") from None
    size = len(dumped)
    if size > MAX_METADATA_BYTES:
        raise ValueError("too large")
    if b"\\u0000" in dumped:
        raise ValueError("holds NUL")
    return value


class CanonicalEvent(BaseModel):
    """An `Event` in canonical form, NUL aside (`FastEvent` rules it out); the field
    declarations mirror `Event`'s."""

    model_config = ConfigDict(extra="forbid")

    id: Id = Field(default_factory=new_id)
    session_id: Id
    timestamp: Annotated[
        str, StringConstraints(strict=True, pattern=_UTC_TIME), AfterValidator(_utc)
    ] = Field(default_factory=utcnow)  # type: ignore[assignment]  # a datetime default; _utc takes both
    type: Annotated[
        str, StringConstraints(strict=True, pattern=_TYPE_NAMES), AfterValidator(_TYPES.__getitem__)
    ]
    agent_id: (
        Annotated[str, StringConstraints(strict=True, max_length=MAX_AGENT_ID_CHARS)] | None
    ) = None
    name: Annotated[str, StringConstraints(strict=True, max_length=MAX_NAME_CHARS)] | None = None
    content: (
        Annotated[str, StringConstraints(strict=True, max_length=_SAFE_CONTENT_CHARS)] | None
    ) = None
    metadata: Annotated[dict[str, Any] | None, AfterValidator(_metadata)] = Field(
        default_factory=dict
    )
    parent_id: Id | None = None
    duration_ms: float | None = Field(default=None, ge=0, le=MAX_DURATION_MS)
    status: EventStatus = EventStatus.OK
    input_tokens: int | None = Field(default=None, ge=0, le=MAX_TOKENS)
    output_tokens: int | None = Field(default=None, ge=0, le=MAX_TOKENS)
    cost_usd: float | None = Field(default=None, ge=0, le=MAX_COST_USD)
    cache_read_tokens: int | None = Field(default=None, ge=0, le=MAX_TOKENS)
    cache_creation_tokens: int | None = Field(default=None, ge=0, le=MAX_TOKENS)
    reasoning_tokens: int | None = Field(default=None, ge=0, le=MAX_TOKENS)


class FastEvent(CanonicalEvent):
    """`CanonicalEvent` for values already in Python: text holding NUL is left to the
    model's text rule (one membership test per text field, cheaper than a pattern)."""

    @model_validator(mode="after")
    def _no_nul(self) -> FastEvent:
        values = self.__dict__
        for key in ("content", "name", "agent_id"):
            text = values[key]
            if text is not None and "\x00" in text:
                raise ValueError("holds NUL")
        return self


def as_event(fast: CanonicalEvent) -> Event:
    """The `Event` the model would have built, in place: same values, same fields set.

    The two classes have the same layout (pydantic models without slots of their
    own), so the instance only changes class; no field is copied or checked again.
    """
    object.__setattr__(fast, "__class__", Event)
    return fast  # type: ignore[return-value]  # it is an Event now


class FastSdkEvent(FastEvent):
    """A record the SDK queued: ids it made itself and its own clock's time (the writer
    passes anything else, such as a caller's timestamp, to the model)."""

    id: str  # made by new_id()
    session_id: str  # normalised when the session opened
    timestamp: datetime  # type: ignore[assignment]  # from_us(time_ns() // 1000)


_fast_validate = FastEvent.model_validate


def event_from(data: Any) -> Event:
    """`Event.model_validate(data)`, at constraint speed when `data` is canonical.

    Raises the model's own ValidationError (its messages) when `data` is invalid.
    """
    try:
        return as_event(_fast_validate(data))
    except ValidationError:
        return Event.model_validate(data)


def event_of(**values: Any) -> Event:
    """`Event(**values)` for values a mapper built itself (canonical ids, a UTC datetime, an
    EventType), at constraint speed; whatever the fast check doubts (text over its size, a
    time outside 1970..9998, NUL) goes to the model, so the Event and its errors are the same."""
    ts = values.get("timestamp")
    if isinstance(ts, datetime) and 1970 <= ts.year <= 9998:
        try:
            return as_event(_fast_sdk_validate(values))
        except ValidationError:
            pass
    return Event(**values)


_fast_sdk_validate = FastSdkEvent.model_validate
