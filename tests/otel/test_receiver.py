"""`otel receive`'s server fed by the OpenTelemetry SDK's own OTLP/HTTP exporter."""

from __future__ import annotations

import gzip
import urllib.error
import urllib.request

import orjson
import pytest

from agentlog.model import EventType
from agentlog.otel.receiver import OTLPReceiver
from agentlog.storage import EventQuery, SessionQuery, Store

pytest.importorskip("opentelemetry.exporter.otlp.proto.http")

from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode


def emit_agent_run(endpoint: str, compression: Compression) -> None:
    """A GenAI-convention agent run as an instrumentation emits it, through the real exporter."""
    exporter = OTLPSpanExporter(endpoint=endpoint, compression=compression, timeout=10)
    provider = TracerProvider(resource=Resource.create({"service.name": "weather-agent"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("opentelemetry.instrumentation.openai_v2")
    with tracer.start_as_current_span(
        "invoke_agent weather",
        attributes={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "weather"},
    ):
        with tracer.start_as_current_span(
            "chat gpt-4o",
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.usage.input_tokens": 31,
                "gen_ai.usage.output_tokens": 9,
            },
        ) as chat:
            chat.add_event(
                "gen_ai.client.inference.operation.details",
                {
                    "gen_ai.input.messages": '[{"role":"user","parts":[{"type":"text","content":"rain?"}]}]'
                },
            )
        with tracer.start_as_current_span(
            "execute_tool get_weather",
            attributes={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "get_weather",
                "gen_ai.tool.call.arguments": '{"city":"Paris"}',
            },
        ) as tool:
            tool.set_status(Status(StatusCode.ERROR, "upstream timeout"))
    provider.shutdown()


@pytest.mark.parametrize("compression", [Compression.NoCompression, Compression.Gzip])
def test_sdk_exporter_into_receiver(
    receiver: OTLPReceiver, store: Store, compression: Compression
) -> None:
    emit_agent_run(receiver.url + "/v1/traces", compression)
    sessions = list(store.list_sessions(SessionQuery()))
    assert len(sessions) == 1
    assert sessions[0].title == "invoke_agent weather"
    events = list(store.list_events(EventQuery(session_id=sessions[0].id)))
    types = sorted(e.type.value for e in events)
    assert types == sorted(["HANDOFF", "LLM_CALL", "TOOL_CALL", "TOOL_RESULT"])
    llm = next(e for e in events if e.type == EventType.LLM_CALL)
    assert (llm.name, llm.input_tokens, llm.output_tokens) == ("gpt-4o", 31, 9)
    assert "rain?" in (llm.content or "")
    assert receiver.spans_received == 3


def _post(url: str, body: bytes, ctype: str, encoding: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", ctype)
    if encoding:
        request.add_header("Content-Encoding", encoding)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_bad_bodies_get_4xx_and_write_nothing(receiver: OTLPReceiver, store: Store) -> None:
    url = receiver.url + "/v1/traces"
    assert _post(url, b"\xff\x00garbage", "application/x-protobuf")[0] == 400
    assert _post(url, b"{}", "text/plain")[0] == 400
    assert _post(url, b"not gzip", "application/json", "gzip")[0] == 400
    assert _post(url, b'{"resourceSpans": 3}', "application/json")[0] == 400
    bomb = gzip.compress(b" " * (11 * 1024 * 1024))
    assert _post(url, bomb, "application/json", "gzip")[0] == 413
    assert store.count_sessions(SessionQuery()) == 0


def test_resent_batch_adds_nothing(receiver: OTLPReceiver, store: Store) -> None:
    body = (
        b'{"resourceSpans":[{"resource":{"attributes":[]},"scopeSpans":[{"scope":{"name":"x"},'
        b'"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",'
        b'"name":"chat","kind":3,"startTimeUnixNano":"1700000000000000000",'
        b'"endTimeUnixNano":"1700000000500000000","attributes":[{"key":"gen_ai.request.model",'
        b'"value":{"stringValue":"m"}}],"status":{}}]}]}]}'
    )
    url = receiver.url + "/v1/traces"
    assert _post(url, body, "application/json") == (200, b"{}")
    assert _post(url, body, "application/json") == (200, b"{}")
    assert store.count_events(EventQuery()) == 1


def test_a_backlog_answers_503_with_retry_after_and_takes_nothing(
    receiver: OTLPReceiver, store: Store
) -> None:
    from agentlog.otel.receiver import MAX_WAITING

    body = (
        b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":'
        b'"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"chat",'
        b'"startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000500000000"}]}]}]}'
    )
    url = receiver.url + "/v1/traces"
    held = [receiver.slots.acquire(blocking=False) for _ in range(MAX_WAITING)]
    assert all(held)
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", "application/json")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 503 and refused.value.headers["Retry-After"].isdigit()
    assert store.count_events(EventQuery()) == 0
    for _ in held:
        receiver.slots.release()
    assert _post(url, body, "application/json") == (200, b"{}")
    assert store.count_events(EventQuery()) == 1


def _timed_span(span_id: str, **times: str) -> dict[str, object]:
    return {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": span_id,
        "name": "chat",
        **times,
        "attributes": [{"key": "gen_ai.request.model", "value": {"stringValue": "m"}}],
    }


def test_a_span_without_a_start_or_end_time_is_rejected_and_reported(
    receiver: OTLPReceiver, store: Store
) -> None:
    """OTLP requires both times: a span without one is a counted rejection, never a 1970 event."""
    start, end = "1700000000000000000", "1700000000500000000"
    spans = [
        _timed_span("eee19b7ec3c1b174", startTimeUnixNano=start, endTimeUnixNano=end),
        _timed_span("aaa19b7ec3c1b174", endTimeUnixNano=end),
        _timed_span("bbb19b7ec3c1b174", startTimeUnixNano="0", endTimeUnixNano=end),
        _timed_span("ccc19b7ec3c1b174", startTimeUnixNano=start),
    ]
    body = orjson.dumps({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]})
    status, answer = _post(receiver.url + "/v1/traces", body, "application/json")
    assert status == 200
    partial = orjson.loads(answer)["partialSuccess"]
    assert partial["rejectedSpans"] == "3"
    for span_id in ("aaa19b7ec3c1b174", "bbb19b7ec3c1b174", "ccc19b7ec3c1b174"):
        assert span_id in partial["errorMessage"]
    assert "startTimeUnixNano" in partial["errorMessage"]
    assert "endTimeUnixNano" in partial["errorMessage"]
    (event,) = store.list_events(EventQuery())
    assert event.metadata["otel.span_id"] == "eee19b7ec3c1b174"
    (session,) = store.list_sessions(SessionQuery())
    assert session.created_at.year == 2023
    assert session.duration_ms is not None and session.duration_ms < 1000
    assert (receiver.spans_received, receiver.spans_rejected) == (1, 3)


def test_a_wrong_method_gets_a_json_405_naming_post(receiver: OTLPReceiver) -> None:
    """GET (or PUT, DELETE) on /v1/traces: 405 with Allow: POST and a JSON body, like other errors."""
    for method in ("GET", "PUT", "DELETE"):
        request = urllib.request.Request(receiver.url + "/v1/traces", method=method)
        with pytest.raises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(request, timeout=10)
        answer = raised.value
        assert answer.code == 405
        assert answer.headers["Allow"] == "POST"
        assert answer.headers["Content-Type"] == "application/json"
        body = orjson.loads(answer.read())
        assert body["code"] == 405 and "POST" in body["message"]
    head = urllib.request.Request(receiver.url + "/v1/traces", method="HEAD")
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(head, timeout=10)
    assert raised.value.code == 405 and raised.value.read() == b""
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(receiver.url + "/elsewhere", timeout=10)
    assert raised.value.code == 404
    assert orjson.loads(raised.value.read())["code"] == 404


def test_a_malformed_request_gets_a_json_error(receiver: OTLPReceiver) -> None:
    """The standard library's own error pages (an unknown method here) are JSON too."""
    import socket

    host, port = receiver.server_address[:2]
    with socket.create_connection((str(host), int(port)), timeout=10) as sock:
        sock.sendall(b"BREW /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        raw = b""
        while b"\r\n\r\n" not in raw or not raw.rstrip().endswith(b"}"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 501")
    assert b"Content-Type: application/json" in head
    assert orjson.loads(body)["code"] == 501
