"""Write decoded spans to a Store and build OTLP's answer: durable before acknowledged.

`Store.write` commits its transaction before it returns, so the caller may
answer 2xx only after `ingest` has returned. The answer is OTLP's
ExportTraceServiceResponse with `partialSuccess` naming the spans rejected.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from agentlog.errors import NotFound
from agentlog.model import MAX_BATCH_EVENTS, Event, WriteResult
from agentlog.otel.mapping import Span, event_id, map_spans, session_name, trace_session_id
from agentlog.storage import Store


@dataclass
class IngestResult:
    """How many spans were stored and why the others were not."""

    spans: int = 0
    events: int = 0
    rejected: dict[str, str] = field(default_factory=dict)  # span id -> why

    def response_json(self) -> dict[str, Any]:
        """The OTLP/HTTP JSON body: `{}` on full success, else partialSuccess."""
        if not self.rejected:
            return {}
        return {
            "partialSuccess": {
                "rejectedSpans": str(len(self.rejected)),
                "errorMessage": self._message(),
            }
        }

    def _message(self) -> str:
        reasons = [f"span {sid}: {why}" for sid, why in list(self.rejected.items())[:20]]
        return "; ".join(reasons)[:2000]

    def response_protobuf(self) -> bytes:
        """The same answer as an ExportTraceServiceResponse protobuf."""
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

        answer = trace_service_pb2.ExportTraceServiceResponse()
        if self.rejected:
            answer.partial_success.rejected_spans = len(self.rejected)
            answer.partial_success.error_message = self._message()
        return bytes(answer.SerializeToString())


Written = Callable[[Sequence[Event], WriteResult], None]


def ingest(store: Store, spans: list[Span], on_written: Written | None = None) -> IngestResult:
    """Map and write spans; returns only after the store has committed them.

    `on_written(events, result)` runs after each committed chunk (the server
    counts and publishes there).
    """
    join_stored_traces(store, spans)
    mapped = map_spans(spans)
    result = IngestResult(spans=len(spans))
    result.rejected.update(mapped.rejected)
    sessions = list(mapped.sessions.values())
    events = mapped.events
    chunks: list[list[Event]] = [
        events[i : i + MAX_BATCH_EVENTS] for i in range(0, len(events), MAX_BATCH_EVENTS)
    ] or [[]]
    for index, chunk in enumerate(chunks):
        written = store.write(sessions if index == 0 else (), chunk)
        result.events += written.inserted + written.duplicates
        if on_written is not None:
            on_written(chunk, written)
        for err in written.errors:
            span_id = str(chunk[err.index].metadata.get("otel.span_id", "?"))
            result.rejected.setdefault(span_id, err.error)
    return result


def join_stored_traces(store: Store, spans: list[Span]) -> None:
    """Keep each trace in the session an earlier batch put it in.

    An exporter sends a long trace in several batches, and the span that names the
    conversation (`session.id`) is often the root, which ends, and so is sent, last. So:
    a span whose parent came in an earlier batch joins that parent's session; and a named
    trace whose spans were already stored under the trace's own session stays there (the
    root then gives that session its name). At most one lookup per trace, and only for
    traces that began before this batch.
    """
    by_trace: dict[str, list[Span]] = {}
    for span in spans:
        by_trace.setdefault(span.trace_id, []).append(span)
    for trace_id, members in by_trace.items():
        here = {s.span_id for s in members}
        session = _parent_session(store, trace_id, members, here)
        if session is None and any(session_name(s) for s in members):
            session = _stored_trace_session(store, trace_id)
        if session is not None:
            for span in members:
                span.joined_session = session


def _parent_session(store: Store, trace_id: str, spans: list[Span], here: set[str]) -> str | None:
    """The session of the stored parent of the first span whose parent is not in this batch."""
    for span in spans:
        if span.parent_span_id and span.parent_span_id not in here:
            try:
                return store.get_event(event_id(trace_id, span.parent_span_id)).session_id
            except NotFound:
                return None
    return None


def _stored_trace_session(store: Store, trace_id: str) -> str | None:
    """The trace's own session, if an earlier batch already stored events there."""
    session_id = trace_session_id(trace_id)
    try:
        summary = store.get_session(session_id)
    except NotFound:
        return None
    return session_id if summary.event_count else None
