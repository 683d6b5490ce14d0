"""Write decoded spans to a Store and build OTLP's answer: durable before acknowledged.

`Store.write` commits its transaction before it returns, so the caller may
answer 2xx only after `ingest` has returned. The answer is OTLP's
ExportTraceServiceResponse with `partialSuccess` naming the spans rejected.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from agentlog.model import MAX_BATCH_EVENTS, Event, WriteResult
from agentlog.otel.mapping import Span, map_spans
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
