"""Sessions as OTLP JSON (ExportTraceServiceRequest), the inverse of `mapping`.

Pure: a session and its events in, one OTLP JSON document out. Events that
came in as spans get their trace, span and parent ids, timing and attributes
back; native events get the session id as trace id and span ids derived from
their event ids. A tool call and its result become one span again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import orjson

from agentlog.model import Event, EventStatus, EventType, Session, to_us
from agentlog.otel.mapping import (
    AGENT_KEY,
    PARENT_KEY,
    STATUS_KEY,
    TITLE_KEY,
    TOKEN_DETAIL_KEYS,
)

_OPERATION = {
    EventType.LLM_CALL: "chat",
    EventType.TOOL_CALL: "execute_tool",
    EventType.HANDOFF: "invoke_agent",
}
_SPAN_KIND_INTERNAL, _SPAN_KIND_CLIENT = 1, 3


def any_value(value: Any) -> dict[str, Any]:
    """A Python value as an OTLP JSON AnyValue."""
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, list | tuple):
        return {"arrayValue": {"values": [any_value(v) for v in value]}}
    if isinstance(value, dict):
        return {"kvlistValue": {"values": key_values(value)}}
    return {"stringValue": "" if value is None else str(value)}


def key_values(attrs: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": str(k), "value": any_value(v)} for k, v in attrs.items() if v is not None]


def _span_id(event_id: str) -> str:
    return hashlib.sha256(event_id.encode()).hexdigest()[:16]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def _content_attrs(event: Event) -> dict[str, Any]:
    if event.content is None:
        return {}
    if event.type == EventType.TOOL_CALL:
        return {"gen_ai.tool.call.arguments": event.content}
    try:
        parsed = orjson.loads(event.content)
    except orjson.JSONDecodeError:
        return {"input.value": event.content}
    if isinstance(parsed, dict) and set(parsed) == {"input", "output"}:
        out = {"output.value": _text(parsed["output"])}
        if parsed["input"] is not None:
            out["input.value"] = _text(parsed["input"])
        return out
    return {"input.value": event.content}


def _attributes(event: Event) -> dict[str, Any]:
    meta = event.metadata
    attrs: dict[str, Any] = dict(meta.get("attributes") or {}) if "otel.span_id" in meta else {}
    for key in ("gen_ai.operation.name", "openinference.span.kind", "traceloop.span.kind"):
        if key in meta:
            attrs[key] = meta[key]
    if "otel.span_id" not in meta:
        attrs["agentlog.event.type"] = event.type.value
        if meta:
            attrs["agentlog.metadata"] = orjson.dumps(meta).decode()
    operation = _OPERATION.get(event.type)
    if operation and not any(
        k in attrs for k in ("openinference.span.kind", "traceloop.span.kind")
    ):
        attrs.setdefault("gen_ai.operation.name", operation)
    if event.type == EventType.LLM_CALL and event.name:
        attrs.setdefault("gen_ai.request.model", event.name)
    if event.type == EventType.TOOL_CALL and event.name:
        attrs.setdefault("gen_ai.tool.name", event.name)
    if event.type == EventType.HANDOFF and event.name:
        attrs.setdefault("gen_ai.agent.name", event.name)
    if event.agent_id and "gen_ai.agent.name" not in attrs:
        attrs["agent.name"] = event.agent_id
    attrs[AGENT_KEY] = event.agent_id or ""  # read back first; "" keeps "no agent"
    if event.input_tokens is not None:
        attrs["gen_ai.usage.input_tokens"] = event.input_tokens
    if event.output_tokens is not None:
        attrs["gen_ai.usage.output_tokens"] = event.output_tokens
    for field, keys in TOKEN_DETAIL_KEYS.items():
        value = getattr(event, field)
        if value is not None:
            attrs[keys[0]] = value  # the current GenAI name
    if event.cost_usd is not None:
        attrs["agentlog.cost_usd"] = event.cost_usd
    attrs.update(_content_attrs(event))
    return attrs


def session_to_otlp(
    session: Session, events: Iterable[Event], by_event: dict[str, str] | None = None
) -> dict[str, Any]:
    """A session's events as one OTLP JSON ExportTraceServiceRequest.

    For a session written page by page, pass the same `by_event` (event id ->
    span id) to every call, so parents and split spans resolve across pages.
    """
    native_trace = session.id.replace("-", "")
    by_event = {} if by_event is None else by_event
    done = set(by_event.values())  # spans sent in an earlier page
    spans: dict[str, dict[str, Any]] = {}  # span id -> OTLP span, in order
    for event in events:
        meta = event.metadata
        origin = meta.get("otel.span_id")
        span_id = str(origin) if origin else _span_id(event.id)
        by_event[event.id] = span_id
        if span_id in done:
            continue  # the second half of a span already sent with an earlier page
        start = to_us(event.timestamp) * 1000
        known = spans.get(span_id)
        if known is not None:
            # The second half of a span that mapped to two events.
            if event.type == EventType.TOOL_RESULT and event.content is not None:
                known["attributes"].append(
                    {"key": "gen_ai.tool.call.result", "value": any_value(event.content)}
                )
            elif event.type == EventType.ERROR:
                attrs = dict(meta.get("attributes") or {})
                known.setdefault("events", []).append(
                    {
                        "name": "exception",
                        "timeUnixNano": str(start),
                        "attributes": key_values(attrs),
                    }
                )
            continue
        trace_id = str(meta.get("otel.trace_id") or native_trace)
        parent = meta.get("otel.parent_span_id") or (
            by_event.get(event.parent_id, "") if event.parent_id else ""
        )
        end = start + round((event.duration_ms or 0) * 1000) * 1000
        span: dict[str, Any] = {
            "traceId": trace_id,
            "spanId": span_id,
            "name": str(meta.get("otel.span_name") or event.name or event.type.value),
            "kind": int(
                meta.get("otel.kind")
                or (_SPAN_KIND_CLIENT if event.type == EventType.LLM_CALL else _SPAN_KIND_INTERNAL)
            ),
            "startTimeUnixNano": str(start),
            "endTimeUnixNano": str(end),
            "attributes": key_values(_attributes(event)),
            "status": (
                {"code": 2, "message": str(meta.get("otel.status_message") or "")}
                if event.status == EventStatus.ERROR
                else {}
            ),
        }
        if parent:
            span["parentSpanId"] = str(parent)
        spans[span_id] = span
    resource: dict[str, Any] = {
        "service.name": "agentlog",
        TITLE_KEY: session.title,
        STATUS_KEY: session.status.value,
    }
    if session.parent_session_id:
        resource[PARENT_KEY] = session.parent_session_id
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": key_values(resource)},
                "scopeSpans": [{"scope": {"name": "agentlog"}, "spans": list(spans.values())}],
            }
        ]
    }
