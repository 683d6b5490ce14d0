"""`agentlog import --from langfuse|phoenix`: peers' exports become sessions, idempotently."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from agentlog.cli.app import app
from agentlog.model import EventStatus, EventType
from tests.support.stored import read

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def run(db: Path, *args: str):
    return CliRunner().invoke(app, ["--db", str(db), "import", *args])


# ---------------------------------------------------------------- Langfuse
def langfuse_observations() -> list[bytes]:
    """A support agent's trace as Langfuse's v2 observations API returns it (its own models)."""
    lf = pytest.importorskip("langfuse.api.commons.types.observation_v2")
    common = {"trace_id": "lf-trace-1", "project_id": "proj", "session_id": "chat-42"}
    rows = [
        lf.ObservationV2(
            id="obs-agent",
            type="AGENT",
            name="support",
            start_time=at(0),
            end_time=at(5),
            input={"question": "where is my order?"},
            output="it ships tomorrow",
            **common,
        ),
        lf.ObservationV2(
            id="obs-gen",
            type="GENERATION",
            name="plan",
            parent_observation_id="obs-agent",
            start_time=at(0.1),
            end_time=at(1.2),
            model="gpt-4o",
            input=[{"role": "user", "content": "where is my order?"}],
            output={"role": "assistant", "content": "calling lookup_order"},
            usage_details={"input": 812, "output": 96, "cache_read_input_tokens": 512},
            cost_details={"total": 0.0031},
            total_cost=0.0031,
            **common,
        ),
        lf.ObservationV2(
            id="obs-tool",
            type="TOOL",
            name="lookup_order",
            parent_observation_id="obs-agent",
            start_time=at(1.3),
            end_time=at(1.5),
            input={"order": 1000},
            output={"status": "packed"},
            **common,
        ),
        lf.ObservationV2(
            id="obs-fail",
            type="SPAN",
            name="notify",
            parent_observation_id="obs-agent",
            start_time=at(2),
            end_time=at(2.1),
            level="ERROR",
            status_message="SMTP timeout",
            **common,
        ),
        lf.ObservationV2(
            id="obs-event",
            type="EVENT",
            name="user feedback",
            parent_observation_id="obs-agent",
            start_time=at(4),
            input="thumbs up",
            **common,
        ),
    ]
    return [row.json().encode() for row in rows]


def test_langfuse_observations_import_with_types_tokens_cost_and_threading(tmp_path) -> None:
    export = tmp_path / "observations.jsonl"
    export.write_bytes(b"\n".join(langfuse_observations()) + b"\n")
    db = tmp_path / "a.db"
    result = run(db, "--from", "langfuse", str(export), "--json")
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.stdout)
    assert report["events"]["imported"] == 6 and report["events"]["rejected"] == 0
    sessions, events = read(db)
    assert len(sessions) == 1 and sessions[0].title == "chat-42"
    assert sessions[0].status == "completed" and sessions[0].ended_at == at(5)
    assert {e.agent_id for e in events} == {"support"}  # everything under the agent's span
    by_name = {(e.type, e.name): e for e in events}
    llm = by_name[(EventType.LLM_CALL, "gpt-4o")]
    assert (llm.input_tokens, llm.output_tokens, llm.cost_usd) == (812, 96, 0.0031)
    assert llm.duration_ms == pytest.approx(1100)
    assert orjson.loads(llm.content)["input"][0]["content"] == "where is my order?"
    assert llm.metadata["attributes"]["langfuse.usage.cache_read_input_tokens"] == 512
    agent = by_name[(EventType.HANDOFF, "support")]
    assert llm.parent_id == agent.id and agent.parent_id is None
    call = by_name[(EventType.TOOL_CALL, "lookup_order")]
    result_event = by_name[(EventType.TOOL_RESULT, "lookup_order")]
    assert result_event.parent_id == call.id and orjson.loads(result_event.content) == {
        "status": "packed"
    }
    failed = by_name[(EventType.STATE_UPDATE, "notify")]
    assert failed.status == EventStatus.ERROR
    assert failed.metadata["otel.status_message"] == "SMTP timeout"
    assert by_name[(EventType.LOG, "user feedback")].content == "thumbs up"
    # A second import of the same file adds nothing.
    again = orjson.loads(run(db, "--from", "langfuse", str(export), "--json").stdout)
    assert again["events"] == {**again["events"], "imported": 0, "duplicates": 6}
    assert again["sessions"]["duplicates"] == 1
    assert len(read(db)[1]) == 6


def test_a_legacy_trace_export_with_nested_observations(tmp_path) -> None:
    """The v2/v3 public API's trace detail (documented schema): observations inside traces."""
    traces = [
        {
            "id": "7f3c2a10b8e94c5f9d21e6a4b3c2d1e0",
            "timestamp": "2026-11-30T09:00:00.000Z",
            "name": "triage",
            "sessionId": None,
            "userId": "u-7",
            "tags": ["prod"],
            "latency": 2.5,
            "input": "why did the deploy fail?",
            "output": "a migration timed out",
            "observations": [
                {
                    "id": "gen-1",
                    "type": "GENERATION",
                    "name": "answer",
                    "startTime": "2026-11-30T09:00:00.100Z",
                    "endTime": "2026-11-30T09:00:01.000Z",
                    "model": "claude-sonnet",
                    "usage": {"input": 100, "output": 20, "total": 120, "unit": "TOKENS"},
                    "calculatedTotalCost": 0.002,
                    "parentObservationId": None,
                    "level": "DEFAULT",
                }
            ],
        }
    ]
    export = tmp_path / "traces.json"
    export.write_bytes(orjson.dumps(traces))
    db = tmp_path / "a.db"
    result = run(db, "--from", "langfuse", str(export))
    assert result.exit_code == 0, result.output
    sessions, events = read(db)
    assert [s.title for s in sessions] == ["triage"]
    root = next(e for e in events if e.name == "triage")
    gen = next(e for e in events if e.type == EventType.LLM_CALL)
    assert gen.parent_id == root.id and (gen.input_tokens, gen.output_tokens) == (100, 20)
    assert gen.cost_usd == 0.002 and root.duration_ms == pytest.approx(2500)
    assert root.metadata["attributes"]["user.id"] == "u-7"


def test_bad_records_are_reported_and_the_rest_imported_strict_imports_nothing(tmp_path) -> None:
    good = langfuse_observations()
    export = tmp_path / "mixed.jsonl"
    export.write_bytes(
        b"\n".join([good[0], b'{"id": "x", "traceId": "t", "type": "SPAN"}', b"[1, 2]", good[1]])
    )
    db = tmp_path / "a.db"
    strict = run(db, "--from", "langfuse", "--strict", str(export))
    assert strict.exit_code == 1
    assert read(db) == ([], [])
    result = run(db, "--from", "langfuse", str(export), "--rejects", str(tmp_path / "rej.ndjson"))
    assert result.exit_code == 1
    assert "line 2: startTime is missing" in result.stderr
    assert "line 3: a record is a JSON object, got list" in result.stderr
    assert len(read(db)[1]) == 2
    assert (tmp_path / "rej.ndjson").read_bytes().splitlines() == [
        b'{"id":"x","traceId":"t","type":"SPAN"}',
        b"[1,2]",
    ]


def test_peer_import_mistakes_are_one_line_errors(tmp_path) -> None:
    db = tmp_path / "a.db"
    (tmp_path / "empty.json").write_bytes(b"")
    result = run(db, "--from", "langfuse", str(tmp_path / "empty.json"))
    assert result.exit_code == 2 and "the file is empty" in result.stderr
    (tmp_path / "junk.txt").write_bytes(b"hello there\n")
    result = run(db, "--from", "phoenix", str(tmp_path / "junk.txt"))
    assert result.exit_code == 2 and "neither JSON nor JSON lines" in result.stderr
    result = run(db, "--from", "phoenix", "--format", "csv", str(tmp_path / "junk.txt"))
    assert result.exit_code == 2 and "--from phoenix reads JSON" in result.stderr
    assert "Traceback" not in result.output


# ---------------------------------------------------------------- Phoenix
def phoenix_page() -> dict:
    """Phoenix's GET /v1/projects/{id}/spans page, OpenInference attribute names."""
    sc = pytest.importorskip("openinference.semconv.trace")
    attrs = sc.SpanAttributes
    trace = "0af7651916cd43dd8448eb211c80319c"
    return {
        "data": [
            {
                "name": "RAG pipeline",
                "context": {"trace_id": trace, "span_id": "b7ad6b7169203331"},
                "span_kind": "CHAIN",
                "start_time": "2026-11-30T09:00:00+00:00",
                "end_time": "2026-11-30T09:00:03+00:00",
                "status_code": "OK",
                "attributes": {attrs.SESSION_ID: "phx-session", attrs.INPUT_VALUE: "q?"},
            },
            {
                "name": "ChatOpenAI",
                "context": {"trace_id": trace, "span_id": "00f067aa0ba902b7"},
                "parent_id": "b7ad6b7169203331",
                "span_kind": "LLM",
                "start_time": "2026-11-30T09:00:01+00:00",
                "end_time": "2026-11-30T09:00:02.5+00:00",
                "status_code": "OK",
                # Nested, as Phoenix stores attributes.
                "attributes": {
                    "llm": {
                        "model_name": "gpt-4o-mini",
                        "token_count": {"prompt": 50, "completion": 7},
                        "input_messages": [{"message": {"role": "user", "content": "q?"}}],
                    },
                    "output": {"value": "an answer"},
                },
            },
            {
                "name": "search_docs",
                "context": {"trace_id": trace, "span_id": "1111111111111111"},
                "parent_id": "b7ad6b7169203331",
                "span_kind": "TOOL",
                "start_time": "2026-11-30T09:00:00.5+00:00",
                "end_time": "2026-11-30T09:00:00.9+00:00",
                "status_code": "ERROR",
                "status_message": "index offline",
                "attributes": {attrs.TOOL_NAME: "search_docs", attrs.INPUT_VALUE: '{"q": "x"}'},
                "events": [
                    {
                        "name": "exception",
                        "timestamp": "2026-11-30T09:00:00.9+00:00",
                        "attributes": {"exception.type": "IOError", "exception.message": "down"},
                    }
                ],
            },
        ],
        "next_cursor": None,
    }


def test_phoenix_spans_import_from_an_api_page(tmp_path) -> None:
    export = tmp_path / "spans.json"
    export.write_bytes(orjson.dumps(phoenix_page()))
    db = tmp_path / "a.db"
    result = run(db, "--from", "phoenix", str(export), "--json")
    assert result.exit_code == 0, result.output
    sessions, events = read(db)
    assert [s.title for s in sessions] == ["phx-session"]
    llm = next(e for e in events if e.type == EventType.LLM_CALL)
    assert (llm.name, llm.input_tokens, llm.output_tokens) == ("gpt-4o-mini", 50, 7)
    assert llm.duration_ms == pytest.approx(1500)
    assert orjson.loads(llm.content)["output"] == "an answer"
    tool = next(e for e in events if e.type == EventType.TOOL_CALL)
    assert tool.status == EventStatus.ERROR and tool.name == "search_docs"
    error = next(e for e in events if e.type == EventType.ERROR)
    assert error.parent_id == tool.id and error.content == "down"
    root = next(e for e in events if e.name == "RAG pipeline")
    assert llm.parent_id == root.id
    again = orjson.loads(run(db, "--from", "phoenix", str(export), "--json").stdout)
    assert again["events"]["imported"] == 0 and again["events"]["duplicates"] == len(events)


# ---------------------------------------------------------------- OTLP JSON
def test_otlp_json_lines_import_as_otel_receive_would_store_them(tmp_path) -> None:
    """`export --format otlp` read back with `import --from otlp`: ids, titles, types, content."""
    from agentlog.model import Event, Session
    from agentlog.storage import open_store
    from agentlog.storage.base import EventQuery

    source = open_store(str(tmp_path / "src.db"))
    sessions = [Session(title="Plan the release"), Session(title="Fix the flaky test")]
    for session in sessions:
        call = Event(session_id=session.id, type=EventType.TOOL_CALL, name="ls", content="-la")
        done = Event(session_id=session.id, type=EventType.LOG, content="ok", parent_id=call.id)
        source.write([session], [call, done])
    source.close()
    out = tmp_path / "sessions.otlp.jsonl"
    exported = CliRunner().invoke(
        app,
        ["--db", str(tmp_path / "src.db"), "export", "--all", "--format", "otlp", "-o", str(out)],
    )
    assert exported.exit_code == 0, exported.stderr
    db = tmp_path / "a.db"
    result = run(db, "--from", "otlp", str(out), "--json")
    assert result.exit_code == 0, result.stderr
    report = orjson.loads(result.stdout)
    assert report["sessions"]["imported"] == 2 and report["events"]["imported"] == 4
    target = open_store(str(db))
    try:
        for session in sessions:
            assert target.get_session(session.id).title == session.title
            events = list(target.list_events(EventQuery(session_id=session.id)))
            assert [(e.type, e.content) for e in events] == [
                (EventType.TOOL_CALL, "-la"),
                (EventType.LOG, "ok"),
            ]
    finally:
        target.close()
    again = orjson.loads(run(db, "--from", "otlp", str(out), "--json").stdout)
    assert again["events"]["imported"] == 0  # ids derive from span ids: idempotent
    (tmp_path / "bad.jsonl").write_bytes(
        b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "xyz"}]}]}]}\n'
    )
    bad = run(db, "--from", "otlp", str(tmp_path / "bad.jsonl"))
    assert bad.exit_code == 1 and "traceId" in bad.stderr and "Traceback" not in bad.output
