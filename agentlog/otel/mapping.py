"""Pure span -> event mapping for OTLP traces (GenAI conventions, OpenInference, OpenLLMetry).

No I/O: a decoded `Span` in, `Session`s and `Event`s out. Ids are derived from
trace and span ids (uuid5), so a resent batch maps to the same rows and the
store's upsert makes it idempotent.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from agentlog.fastcheck import event_of
from agentlog.integrations.pricing import inclusive_cost
from agentlog.model import (
    MAX_NAME_CHARS,
    MAX_TITLE_CHARS,
    Event,
    EventStatus,
    EventType,
    Session,
    SessionStatus,
    name_id,
    validation_message,
)

# Fixed namespace: changing it would change every derived id.
OTEL_NAMESPACE = uuid.UUID("6f3d1c2e-8a4b-5c7d-9e0f-a1b2c3d4e5f6")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

SESSION_KEYS = ("session.id", "gen_ai.conversation.id", "langfuse.session.id")
# The session's title, as agentlog's export writes it (a resource attribute).
TITLE_KEY = "agentlog.session.title"
# The session's parent and status, as agentlog's export writes them (resource attributes,
# like the title): a trace has no parent session, and a root span's status is one event's,
# not the session's (a completed run may hold handled errors).
PARENT_KEY = "agentlog.session.parent_id"
STATUS_KEY = "agentlog.session.status"
# The event's agent, as agentlog's export writes it on every span, "" for none: the
# resource's service.name is "agentlog" itself, and a handoff's gen_ai.agent.name names
# the agent handed to, so neither can say who recorded the event.
AGENT_KEY = "agentlog.agent_id"

# Token details, the current GenAI names first (open-telemetry/semantic-conventions-genai,
# reference/reports/inference-span.md at 0724e29c), then what producers still send:
# OpenLLMetry's flat names, earlier proposals, and OpenInference's.
TOKEN_DETAIL_KEYS: dict[str, tuple[str, ...]] = {
    "cache_read_tokens": (
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.cache_read_input_tokens",
        "llm.token_count.prompt_details.cache_read",
    ),
    "cache_creation_tokens": (
        "gen_ai.usage.cache_write.input_tokens",
        "gen_ai.usage.cache_creation.input_tokens",
        "gen_ai.usage.cache_creation_input_tokens",
        "llm.token_count.prompt_details.cache_write",
    ),
    "reasoning_tokens": (
        "gen_ai.usage.reasoning.output_tokens",
        "gen_ai.usage.reasoning_tokens",
        "llm.token_count.completion_details.reasoning",
    ),
}
# Attributes consumed into first-class fields; everything else stays in metadata.
_CONSUMED = {
    "gen_ai.operation.name",
    "gen_ai.request.model",
    "gen_ai.response.model",
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.prompt_tokens",
    "gen_ai.usage.completion_tokens",
    "llm.token_count.prompt",
    "llm.token_count.completion",
    *(key for keys in TOKEN_DETAIL_KEYS.values() for key in keys),
    "gen_ai.tool.name",
    "tool.name",
    "gen_ai.agent.name",
    "agent.name",
    "openinference.span.kind",
    "traceloop.span.kind",
    "llm.model_name",
    "agentlog.event.type",
    "agentlog.metadata",
    "agentlog.cost_usd",
    AGENT_KEY,
}


@dataclass
class SpanEvent:
    """An OTLP span event (a log line inside a span)."""

    name: str
    time_unix_nano: int
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Span:
    """One decoded OTLP span, ids as lowercase hex."""

    trace_id: str
    span_id: str
    name: str
    start_unix_nano: int
    end_unix_nano: int
    parent_span_id: str = ""
    kind: int = 0
    attributes: dict[str, Any] = field(default_factory=dict)
    events: list[SpanEvent] = field(default_factory=list)
    status_code: int = 0  # 0 unset, 1 ok, 2 error
    status_message: str = ""
    resource: dict[str, Any] = field(default_factory=dict)
    scope: str = ""
    # The session an earlier batch already put this span's trace in (`ingest` looks it up);
    # it wins over the session the span's own attributes would name.
    joined_session: str | None = None


@dataclass
class Mapped:
    """The result of mapping a batch: sessions to upsert, events to write, what was skipped."""

    sessions: dict[str, Session] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (span id, reason)
    # Sessions whose spans stated their status (agentlog's own export): kept as stated.
    stated_status: set[str] = field(default_factory=set)


def event_id(trace_id: str, span_id: str, suffix: str = "") -> str:
    """The event id a span maps to: stable across resends."""
    return name_id(OTEL_NAMESPACE, f"{trace_id}:{span_id}{suffix}")


def session_name(span: Span) -> str | None:
    """The conversation the span names itself (`session.id` and its aliases), if any."""
    for key in SESSION_KEYS:
        value = span.attributes.get(key) or span.resource.get(key)
        if value not in (None, ""):
            return str(value)
    return None


def trace_session_id(trace_id: str) -> str:
    """The session of a trace that names no conversation."""
    try:
        return str(uuid.UUID(hex=trace_id))
    except ValueError:
        return str(uuid.uuid5(OTEL_NAMESPACE, f"trace:{trace_id}"))


def session_id_for(span: Span) -> tuple[str, str | None]:
    """The session a span joins: a named conversation, else its trace; and the raw name."""
    if span.joined_session is not None:
        return span.joined_session, session_name(span)
    for key in SESSION_KEYS:
        value = span.attributes.get(key) or span.resource.get(key)
        if value not in (None, ""):
            text = str(value)
            try:
                return str(uuid.UUID(text)), text
            except ValueError:
                return str(uuid.uuid5(OTEL_NAMESPACE, f"session:{text}")), text
    return trace_session_id(span.trace_id), None


def _time(nanos: int) -> datetime:
    return _EPOCH + timedelta(microseconds=nanos // 1000)


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def _first(attrs: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        value = attrs.get(key)
        if value not in (None, ""):
            return value
    return None


def classify(span: Span) -> EventType:
    """The event type of a span from GenAI, OpenInference, OpenLLMetry or MCP attributes."""
    a = span.attributes
    op = str(a.get("gen_ai.operation.name") or "").lower()
    oi = str(a.get("openinference.span.kind") or "").upper()
    tl = str(a.get("traceloop.span.kind") or "").lower()
    native = a.get("agentlog.event.type")  # a span AgentLog exported itself
    if native:
        try:
            return EventType.parse(str(native))
        except ValueError:
            pass
    if "mcp.method.name" in a or span.name.startswith(("mcp.", "tools/call", "MCP ")):
        return EventType.MCP_MESSAGE
    if op == "execute_tool" or oi == "TOOL" or tl == "tool":
        return EventType.TOOL_CALL
    if op in {"chat", "text_completion", "generate_content", "embeddings"} or oi in {
        "LLM",
        "EMBEDDING",
    }:
        return EventType.LLM_CALL
    if op in {"invoke_agent", "create_agent"} or oi == "AGENT" or tl == "agent":
        return EventType.HANDOFF
    if "gen_ai.request.model" in a or "llm.model_name" in a:
        return EventType.LLM_CALL
    if span.status_code == 2 and not a:
        return EventType.ERROR
    # CHAIN, RETRIEVER, RERANKER, GUARDRAIL, workflow and task spans: a step's state.
    return EventType.STATE_UPDATE


def _prompt_and_completion(span: Span) -> tuple[Any, Any]:
    """Input and output text from attributes or span events, current and legacy keys."""
    a = span.attributes
    prompt = _first(
        a,
        "gen_ai.input.messages",
        "gen_ai.prompt",
        "input.value",
        "gen_ai.tool.call.arguments",
        "traceloop.entity.input",
    )
    completion = _first(
        a,
        "gen_ai.output.messages",
        "gen_ai.completion",
        "output.value",
        "gen_ai.tool.call.result",
        "traceloop.entity.output",
    )
    if prompt is None:
        indexed = _indexed(a, "gen_ai.prompt.") or _indexed(a, "llm.input_messages.")
        prompt = indexed or None
    if completion is None:
        indexed = _indexed(a, "gen_ai.completion.") or _indexed(a, "llm.output_messages.")
        completion = indexed or None
    for ev in span.events:
        ea = ev.attributes
        if ev.name == "gen_ai.client.inference.operation.details":
            prompt = prompt if prompt is not None else ea.get("gen_ai.input.messages")
            completion = completion if completion is not None else ea.get("gen_ai.output.messages")
        elif ev.name in {"gen_ai.content.prompt"} and prompt is None:
            prompt = ea.get("gen_ai.prompt")
        elif ev.name in {"gen_ai.content.completion"} and completion is None:
            completion = ea.get("gen_ai.completion")
    return _jsonish(prompt), _jsonish(completion)


def _jsonish(value: Any) -> Any:
    """A JSON document carried as a string attribute, parsed; other values unchanged."""
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def _indexed(attrs: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    """Flattened `prefix.N.field` attributes (OpenLLMetry, OpenInference) as a list of dicts."""
    rows: dict[int, dict[str, Any]] = {}
    for key, value in attrs.items():
        if not key.startswith(prefix):
            continue
        index, _, rest = key[len(prefix) :].partition(".")
        if not index.isdigit() or not rest:
            continue
        rows.setdefault(int(index), {})[rest] = value
    return [rows[i] for i in sorted(rows)]


def _metadata(span: Span) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "otel.trace_id": span.trace_id,
        "otel.span_id": span.span_id,
        "otel.span_name": span.name,
        "otel.kind": span.kind,
    }
    if span.parent_span_id:
        meta["otel.parent_span_id"] = span.parent_span_id
    if span.scope:
        meta["otel.scope"] = span.scope
    if span.status_message:
        meta["otel.status_message"] = span.status_message
    attrs = {k: v for k, v in span.attributes.items() if k not in _CONSUMED}
    if attrs:
        meta["attributes"] = attrs
    for key in ("gen_ai.operation.name", "openinference.span.kind", "traceloop.span.kind"):
        if key in span.attributes:
            meta[key] = span.attributes[key]
    return meta


def map_span(span: Span) -> tuple[Session | None, list[Event]]:
    """A span's events (a tool span gives a call and its result), and its session if root."""
    a = span.attributes
    # OTLP makes both times "semantically required"; 0 is what a span without one decodes
    # to. Such a span is rejected (counted in partialSuccess, reported by import), never
    # placed in 1970, where it stretched its session over 50 years.
    for nanos, key in ((span.start_unix_nano, "start"), (span.end_unix_nano, "end")):
        if nanos <= 0:
            raise ValueError(
                f"{key}TimeUnixNano is missing or 0; OTLP requires a span's {key} time"
            )
    session_id, named = session_id_for(span)
    start, end = _time(span.start_unix_nano), _time(span.end_unix_nano)
    # In whole microseconds (the stores' precision), so an export gives the same end time.
    duration = max(0.0, (span.end_unix_nano // 1000 - span.start_unix_nano // 1000) / 1000)
    kind = classify(span)
    failed = span.status_code == 2
    prompt, completion = _prompt_and_completion(span)
    if AGENT_KEY in a:  # agentlog's own export
        agent = a[AGENT_KEY]
    else:
        agent = _first(a, "gen_ai.agent.name", "agent.name") or span.resource.get("service.name")
    if kind == EventType.LLM_CALL:
        name = _first(a, "gen_ai.request.model", "llm.model_name", "gen_ai.response.model")
    elif kind in (EventType.TOOL_CALL,):
        name = _first(a, "gen_ai.tool.name", "tool.name")
    elif kind == EventType.HANDOFF:
        name = _first(a, "gen_ai.agent.name", "agent.name")
    elif kind == EventType.MCP_MESSAGE:
        name = _first(a, "mcp.method.name")
    else:
        name = None
    name = str(name or span.name)[:MAX_NAME_CHARS]
    parent = event_id(span.trace_id, span.parent_span_id) if span.parent_span_id else None
    meta = _metadata(span)
    input_tokens = _int(
        _first(
            a, "gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.token_count.prompt"
        )
    )
    output_tokens = _int(
        _first(
            a,
            "gen_ai.usage.output_tokens",
            "gen_ai.usage.completion_tokens",
            "llm.token_count.completion",
        )
    )
    details = {field: _int(_first(a, *keys)) for field, keys in TOKEN_DETAIL_KEYS.items()}
    status = EventStatus.ERROR if failed else EventStatus.OK
    own_id = event_id(span.trace_id, span.span_id)
    events: list[Event] = []
    native = "agentlog.event.type" in a  # exported by AgentLog: one event per span
    if native:
        restored = _jsonish(a.get("agentlog.metadata"))
        if isinstance(restored, dict):
            meta = {**restored, **{k: v for k, v in meta.items() if k.startswith("otel.")}}
    if kind == EventType.TOOL_CALL and not native:
        events.append(
            event_of(
                id=own_id,
                session_id=session_id,
                timestamp=start,
                type=EventType.TOOL_CALL,
                agent_id=_agent(agent),
                name=name,
                content=prompt,
                metadata=meta,
                parent_id=parent,
                duration_ms=duration,
                status=status,
            )
        )
        events.append(
            event_of(
                id=event_id(span.trace_id, span.span_id, ":result"),
                session_id=session_id,
                timestamp=end,
                type=EventType.TOOL_RESULT,
                agent_id=_agent(agent),
                name=name,
                content=completion if not failed else (completion or span.status_message or None),
                metadata={"otel.span_id": span.span_id, "otel.trace_id": span.trace_id},
                parent_id=own_id,
                status=status,
            )
        )
    else:
        body: Any = prompt
        if completion is not None:
            body = {"input": prompt, "output": completion} if prompt is not None else completion
        events.append(
            event_of(
                id=own_id,
                session_id=session_id,
                timestamp=start,
                type=kind,
                agent_id=_agent(agent),
                name=name,
                content=body,
                metadata=meta,
                parent_id=parent,
                duration_ms=duration,
                status=status,
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                **details,
                cost_usd=_event_cost(kind, native, a, input_tokens, output_tokens, details),
            )
        )
    for index, ev in enumerate(span.events):
        if ev.name != "exception":
            continue
        message = _first(ev.attributes, "exception.message", "exception.type") or "exception"
        events.append(
            event_of(
                id=event_id(span.trace_id, span.span_id, f":exception:{index}"),
                session_id=session_id,
                timestamp=_time(ev.time_unix_nano or span.end_unix_nano),
                type=EventType.ERROR,
                agent_id=_agent(agent),
                name=str(ev.attributes.get("exception.type") or "exception")[:MAX_NAME_CHARS],
                content=str(message),
                metadata={"attributes": ev.attributes, "otel.span_id": span.span_id},
                parent_id=own_id,
                status=EventStatus.ERROR,
            )
        )
    session = None
    if not span.parent_span_id:
        # Only a root span describes the session: a later batch of child spans
        # must not overwrite its title or status (writes upsert sessions).
        ended = not named  # a named conversation outlives one trace
        # agentlog's own export (`otel send`, `export --format otlp`) names the title,
        # status and parent in the resource; without them the conversation's name or the
        # root span's stands in, and the root span's status and the trace's end decide.
        title = a.get(TITLE_KEY, span.resource.get(TITLE_KEY))
        session_status = _session_status(a.get(STATUS_KEY, span.resource.get(STATUS_KEY)))
        if session_status is None:
            session_status = (
                SessionStatus.FAILED
                if failed
                else SessionStatus.COMPLETED
                if ended
                else SessionStatus.ACTIVE
            )
        else:
            ended = session_status != SessionStatus.ACTIVE
        parent_session = a.get(PARENT_KEY, span.resource.get(PARENT_KEY)) or None
        session = Session(
            id=session_id,
            title=(
                title[:MAX_TITLE_CHARS] if isinstance(title, str) else str(named or span.name)[:200]
            ),
            status=session_status,
            parent_session_id=parent_session if isinstance(parent_session, str) else None,
            metadata={"otel.trace_id": span.trace_id, **({"otel.session": named} if named else {})},
            created_at=start,
            updated_at=end,
            ended_at=end if ended else None,
        )
    return session, events


def _session_status(value: Any) -> SessionStatus | None:
    try:
        return SessionStatus(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _event_cost(
    kind: EventType,
    native: bool,
    a: dict[str, Any],
    input_tokens: int | None,
    output_tokens: int | None,
    details: dict[str, int | None],
) -> float | None:
    """`agentlog.cost_usd` when sent, else an LLM call's cost from the shared price table.

    An event AgentLog exported itself is not priced on the way back: no cost attribute
    there means the event had none. GenAI's input_tokens include the cached ones.
    """
    cost = _cost(a.get("agentlog.cost_usd"))
    if cost is not None or native or kind != EventType.LLM_CALL:
        return cost
    model = _first(a, "gen_ai.response.model", "gen_ai.request.model", "llm.model_name")
    return inclusive_cost(
        str(model) if model is not None else None,
        input_tokens,
        output_tokens,
        cache_read_tokens=details["cache_read_tokens"],
        cache_write_tokens=details["cache_creation_tokens"],
    )


def _cost(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return None


def _agent(value: Any) -> str | None:
    return None if value in (None, "") else str(value)[:200]


def map_spans(spans: list[Span]) -> Mapped:
    """Map a batch; a span that cannot be mapped is reported, never raised."""
    out = Mapped()
    # A span without a session attribute joins the session its trace names
    # elsewhere in the batch (instrumentations often set it on the root only).
    named: dict[str, str] = {}
    for span in spans:
        for key in SESSION_KEYS:
            value = span.attributes.get(key) or span.resource.get(key)
            if value not in (None, ""):
                named.setdefault(span.trace_id, str(value))
                break
    for span in spans:
        if span.trace_id in named and not any(
            span.attributes.get(k) or span.resource.get(k) for k in SESSION_KEYS
        ):
            span.attributes = {**span.attributes, "session.id": named[span.trace_id]}
        try:
            session, events = map_span(span)
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            out.rejected.append((span.span_id, validation_message(exc)[:300]))
            continue
        if session is not None:
            out.sessions[session.id] = session
            if _session_status(span.attributes.get(STATUS_KEY, span.resource.get(STATUS_KEY))):
                out.stated_status.add(session.id)
        out.events.extend(events)
    return out
