"""`POST /v1/traces` on the server: the OpenTelemetry SDK's exporter with an API key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agentlog.server import testing
from agentlog.server.testing import LiveServer, start_test_server
from agentlog.storage.base import EventQuery, SessionQuery

pytest.importorskip("opentelemetry.exporter.otlp.proto.http")

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    SimpleSpanProcessor,
    SpanExportResult,
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[testing.TestServer]:
    srv = start_test_server(tmp_path / "srv", rate_limit_per_minute=0)
    yield srv
    srv.close()


def _run(url: str, headers: dict[str, str]) -> list[SpanExportResult]:
    exporter = OTLPSpanExporter(endpoint=url + "/v1/traces", headers=headers, timeout=10)
    results: list[SpanExportResult] = []
    original = exporter.export

    def export(spans):  # type: ignore[no-untyped-def]  # wraps the SDK method to see its result
        result = original(spans)
        results.append(result)
        return result

    exporter.export = export  # type: ignore[method-assign]  # observe, not replace
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("openinference.instrumentation.langchain")
    with tracer.start_as_current_span(
        "RunnableSequence", attributes={"openinference.span.kind": "CHAIN", "session.id": "s-1"}
    ):
        with tracer.start_as_current_span(
            "ChatOpenAI",
            attributes={
                "openinference.span.kind": "LLM",
                "llm.model_name": "gpt-4o-mini",
                "input.value": "hello",
                "output.value": "hi there",
                "llm.token_count.prompt": 3,
                "llm.token_count.completion": 2,
                "session.id": "s-1",  # OpenInference's using_session sets it on every span
            },
        ):
            pass
    provider.shutdown()
    return results


def test_sdk_exporter_with_api_key(server: testing.TestServer) -> None:
    with LiveServer(server.app) as live:
        results = _run(live.url, {"Authorization": f"Bearer {server.admin_key.secret}"})
    assert results == [SpanExportResult.SUCCESS, SpanExportResult.SUCCESS]
    store = server.app.state.agentlog.store.scoped(server.team.id)
    (session,) = list(store.list_sessions(SessionQuery()))
    assert session.title == "s-1"
    events = list(store.list_events(EventQuery(session_id=session.id)))
    llm = next(e for e in events if e.name == "gpt-4o-mini")
    assert (llm.input_tokens, llm.output_tokens) == (3, 2)
    assert "hi there" in (llm.content or "")


def test_without_key_is_refused_and_nothing_written(server: testing.TestServer) -> None:
    with LiveServer(server.app) as live:
        results = _run(live.url, {})
    assert SpanExportResult.SUCCESS not in results
    store = server.app.state.agentlog.store.scoped(None)
    assert store.count_sessions(SessionQuery()) == 0
    assert store.count_events(EventQuery()) == 0


def test_bad_content_type_is_400(server: testing.TestServer) -> None:
    answer = server.client.post(
        "/v1/traces",
        content=b"x",
        headers={"Authorization": f"Bearer {server.admin_key.secret}", "Content-Type": "text/csv"},
    )
    assert answer.status_code == 400
    assert "Content-Type" in answer.text


def test_a_backlog_answers_503_with_retry_after_then_the_resend_is_stored(
    server: testing.TestServer,
) -> None:
    from agentlog.server.state import MAX_WAITING_OTLP_WRITES

    state = server.app.state.agentlog
    held = [state.otlp_slots.acquire(blocking=False) for _ in range(MAX_WAITING_OTLP_WRITES)]
    assert all(held)  # as many writes as may wait are in flight
    headers = {"Authorization": f"Bearer {server.admin_key.secret}"}
    body = {
        "resourceSpans": [
            {
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": "5b8efff798038103d269b633813fc60c",
                                "spanId": "eee19b7ec3c1b174",
                                "name": "chat",
                                "startTimeUnixNano": "1764579600000000000",
                                "endTimeUnixNano": "1764579601000000000",
                            }
                        ]
                    }
                ]
            }
        ]
    }
    busy = server.client.post("/v1/traces", json=body, headers=headers)
    assert busy.status_code == 503 and busy.headers["Retry-After"].isdigit()
    assert busy.json()["error"]["code"] == "busy"
    store = server.app.state.agentlog.store.scoped(server.team.id)
    assert list(store.list_sessions(SessionQuery())) == []  # refused, so nothing half-taken
    for _ in held:
        state.otlp_slots.release()
    assert server.client.post("/v1/traces", json=body, headers=headers).status_code == 200
    assert len(list(store.list_sessions(SessionQuery()))) == 1
