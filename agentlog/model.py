"""The data model and its input limits: one definition for the SDK, the store, the API and imports.

Sessions and events are pydantic models validated at every boundary. Ids are
UUIDv7 text made by the client, so every write is an idempotent upsert.
Timestamps are timezone-aware UTC datetimes with microsecond precision; the
stores keep them as integer microseconds since the epoch (`to_us`/`from_us`).

Text is UTF-8. The one rule for text no UTF-8 encoder can write — a lone
surrogate, U+D800..U+DFFF, as `json.loads('"\\ud800"')` or bytes decoded with
`surrogateescape` produce — is that each such code point becomes U+FFFD when a
record is built (`encodable`), in every text field, metadata key and value.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar

import orjson
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    computed_field,
    field_validator,
)

# ---------------------------------------------------------------- limits
# One place for each limit (ARCHITECTURE.md: `agentlog.model` holds every input limit).
# Everything checks these.
MAX_CONTENT_BYTES = 1024 * 1024  # 1 MiB of UTF-8 per event content
MAX_METADATA_BYTES = 64 * 1024  # 64 KiB of JSON per metadata object
MAX_METADATA_DEPTH = 32  # nesting levels of dicts/lists in metadata
MAX_BATCH_EVENTS = 1000  # events per write batch / request
MAX_BATCH_BYTES = 10 * 1024 * 1024  # 10 MiB per batch / request body
MAX_TITLE_CHARS = 1000
MAX_DESCRIPTION_CHARS = 10_000
MAX_NAME_CHARS = 1000
MAX_AGENT_ID_CHARS = 200
MAX_TAGS = 100
MAX_TAG_CHARS = 100
# Per-event measures: far above any real call, low enough that a session's
# totals never overflow a 64-bit integer column.
MAX_TOKENS = 10**12
MAX_COST_USD = 1e9
MAX_DURATION_MS = 1e12
# The token breakdowns an event may carry besides input_tokens / output_tokens.
TOKEN_DETAILS = ("cache_read_tokens", "cache_creation_tokens", "reasoning_tokens")
MIN_TIMESTAMP = datetime(1970, 1, 1, tzinfo=UTC)
MAX_TIMESTAMP = datetime(9999, 12, 31, tzinfo=UTC)


class EventType(StrEnum):
    USER_INPUT = "USER_INPUT"
    AGENT_OUTPUT = "AGENT_OUTPUT"
    LLM_CALL = "LLM_CALL"
    TOOL_CALL = "TOOL_CALL"
    TOOL_RESULT = "TOOL_RESULT"
    MCP_MESSAGE = "MCP_MESSAGE"
    STATE_UPDATE = "STATE_UPDATE"
    HANDOFF = "HANDOFF"
    ERROR = "ERROR"
    LOG = "LOG"

    @classmethod
    def parse(cls, value: str | EventType) -> EventType:
        """Accept any case and `-` for `_`; raise ValueError naming the choices."""
        if isinstance(value, EventType):
            return value
        key = str(value).strip().upper().replace("-", "_")
        try:
            return cls(key)
        except ValueError:
            choices = ", ".join(t.value for t in cls)
            raise ValueError(f"unknown event type {value!r}; use one of {choices}") from None


class SessionStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    FAILED = "failed"


class EventStatus(StrEnum):
    OK = "ok"
    ERROR = "error"


# ---------------------------------------------------------------- ids and time
_uuid7_lock = threading.Lock()
_uuid7_last = 0
# Random bits from a process-local PRNG seeded by the OS (a urandom syscall per
# id costs more than the rest of new_id); reseeded in a forked child so parent
# and child never share a sequence.
_uuid7_random = random.Random(os.urandom(16))
os.register_at_fork(after_in_child=lambda: _uuid7_random.seed(os.urandom(16)))


_VARIANT = 0x8 << 60  # the RFC 4122 variant, in place in the id's last 64 bits
_uuid7_prefix: tuple[int, str] = (-1, "")  # (milliseconds, their text) of the latest id
_random_bits = _uuid7_random.getrandbits
_time_ns = time.time_ns


def name_id(namespace: uuid.UUID, name: str) -> str:
    """`str(uuid.uuid5(namespace, name))` without building UUID objects (importers and the OTLP
    mapping make one or two per event; this is a third of uuid5's cost)."""
    digest = bytearray(
        hashlib.sha1(namespace.bytes + name.encode("utf-8", "replace")).digest()[:16]
    )
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def new_id() -> str:
    """A UUIDv7 (RFC 9562) as text: time-ordered, monotonic within this process."""
    global _uuid7_last, _uuid7_prefix
    with _uuid7_lock:
        # 48 bits of milliseconds + 12 bits of sub-millisecond fraction, kept
        # strictly increasing so ids made in one process sort in creation order.
        ns = _time_ns()
        stamp = (ns // 1_000_000) << 12 | ((ns % 1_000_000) * 4096 // 1_000_000)
        if stamp <= _uuid7_last:
            stamp = _uuid7_last + 1
        _uuid7_last = stamp
    # The hot path of every SDK call and mapping. `%`-formatting a 128-bit int is most
    # of an id's cost: the text of the 48 milliseconds bits is kept while they last (one
    # tuple, replaced whole, so threads never mix two), and the rest (version 7, the
    # 12-bit fraction, the RFC 4122 variant and 62 random bits) is one `bytes.hex`.
    ms = stamp >> 12
    prefix = _uuid7_prefix
    if prefix[0] != ms:
        h = ms.to_bytes(6, "big").hex()
        prefix = _uuid7_prefix = (ms, f"{h[:8]}-{h[8:]}-7")
    h = ((stamp & 0xFFF) << 64 | _VARIANT | _random_bits(62)).to_bytes(10, "big").hex()
    return f"{prefix[1]}{h[1:4]}-{h[4:8]}-{h[8:]}"


def new_id_unlocked() -> str:
    """A UUIDv7 like `new_id`'s, made without its lock: for a signal handler, which runs on a
    thread that may have been interrupted while holding that lock. It sorts after every id made
    before it in this process and is unique by its 62 random bits (`getrandbits` takes no lock)."""
    ns = _time_ns()
    stamp = max((ns // 1_000_000) << 12 | ((ns % 1_000_000) * 4096 // 1_000_000), _uuid7_last + 1)
    h = ((stamp >> 12).to_bytes(6, "big") + (7 << 12 | (stamp & 0xFFF)).to_bytes(2, "big")).hex()
    tail = (_VARIANT | _random_bits(62)).to_bytes(8, "big").hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{tail[:4]}-{tail[4:]}"


def normalize_id(value: Any, field: str = "id") -> str:
    """Canonical lowercase hyphenated UUID text, or ValueError naming the field."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if not isinstance(value, str):
        raise ValueError(f"{field} must be a UUID string, got {type(value).__name__}")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValueError(f"{field} {value[:60]!r} is not a valid UUID") from None


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_us(dt: datetime) -> int:
    """Microseconds since the epoch (the stores' time column)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    delta = dt - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def from_us(us: int) -> datetime:
    # On the writer's path for every event the SDK stamps: no import, no epoch rebuilt.
    return _EPOCH + timedelta(microseconds=us)


def format_ts(dt: datetime) -> str:
    """ISO 8601 UTC with microseconds and `Z`: the text form in every export."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_ts(value: Any, field: str = "timestamp") -> datetime:
    """Datetime, ISO 8601 text or epoch seconds → aware UTC datetime, or ValueError."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        try:
            dt = datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"{field} {value!r} is out of range") from None
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"{field} {value[:60]!r} is not an ISO 8601 time (e.g. 2026-01-31T12:00:00Z)"
            ) from None
    else:
        raise ValueError(f"{field} must be an ISO 8601 string, got {type(value).__name__}")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    try:
        dt = dt.astimezone(UTC)
    except (OverflowError, ValueError):  # 0001-01-01T00:00+14:00 is before year 1 in UTC
        raise ValueError(f"{field} {str(value)[:60]!r} is outside 1970..9999") from None
    if not (MIN_TIMESTAMP <= dt <= MAX_TIMESTAMP):
        raise ValueError(f"{field} {format_ts(dt)} is outside 1970..9999")
    return dt


# ---------------------------------------------------------------- validators
_SURROGATES = re.compile("[\ud800-\udfff]")


NUL_STANDIN = "\u2400"  # ␀ SYMBOL FOR NULL: visible, and storable by every backend


def encodable(text: str) -> str:
    """`text` as every backend stores it: lone surrogates become U+FFFD and NUL becomes
    U+2400 (PostgreSQL cannot hold NUL in text; SQLite can, so without this rule data
    accepted locally could not move to a server). The module's one rule for text."""
    if "\x00" in text:
        text = text.replace("\x00", NUL_STANDIN)
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATES.sub("\ufffd", text)
    return text


_INT64 = (-(2**63), 2**64 - 1)  # what orjson (and so every store's JSON) can write


def encodable_json(value: Any) -> Any:
    """A JSON-like value every store can hold: `encodable` on every string (keys too), and
    an integer beyond 64 bits (JSON allows it, orjson cannot write it) as its decimal text."""
    if isinstance(value, str):
        return encodable(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value if _INT64[0] <= value <= _INT64[1] else str(value)
    if isinstance(value, dict):
        return {
            (encodable(k) if isinstance(k, str) else k): encodable_json(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [encodable_json(v) for v in value]
    return value


def _repairable(exc: Exception) -> bool:
    """An orjson refusal `encodable_json` fixes: lone surrogates or a too-big integer."""
    return "surrogates" in str(exc) or "64-bit" in str(exc)


def _json_dump(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS, default=str)


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of dicts/lists, stopping once past `limit` (no deep recursion)."""
    if not isinstance(value, dict | list | tuple):
        return 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    deepest = 0
    while stack:
        item, level = stack.pop()
        if level > deepest:
            deepest = level
            if deepest > limit:
                return deepest
        # Only containers go on the stack: a scalar cannot add depth (metadata is mostly
        # scalars, and pushing each one cost most of this check).
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, level + 1) for child in children if isinstance(child, _NESTED))
    return deepest


_NESTED = (dict, list, tuple)


def check_metadata(value: Any, field: str = "metadata") -> dict[str, Any]:
    """A JSON object within the size and depth limits, or ValueError naming the field."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{field} must be a JSON object, got {type(value).__name__}")
    if _depth(value, MAX_METADATA_DEPTH) > MAX_METADATA_DEPTH:
        raise ValueError(f"{field} is nested deeper than {MAX_METADATA_DEPTH} levels")
    try:
        dumped = _json_dump(value)
    except (TypeError, orjson.JSONEncodeError) as exc:
        if not _repairable(exc):
            raise ValueError(f"{field} is not JSON-serialisable: {exc}") from None
        value = encodable_json(value)
        dumped = _json_dump(value)
    if b"\\u0000" in dumped:  # a NUL somewhere: the text rule, as for every field
        value = encodable_json(value)
        dumped = _json_dump(value)
    size = len(dumped)
    if size > MAX_METADATA_BYTES:
        raise ValueError(
            f"{field} is {size:,} bytes of JSON; the limit is {MAX_METADATA_BYTES:,} bytes"
        )
    return value


def content_text(value: Any) -> str | None:
    """Event content as text: strings pass, anything else becomes JSON."""
    if value is None:
        return value
    if isinstance(value, str):
        return encodable(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS, default=str).decode()
    except (TypeError, orjson.JSONEncodeError) as exc:
        if not _repairable(exc):
            raise ValueError(f"content is not JSON-serialisable: {exc}") from None
        return orjson.dumps(
            encodable_json(value), option=orjson.OPT_NON_STR_KEYS, default=str
        ).decode()


def check_content(value: Any, field: str = "content") -> str | None:
    text = content_text(value)
    if text is not None:
        size = len(text.encode("utf-8"))
        if size > MAX_CONTENT_BYTES:
            raise ValueError(
                f"{field} is {size:,} bytes; the limit is {MAX_CONTENT_BYTES:,} bytes "
                "(store large payloads elsewhere and log a reference)"
            )
    return text


def _id(field: str):
    return BeforeValidator(lambda v: normalize_id(v, field))


def _optional_id(field: str):
    return BeforeValidator(lambda v: None if v in (None, "") else normalize_id(v, field))


def _time(field: str):
    return BeforeValidator(lambda v: parse_ts(v, field))


def _optional_time(field: str):
    return BeforeValidator(lambda v: None if v in (None, "") else parse_ts(v, field))


def _event_type(v: Any) -> EventType:
    return EventType.parse(v)


Id = Annotated[str, _id("id")]
Text = BeforeValidator(lambda v: encodable(v) if isinstance(v, str) else v)
"""The text rule on a model field (see `encodable`), before pydantic-core measures it."""


# ---------------------------------------------------------------- models
class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False, frozen=False)

    def to_json_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (times as ISO text with `Z`)."""
        out = self.model_dump(mode="json")
        for key in out:
            val = getattr(self, key, None)
            if isinstance(val, datetime):
                out[key] = format_ts(val)
        return out


class Session(_Model):
    """One run of an agent (or of a sub-agent, with `parent_session_id`)."""

    id: Annotated[str, _id("session id")] = Field(default_factory=new_id)
    title: Annotated[str, Text] = Field(default="", max_length=MAX_TITLE_CHARS)
    description: Annotated[str, Text] = Field(default="", max_length=MAX_DESCRIPTION_CHARS)
    status: SessionStatus = SessionStatus.ACTIVE
    parent_session_id: Annotated[str | None, _optional_id("parent_session_id")] = None
    tags: list[Annotated[str, Text, Field(max_length=MAX_TAG_CHARS)]] = Field(
        default_factory=list, max_length=MAX_TAGS
    )
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_at: Annotated[datetime, _time("created_at")] = Field(default_factory=utcnow)
    updated_at: Annotated[datetime, _time("updated_at")] = Field(default_factory=utcnow)
    ended_at: Annotated[datetime | None, _optional_time("ended_at")] = None
    # Set by the server: the tenant and the user or key that created the session.
    team_id: str | None = None
    created_by: str | None = None

    @field_validator("metadata", mode="before")
    @classmethod
    def _check_metadata(cls, v: Any) -> dict[str, Any]:
        return check_metadata(v)

    @field_validator("title", "description", mode="before")
    @classmethod
    def _none_is_empty(cls, v: Any) -> Any:
        return "" if v is None else v


class SessionUpdate(_Model):
    """The fields of a session a user may change after creating it."""

    title: Annotated[str | None, Text] = Field(default=None, max_length=MAX_TITLE_CHARS)
    description: Annotated[str | None, Text] = Field(default=None, max_length=MAX_DESCRIPTION_CHARS)
    status: SessionStatus | None = None
    tags: list[Annotated[str, Text, Field(max_length=MAX_TAG_CHARS)]] | None = Field(
        default=None, max_length=MAX_TAGS
    )
    metadata: dict[str, Any] | None = None
    ended_at: Annotated[datetime | None, _optional_time("ended_at")] = None

    @field_validator("metadata", mode="before")
    @classmethod
    def _check_metadata(cls, v: Any) -> dict[str, Any] | None:
        return None if v is None else check_metadata(v)


class SessionSummary(Session):
    """A session with its derived aggregates (kept in a summary row, never scanned)."""

    event_count: int = 0
    error_count: int = 0
    agents: list[str] = Field(default_factory=list)
    first_event_at: datetime | None = None
    last_event_at: datetime | None = None
    duration_ms: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    # Totals of the events' prompt-cache reads and writes and reasoning tokens (issue 20).
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0
    reasoning_tokens: int = 0


class Event(_Model):
    """One thing an agent did. Order in a session is (timestamp, id)."""

    id: Annotated[str, _id("event id")] = Field(default_factory=new_id)
    session_id: Annotated[str, _id("session_id")]
    timestamp: Annotated[datetime, _time("timestamp")] = Field(default_factory=utcnow)
    type: Annotated[EventType, BeforeValidator(_event_type)]
    agent_id: Annotated[str | None, Text] = Field(default=None, max_length=MAX_AGENT_ID_CHARS)
    name: Annotated[str | None, Text] = Field(default=None, max_length=MAX_NAME_CHARS)
    content: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    parent_id: Annotated[str | None, _optional_id("parent_id")] = None
    duration_ms: float | None = Field(default=None, ge=0, le=MAX_DURATION_MS)
    status: EventStatus = EventStatus.OK
    input_tokens: int | None = Field(default=None, ge=0, le=MAX_TOKENS)
    output_tokens: int | None = Field(default=None, ge=0, le=MAX_TOKENS)
    cost_usd: float | None = Field(default=None, ge=0, le=MAX_COST_USD)
    # Breakdowns of the token counts above (a subset of input / output, not added to them):
    # prompt-cache reads and writes are input tokens, reasoning tokens are output tokens.
    cache_read_tokens: int | None = Field(default=None, ge=0, le=MAX_TOKENS)
    cache_creation_tokens: int | None = Field(default=None, ge=0, le=MAX_TOKENS)
    reasoning_tokens: int | None = Field(default=None, ge=0, le=MAX_TOKENS)

    @field_validator("metadata", mode="before")
    @classmethod
    def _check_metadata(cls, v: Any) -> dict[str, Any]:
        return check_metadata(v)

    @field_validator("content", mode="before")
    @classmethod
    def _check_content(cls, v: Any) -> str | None:
        return check_content(v)

    @property
    def is_error(self) -> bool:
        """Counted as an error: status error, or an ERROR event (the session aggregates' rule)."""
        return self.status == EventStatus.ERROR or self.type == EventType.ERROR


M = TypeVar("M", bound=BaseModel)


def trusted_model(cls: type[M], values: dict[str, Any], fields: frozenset[str]) -> M:
    """A model from values already valid and typed, skipping validation: what
    `model_construct` does, about 3x faster. For the hot paths that made each value
    valid themselves (store rows, the MCP mapping); `values` must hold every field."""
    obj = cls.__new__(cls)
    object.__setattr__(obj, "__dict__", values)
    object.__setattr__(obj, "__pydantic_fields_set__", set(fields))
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


EVENT_FIELDS = frozenset(Event.model_fields)


class AgentSummary(_Model):
    """One agent's activity: sessions, events, errors, first and last seen (the API's answer too)."""

    agent_id: str
    sessions: int = 0
    events: int = 0
    errors: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented form; mypy cannot see through it
    @property
    def error_rate(self) -> float:
        """Errors per event (derived, so it is part of every JSON form and never sent in)."""
        return self.errors / self.events if self.events else 0.0


class DurationStats(_Model):
    """Latency profile of one tool or model."""

    name: str
    count: int
    p50_ms: float | None = None
    p95_ms: float | None = None
    max_ms: float | None = None
    total_ms: float = 0.0
    errors: int = 0


class ModelUsage(_Model):
    """One model's LLM calls with their summed tokens and cost (timed or not)."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


class StatsReport(_Model):
    """The performance profile `agentlog stats` prints and the TUI's metrics panel shows."""

    sessions: int = 0
    events: int = 0
    errors: int = 0
    by_type: dict[str, int] = Field(default_factory=dict)
    by_agent: dict[str, int] = Field(default_factory=dict)
    tools: list[DurationStats] = Field(default_factory=list)
    models: list[DurationStats] = Field(default_factory=list)
    # Tokens and cost per model (an LLM_CALL's name), most cost first; `models` has the timings.
    by_model: dict[str, ModelUsage] = Field(default_factory=dict)
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0
    reasoning_tokens: int = 0
    slowest: list[Event] = Field(default_factory=list)

    @property
    def error_rate(self) -> float:
        return self.errors / self.events if self.events else 0.0


class BatchError(_Model):
    """Why one item of a batch was rejected: its kind, its index in the batch's list of that
    kind (`events` or `sessions`) and, if known, its id."""

    index: int
    id: str | None = None
    error: str
    kind: Literal["event", "session"] = Field(
        default="event", description="which list `index` points into: events or sessions"
    )


class WriteResult(_Model):
    """What a batch write did: new rows, rows already there (idempotent), rejected items."""

    inserted: int = 0
    duplicates: int = 0
    errors: list[BatchError] = Field(default_factory=list)


def validation_message(exc: Exception) -> str:
    """One line from a pydantic ValidationError: `field: why` for each problem."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        parts = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err.get("loc", ()) if p != "__root__")
            msg = err.get("msg", "invalid")
            msg = msg.removeprefix("Value error, ")
            if err.get("type") == "extra_forbidden":
                msg = "unknown field"
            parts.append(f"{loc}: {msg}" if loc else msg)
        return "; ".join(parts)
    return str(exc)
