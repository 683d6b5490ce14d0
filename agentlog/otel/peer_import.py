"""`agentlog import --from langfuse|phoenix|otlp`: a peer's export into the store, with a report.

The file is read whole (JSON document, API page or JSON lines), every record
becomes spans (`langfuse`, `phoenix`; `otlp`: each line an OTLP JSON request, as
`export --format otlp` writes), the spans map to sessions and events
exactly as OTLP ingest maps them, and only then is anything written — in store
batches, idempotently (ids derive from the peer's trace and span ids, so a second
import of the same file adds nothing). A record that cannot be mapped is reported
with its line or index and why; `strict` writes nothing when any record is bad.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson

from agentlog.errors import InvalidOTLP, UsageError
from agentlog.model import MAX_BATCH_EVENTS, SessionStatus
from agentlog.otel import langfuse, phoenix
from agentlog.otel.decode import decode_request
from agentlog.otel.mapping import SESSION_KEYS, Mapped, Span, map_spans
from agentlog.storage.base import Store, session_exists
from agentlog.transfer.fileio import open_input
from agentlog.transfer.report import KEEP_PROBLEMS, ImportReport, Problem

SOURCES = ("langfuse", "phoenix", "otlp")
_EXPECTED = {
    "langfuse": "a langfuse export (JSON or JSON lines)",
    "phoenix": "a phoenix export (JSON or JSON lines)",
    "otlp": "OTLP JSON (one ExportTraceServiceRequest a line)",
}


def read_records(data: bytes, source: str) -> Iterator[tuple[str, Any]]:
    """(where, record) for each record of a JSON document, an API page or JSON lines."""
    text = data.lstrip()
    if not text:
        raise UsageError(f"the file is empty; expected {_EXPECTED[source]}")
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError:
        doc = None
    if doc is not None:
        if isinstance(doc, dict) and isinstance(doc.get("data"), list):
            doc = doc["data"]  # an API page: {"data": [...], "meta"/"next_cursor": ...}
        items = doc if isinstance(doc, list) else [doc]
        for index, item in enumerate(items):
            yield f"item {index + 1}", item
        return
    for number, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield f"line {number}", orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            if number == 1:
                raise UsageError(
                    f"the file is neither JSON nor JSON lines ({exc}); expected {_EXPECTED[source]}"
                ) from None
            yield f"line {number}", exc


def spans_from(data: bytes, source: str, report: ImportReport) -> tuple[list[Span], list[Any]]:
    """Every span the file's records hold, and the raw records that were rejected."""
    records = list(read_records(data, source))
    rejected: list[Any] = []
    traces = {
        str(r["id"])
        for _, r in records
        if source == "langfuse"
        and isinstance(r, dict)
        and "id" in r
        and not langfuse.is_observation(r)
    }
    spans: list[Span] = []
    for where, record in records:
        try:
            if isinstance(record, Exception):
                raise ValueError(f"not JSON: {record}")
            if not isinstance(record, dict):
                raise ValueError(f"a record is a JSON object, got {type(record).__name__}")
            if source == "langfuse":
                spans.extend(langfuse.spans_of(record, traces))
            elif source == "otlp":
                if not isinstance(record.get("resourceSpans"), list):
                    raise ValueError(
                        "not an OTLP JSON ExportTraceServiceRequest: no resourceSpans list"
                    )
                spans.extend(decode_request(record))
            else:
                spans.append(phoenix.phoenix_span(record))
        except (ValueError, TypeError, InvalidOTLP) as exc:
            _reject(report, where, str(exc).splitlines()[0][:300], record)
            rejected.append(record if not isinstance(record, Exception) else None)
    return spans, rejected


def _reject(report: ImportReport, where: str, reason: str, record: Any = None) -> None:
    report.events.rejected += 1
    if len(report.rejects) < KEEP_PROBLEMS:
        rid = record.get("id") if isinstance(record, dict) else None
        report.rejects.append(Problem(where=where, reason=f"{where}: {reason}", id=rid))


def _join_sessions(spans: list[Span]) -> None:
    """Every span of a trace joins the session any span of that trace names (file-wide)."""
    named: dict[str, str] = {}
    for span in spans:
        for key in SESSION_KEYS:
            value = span.attributes.get(key)
            if value not in (None, ""):
                named.setdefault(span.trace_id, str(value))
                break
    for span in spans:
        if span.trace_id in named and not any(span.attributes.get(k) for k in SESSION_KEYS):
            span.attributes["session.id"] = named[span.trace_id]


def _inherit_agents(spans: list[Span]) -> None:
    """A span under an agent's span belongs to that agent (the nearest one up the tree)."""
    by_id = {(s.trace_id, s.span_id): s for s in spans}
    for span in spans:
        if span.attributes.get("gen_ai.agent.name") or span.attributes.get("agent.name"):
            continue
        parent = by_id.get((span.trace_id, span.parent_span_id))
        seen = 0
        while parent is not None and seen < 1000:  # a cycle in hostile input ends here
            name = parent.attributes.get("agent.name") or parent.attributes.get("gen_ai.agent.name")
            if name and str(parent.attributes.get("openinference.span.kind")).upper() == "AGENT":
                span.attributes["gen_ai.agent.name"] = name
                break
            parent = by_id.get((parent.trace_id, parent.parent_span_id))
            seen += 1


def _as_history(mapped: Mapped) -> None:
    """An imported conversation is over: it ends at its last event, not "active" forever.

    A session whose status its spans state (agentlog's own export) keeps that status.
    """
    last: dict[str, Any] = {}
    for event in mapped.events:
        end = event.timestamp + timedelta(milliseconds=event.duration_ms or 0)
        if event.session_id not in last or end > last[event.session_id]:
            last[event.session_id] = end
    for session in mapped.sessions.values():
        if session.status == SessionStatus.ACTIVE and session.id not in mapped.stated_status:
            session.status = SessionStatus.COMPLETED
            session.ended_at = last.get(session.id, session.updated_at)


def import_peer(
    store: Store,
    path: str | Path,
    source: str,
    *,
    dry_run: bool = False,
    strict: bool = False,
    rejects_path: str | None = None,
) -> ImportReport:
    """Import a Langfuse, Phoenix or OTLP JSON export into `store` (see the module docstring)."""
    if source not in SOURCES:
        raise UsageError(f"unknown source {source!r}; use one of {', '.join(SOURCES)}")
    report = ImportReport(format=source, dry_run=dry_run, strict=strict)
    with open_input(path) as infile:
        data = infile.stream.read()
    spans, rejected = spans_from(data, source, report)
    _join_sessions(spans)
    _inherit_agents(spans)
    mapped = map_spans(spans)
    _as_history(mapped)
    for span_id, why in mapped.rejected:
        _reject(report, f"span {span_id}", why)
    if rejects_path and rejected:
        with open(rejects_path, "wb") as out:
            for record in rejected:
                if record is not None:
                    out.write(orjson.dumps(record) + b"\n")
    if strict and report.rejected:
        report.rolled_back = False
        return report
    sessions = list(mapped.sessions.values())
    for session in sessions:
        if session_exists(store, session.id):
            report.sessions.duplicates += 1
        else:
            report.sessions.imported += 1
    if dry_run:
        report.events.imported = len(mapped.events)
        return report
    events = mapped.events
    for start in range(0, max(len(events), 1), MAX_BATCH_EVENTS):
        chunk = events[start : start + MAX_BATCH_EVENTS]
        result = store.write(sessions if start == 0 else (), chunk)
        report.events.imported += result.inserted
        report.events.duplicates += result.duplicates
        for err in result.errors:
            _reject(report, f"event {chunk[err.index].id}", err.error)
    return report
