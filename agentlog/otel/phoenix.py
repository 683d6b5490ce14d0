"""Arize Phoenix span exports -> OTel spans (the REST API's span shape, OpenInference attributes).

Phoenix returns spans as `{"name", "context": {"trace_id", "span_id"}, "parent_id",
"span_kind", "start_time", "end_time", "status_code", "status_message",
"attributes", "events"}`, alone, in a JSON array, as JSON lines or in an API page
`{"data": [...]}`. Attributes may be flat (`llm.model_name`) or nested objects;
both become OTel's dotted keys, so the OTLP mapping reads them unchanged.
"""

from __future__ import annotations

from typing import Any

from agentlog.otel.mapping import Span, SpanEvent
from agentlog.otel.peer_fields import first, flatten, nanos

_STATUS = {"UNSET": 0, "OK": 1, "ERROR": 2}


def is_phoenix_span(record: dict[str, Any]) -> bool:
    return isinstance(record.get("context"), dict) and "span_id" in record["context"]


def phoenix_span(record: dict[str, Any]) -> Span:
    """One Phoenix span, or ValueError saying which field is wrong."""
    context = record.get("context")
    if not isinstance(context, dict):
        raise ValueError("context is missing (a Phoenix span has context.trace_id and span_id)")
    trace_id = str(context.get("trace_id") or "")
    span_id = str(context.get("span_id") or "")
    if not trace_id or not span_id:
        raise ValueError("context.trace_id or context.span_id is missing")
    start = nanos(first(record, "start_time") or "", "start_time")
    end_raw = first(record, "end_time")
    end = nanos(end_raw, "end_time") if end_raw is not None else start
    attrs = flatten(record.get("attributes") or {})
    kind = str(record.get("span_kind") or "").upper()
    if kind and kind != "UNKNOWN":
        attrs.setdefault("openinference.span.kind", kind)
    status = str(record.get("status_code") or "UNSET").upper()
    events = []
    for ev in record.get("events") or []:
        if isinstance(ev, dict):
            when = ev.get("timestamp")
            events.append(
                SpanEvent(
                    name=str(ev.get("name") or ""),
                    time_unix_nano=nanos(when, "events.timestamp") if when else end,
                    attributes=flatten(ev.get("attributes") or {}),
                )
            )
    return Span(
        trace_id=trace_id.lower(),
        span_id=span_id.lower(),
        parent_span_id=str(record.get("parent_id") or "").lower(),
        name=str(record.get("name") or kind.lower() or "span"),
        start_unix_nano=start,
        end_unix_nano=max(end, start),
        attributes=attrs,
        events=events,
        status_code=_STATUS.get(status, 0),
        status_message=str(record.get("status_message") or ""),
    )
