"""OTLP -> AgentLog -> OTLP keeps ids, timing and attributes; the export parses as OTLP."""

from __future__ import annotations

import base64
import copy
import threading
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from agentlog.model import Event, EventType, Session
from agentlog.otel.files import export_otlp, send_otlp
from agentlog.otel.peer_import import import_peer
from agentlog.otel.receiver import OTLPReceiver
from agentlog.storage import EventQuery, Store, open_store
from agentlog.transfer.export import Selection

pytest.importorskip("opentelemetry.exporter.otlp.proto.http")

from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import Status, StatusCode


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[OTLPReceiver]:
    store = open_store(str(tmp_path / "a.db"))
    server = OTLPReceiver(store, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)
    store.close()


def _emit(url: str) -> InMemorySpanExporter:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=url, timeout=10)))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("invoke_workflow plan", attributes={"custom.flag": True}):
        with tracer.start_as_current_span(
            "chat claude",
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "claude",
                "gen_ai.usage.input_tokens": 4,
                "gen_ai.usage.output_tokens": 5,
                "gen_ai.request.temperature": 0.5,
                "gen_ai.request.stop_sequences": ["x", "y"],
            },
        ):
            pass
        with tracer.start_as_current_span(
            "execute_tool search",
            attributes={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "search",
                "gen_ai.tool.call.arguments": "q=otel",
                "gen_ai.tool.call.result": "3 hits",
            },
        ) as tool:
            tool.set_status(Status(StatusCode.ERROR, "rate limited"))
    provider.shutdown()
    return memory


def _parse_as_otlp(doc: dict) -> trace_service_pb2.ExportTraceServiceRequest:
    """OTLP JSON carries hex ids; protobuf's JSON mapping wants base64, else it is the same."""
    doc = copy.deepcopy(doc)
    for rs in doc["resourceSpans"]:
        for ss in rs["scopeSpans"]:
            for span in ss["spans"]:
                for key in ("traceId", "spanId", "parentSpanId"):
                    if span.get(key):
                        span[key] = base64.b64encode(bytes.fromhex(span[key])).decode()
    return json_format.Parse(orjson.dumps(doc), trace_service_pb2.ExportTraceServiceRequest())


def test_round_trip_keeps_ids_timing_attributes(receiver: OTLPReceiver, tmp_path: Path) -> None:
    memory = _emit(receiver.url + "/v1/traces")
    out = tmp_path / "out.otlp.jsonl"
    stats = export_otlp(receiver.store, Selection(all=True), str(out))
    assert (stats.sessions, stats.events) == (1, 4)
    (line,) = out.read_bytes().splitlines()
    request = _parse_as_otlp(orjson.loads(line))
    exported = {
        s.span_id.hex(): s
        for rs in request.resource_spans
        for ss in rs.scope_spans
        for s in ss.spans
    }
    originals = memory.get_finished_spans()
    assert len(exported) == len(originals) == 3
    for original in originals:
        span = exported[f"{original.context.span_id:016x}"]
        assert span.trace_id.hex() == f"{original.context.trace_id:032x}"
        parent = f"{original.parent.span_id:016x}" if original.parent else ""
        assert span.parent_span_id.hex() == parent
        assert span.name == original.name
        # AgentLog keeps microseconds.
        assert span.start_time_unix_nano == original.start_time // 1000 * 1000
        assert span.end_time_unix_nano == original.end_time // 1000 * 1000
        attrs = {kv.key: json_format.MessageToDict(kv.value) for kv in span.attributes}
        for key, value in original.attributes.items():
            assert key in attrs, key
            got = next(iter(attrs[key].values()))
            if isinstance(value, tuple):
                assert [next(iter(v.values())) for v in got["values"]] == list(value)
            elif isinstance(value, bool | float | str):
                assert got == value, key
            else:
                assert int(got) == value, key
        assert span.status.code == original.status.status_code.value


def test_export_ingested_again_is_idempotent(receiver: OTLPReceiver, tmp_path: Path) -> None:
    _emit(receiver.url + "/v1/traces")
    before = [(e.id, e.agent_id) for e in receiver.store.list_events(EventQuery())]
    sent = send_otlp(receiver.store, Selection(all=True), receiver.url)
    assert sent.requests == 1
    assert [(e.id, e.agent_id) for e in receiver.store.list_events(EventQuery())] == before


def test_native_session_exports_and_reimports(tmp_path: Path) -> None:
    store: Store = open_store(str(tmp_path / "n.db"))
    session = Session(title="native")
    call = Event(
        session_id=session.id, type=EventType.TOOL_CALL, name="ls", content="-la", duration_ms=3.0
    )
    store.write(
        [session],
        [call, Event(session_id=session.id, type=EventType.LOG, content="done", parent_id=call.id)],
    )
    out = tmp_path / "n.jsonl"
    export_otlp(store, Selection(all=True), str(out))
    store.close()
    request = _parse_as_otlp(orjson.loads(out.read_bytes()))
    spans = list(request.resource_spans[0].scope_spans[0].spans)
    assert spans[0].trace_id.hex() == session.id.replace("-", "")
    assert spans[1].parent_span_id == spans[0].span_id
    target = open_store(str(tmp_path / "t.db"))
    try:
        from agentlog.otel.decode import decode_json
        from agentlog.otel.ingest import ingest

        ingest(target, decode_json(out.read_bytes()))
        events = list(target.list_events(EventQuery(session_id=session.id)))
        assert [(e.type, e.content) for e in events] == [
            (EventType.TOOL_CALL, "-la"),
            (EventType.LOG, "done"),
        ]
        # The title travels as the resource's agentlog.session.title, not as a span name.
        assert target.get_session(session.id).title == "native"
    finally:
        target.close()


def test_sent_session_keeps_its_title(receiver: OTLPReceiver, tmp_path: Path) -> None:
    """`otel send` to another store's receiver, then read back: the title is the session's."""
    source = open_store(str(tmp_path / "s.db"))
    try:
        session = Session(title="Refactor the parser " + "x" * 300)
        source.write(
            [session],
            [Event(session_id=session.id, type=EventType.LLM_CALL, name="claude", content="hi")],
        )
        assert send_otlp(source, Selection(all=True), receiver.url).requests == 1
    finally:
        source.close()
    assert receiver.store.get_session(session.id).title == session.title


def _agents_session() -> tuple[Session, list[Event]]:
    """Native events of each kind, by two agents and by none; a handoff names its target."""
    session = Session(title="agents")
    call = Event(
        session_id=session.id, type=EventType.TOOL_CALL, agent_id="coder", name="ls", content="-la"
    )
    events = [
        Event(session_id=session.id, type=EventType.LLM_CALL, agent_id="planner", name="claude"),
        Event(session_id=session.id, type=EventType.HANDOFF, agent_id="planner", name="coder"),
        Event(session_id=session.id, type=EventType.HANDOFF, name="reviewer"),
        call,
        Event(
            session_id=session.id,
            type=EventType.TOOL_RESULT,
            agent_id="coder",
            name="ls",
            content="a b",
            parent_id=call.id,
        ),
        Event(
            session_id=session.id,
            type=EventType.ERROR,
            agent_id="coder",
            name="ValueError",
            content="boom",
        ),
        Event(session_id=session.id, type=EventType.LOG, name="note", content="-"),
        Event(session_id=session.id, type=EventType.STATE_UPDATE, agent_id="agentlog", name="step"),
    ]
    return session, events


def _agent_ids(store: Store, session_id: str) -> dict[tuple[EventType, str | None], str | None]:
    """Each event's agent by its type and name (unique here; ids change through OTLP)."""
    events = list(store.list_events(EventQuery(session_id=session_id)))
    assert len(events) == 8
    return {(e.type, e.name): e.agent_id for e in events}


def test_native_agent_ids_survive_export_and_import(tmp_path: Path) -> None:
    """`export --format otlp` then `import --from otlp`: each event keeps its agent, or none."""
    session, events = _agents_session()
    source = open_store(str(tmp_path / "s.db"))
    try:
        source.write([session], events)
        before = _agent_ids(source, session.id)
        export_otlp(source, Selection(all=True), str(tmp_path / "a.otlp.jsonl"))
    finally:
        source.close()
    target = open_store(str(tmp_path / "t.db"))
    try:
        import_peer(target, tmp_path / "a.otlp.jsonl", "otlp")
        assert _agent_ids(target, session.id) == before
    finally:
        target.close()


def test_native_agent_ids_survive_otel_send(receiver: OTLPReceiver, tmp_path: Path) -> None:
    """`otel send` to another store's `otel receive`: each event keeps its agent, or none."""
    session, events = _agents_session()
    source = open_store(str(tmp_path / "s.db"))
    try:
        source.write([session], events)
        before = _agent_ids(source, session.id)
        assert send_otlp(source, Selection(all=True), receiver.url).requests == 1
    finally:
        source.close()
    assert _agent_ids(receiver.store, session.id) == before


def _family() -> tuple[list[Session], list[Event]]:
    """A supervisor (completed, with a handled ERROR) and 3 child sessions of each status."""
    from agentlog.model import EventStatus, SessionStatus

    supervisor = Session(title="supervisor", status=SessionStatus.COMPLETED)
    children = [
        Session(title=f"child {status.value}", status=status, parent_session_id=supervisor.id)
        for status in (SessionStatus.COMPLETED, SessionStatus.FAILED, SessionStatus.ACTIVE)
    ]
    events = [
        Event(session_id=supervisor.id, type=EventType.HANDOFF, name="child"),
        Event(session_id=supervisor.id, type=EventType.LOG, content="retrying"),
        Event(
            session_id=supervisor.id,
            type=EventType.ERROR,
            name="Timeout",
            content="handled",
            status=EventStatus.ERROR,
        ),
    ]
    for child in children:
        events.append(Event(session_id=child.id, type=EventType.LLM_CALL, name="claude"))
    return [supervisor, *children], events


def _links(store: Store, sessions: list[Session]) -> dict[str, tuple[str | None, str]]:
    return {
        s.id: (
            store.get_session(s.id).parent_session_id,
            store.get_session(s.id).status.value,
        )
        for s in sessions
    }


def test_session_links_and_status_survive_export_and_import(tmp_path: Path) -> None:
    """`export --format otlp` then `import --from otlp`: parent links and statuses stay."""
    sessions, events = _family()
    source = open_store(str(tmp_path / "s.db"))
    try:
        source.write(sessions, events)
        before = _links(source, sessions)
        export_otlp(source, Selection(all=True), str(tmp_path / "f.otlp.jsonl"))
    finally:
        source.close()
    assert sorted(v[1] for v in before.values()) == ["active", "completed", "completed", "failed"]
    target = open_store(str(tmp_path / "t.db"))
    try:
        import_peer(target, tmp_path / "f.otlp.jsonl", "otlp")
        assert _links(target, sessions) == before
    finally:
        target.close()


def test_session_links_and_status_survive_otel_send(receiver: OTLPReceiver, tmp_path: Path) -> None:
    """`otel send` to another store's `otel receive`: parent links and statuses stay."""
    sessions, events = _family()
    source = open_store(str(tmp_path / "s.db"))
    try:
        source.write(sessions, events)
        before = _links(source, sessions)
        assert send_otlp(source, Selection(all=True), receiver.url).requests == 4
    finally:
        source.close()
    assert _links(receiver.store, sessions) == before
