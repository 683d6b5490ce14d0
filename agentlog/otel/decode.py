"""Decode OTLP/HTTP trace bodies (protobuf or JSON, optionally gzip) into `Span`s.

The protobuf classes come from `opentelemetry-proto` (the `[otel]` extra),
imported only when a protobuf body arrives. OTLP JSON is read directly: its
ids are hex, not the base64 that protobuf's own JSON mapping expects.
"""

from __future__ import annotations

import base64
import zlib
from typing import Any

import orjson

from agentlog.errors import InvalidOTLP, PayloadTooLarge
from agentlog.otel.mapping import Span, SpanEvent

MAX_BODY_BYTES = 10 * 1024 * 1024  # the same ceiling as a write batch (model.MAX_BATCH_BYTES)
PROTOBUF = "application/x-protobuf"
JSON = "application/json"


OTLPDecodeError = InvalidOTLP


def _load_proto() -> Any:
    try:
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
    except ImportError:  # pragma: no cover - depends on the install
        raise OTLPDecodeError(
            "OTLP protobuf needs the otel extra: pip install 'agentlog[otel]'"
        ) from None
    return trace_service_pb2


def inflate(body: bytes, encoding: str | None) -> bytes:
    """Undo Content-Encoding (gzip or deflate), refusing output over the body limit."""
    enc = (encoding or "identity").strip().lower()
    if enc in ("", "identity"):
        data = body
    elif enc in ("gzip", "deflate"):
        wbits = 16 + zlib.MAX_WBITS if enc == "gzip" else zlib.MAX_WBITS
        inflater = zlib.decompressobj(wbits)
        try:
            data = inflater.decompress(body, MAX_BODY_BYTES + 1)
        except zlib.error as exc:
            raise OTLPDecodeError(f"body is not valid {enc}: {exc}") from None
        if len(data) <= MAX_BODY_BYTES and not inflater.eof:
            raise OTLPDecodeError(f"body is truncated {enc}")
    else:
        raise OTLPDecodeError(f"unsupported Content-Encoding {encoding!r}; use gzip or none")
    if len(data) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"OTLP body is over {MAX_BODY_BYTES:,} bytes; send smaller batches")
    return data


def decode(body: bytes, content_type: str | None, encoding: str | None = None) -> list[Span]:
    """Spans from an OTLP/HTTP ExportTraceServiceRequest body."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media not in (PROTOBUF, JSON):
        raise OTLPDecodeError(
            f"unsupported Content-Type {content_type!r}; send {PROTOBUF} or {JSON}"
        )
    data = inflate(body, encoding)
    return decode_protobuf(data) if media == PROTOBUF else decode_json(data)


# ---------------------------------------------------------------- protobuf
def _pb_value(value: Any) -> Any:
    which = value.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return [_pb_value(v) for v in value.array_value.values]
    if which == "kvlist_value":
        return {kv.key: _pb_value(kv.value) for kv in value.kvlist_value.values}
    if which == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return getattr(value, which)


def _pb_attrs(attrs: Any) -> dict[str, Any]:
    return {kv.key: _pb_value(kv.value) for kv in attrs}


def decode_protobuf(data: bytes) -> list[Span]:
    pb = _load_proto()
    request = pb.ExportTraceServiceRequest()
    try:
        request.ParseFromString(data)
    except Exception as exc:  # protobuf raises DecodeError, a bare Exception subclass
        raise OTLPDecodeError(
            f"body is not an OTLP protobuf ExportTraceServiceRequest: {exc}"
        ) from None
    spans: list[Span] = []
    for rs in request.resource_spans:
        resource = _pb_attrs(rs.resource.attributes)
        for ss in rs.scope_spans:
            scope = ss.scope.name
            for s in ss.spans:
                spans.append(
                    Span(
                        trace_id=s.trace_id.hex(),
                        span_id=s.span_id.hex(),
                        parent_span_id=s.parent_span_id.hex(),
                        name=s.name,
                        kind=int(s.kind),
                        start_unix_nano=int(s.start_time_unix_nano),
                        end_unix_nano=int(s.end_time_unix_nano),
                        attributes=_pb_attrs(s.attributes),
                        events=[
                            SpanEvent(e.name, int(e.time_unix_nano), _pb_attrs(e.attributes))
                            for e in s.events
                        ],
                        status_code=int(s.status.code),
                        status_message=s.status.message,
                        resource=resource,
                        scope=scope,
                    )
                )
    return spans


# ---------------------------------------------------------------- JSON
def _json_value(value: Any) -> Any:
    if not isinstance(value, dict):
        return None
    if "stringValue" in value:
        return str(value["stringValue"])
    if "intValue" in value:
        return int(value["intValue"])
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "arrayValue" in value:
        return [_json_value(v) for v in (value["arrayValue"] or {}).get("values", [])]
    if "kvlistValue" in value:
        return _json_attrs((value["kvlistValue"] or {}).get("values", []))
    if "bytesValue" in value:
        return str(value["bytesValue"])
    return None


def _json_attrs(attrs: Any) -> dict[str, Any]:
    if not isinstance(attrs, list):
        raise ValueError("attributes must be a list")
    return {str(kv["key"]): _json_value(kv.get("value")) for kv in attrs}


def _hex_id(value: Any, size: int, field: str) -> str:
    text = str(value or "").lower()
    if text and (len(text) != size * 2 or any(c not in "0123456789abcdef" for c in text)):
        raise ValueError(f"{field} {text[:40]!r} is not {size} bytes of hex")
    return text


def decode_json(data: bytes) -> list[Span]:
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise OTLPDecodeError(
            f"body is not an OTLP JSON ExportTraceServiceRequest: {exc}"
        ) from None
    try:
        return decode_request(doc)
    except OTLPDecodeError as exc:
        raise OTLPDecodeError(f"body is {exc.message}") from None


def decode_request(doc: Any) -> list[Span]:
    """The spans of one parsed OTLP JSON ExportTraceServiceRequest (a body, or a line of a file)."""
    try:
        spans: list[Span] = []
        for rs in doc.get("resourceSpans", []) or []:
            resource = _json_attrs((rs.get("resource") or {}).get("attributes", []))
            for ss in rs.get("scopeSpans", []) or []:
                scope = str((ss.get("scope") or {}).get("name", ""))
                for s in ss.get("spans", []) or []:
                    status = s.get("status") or {}
                    spans.append(
                        Span(
                            trace_id=_hex_id(s.get("traceId"), 16, "traceId"),
                            span_id=_hex_id(s.get("spanId"), 8, "spanId"),
                            parent_span_id=_hex_id(s.get("parentSpanId"), 8, "parentSpanId"),
                            name=str(s.get("name", "")),
                            kind=int(s.get("kind", 0) or 0),
                            start_unix_nano=int(s.get("startTimeUnixNano", 0) or 0),
                            end_unix_nano=int(s.get("endTimeUnixNano", 0) or 0),
                            attributes=_json_attrs(s.get("attributes", [])),
                            events=[
                                SpanEvent(
                                    str(e.get("name", "")),
                                    int(e.get("timeUnixNano", 0) or 0),
                                    _json_attrs(e.get("attributes", [])),
                                )
                                for e in s.get("events", []) or []
                            ],
                            status_code=int(status.get("code", 0) or 0),
                            status_message=str(status.get("message", "")),
                            resource=resource,
                            scope=scope,
                        )
                    )
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise OTLPDecodeError(f"not an OTLP JSON ExportTraceServiceRequest: {exc}") from None
    return spans
