"""The GenAI conventions' reference scenarios, pinned: spans with the attributes the reference
libraries emit, sent by the OpenTelemetry SDK's own exporter, land as the right events.

Pinned at open-telemetry/semantic-conventions-genai `reference/reports/` (inference-span.md at
0724e29c, execute-tool-span.md at 0f7be89c): the attribute names the reports list as emitted
by the named libraries. When the conventions move, update the pin and these attribute sets
together; the legacy names producers still send are covered in test_mapping.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from agentlog.model import EventStatus, EventType
from agentlog.otel.receiver import OTLPReceiver
from agentlog.storage import EventQuery, SessionQuery, Store

pytest.importorskip("opentelemetry.exporter.otlp.proto.http")

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode

# Inference span, as the openai and anthropic scenarios emit it (Required, Conditionally
# Required and Recommended rows of inference-span.md that list them).
OPENAI_CHAT: dict[str, Any] = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.request.max_tokens": 200,
    "gen_ai.request.temperature": 0.2,
    "gen_ai.request.stream": False,
    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
    "gen_ai.response.id": "chatcmpl-ref-1",
    "gen_ai.response.finish_reasons": ["tool_calls"],
    "gen_ai.usage.input_tokens": 120,
    "gen_ai.usage.output_tokens": 24,
    "gen_ai.usage.cache_read.input_tokens": 64,
    "gen_ai.usage.cache_write.input_tokens": 0,
    "gen_ai.usage.reasoning.output_tokens": 8,
    "gen_ai.conversation.id": "conv-ref-1",
    "server.address": "api.openai.com",
    "server.port": 443,
    "gen_ai.input.messages": '[{"role":"user","parts":[{"type":"text","content":"Weather in Paris?"}]}]',
    "gen_ai.output.messages": '[{"role":"assistant","parts":[{"type":"tool_call","name":"get_weather","arguments":{"city":"Paris"}}]}]',
}
ANTHROPIC_CHAT: dict[str, Any] = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "anthropic",
    "gen_ai.request.model": "claude-sonnet-4",
    "gen_ai.response.model": "claude-sonnet-4-20250514",
    "gen_ai.response.id": "msg_ref_2",
    "gen_ai.response.finish_reasons": ["end_turn"],
    "gen_ai.usage.input_tokens": 300,
    "gen_ai.usage.output_tokens": 40,
    "gen_ai.usage.cache_read.input_tokens": 256,
    "gen_ai.usage.cache_write.input_tokens": 32,
    "gen_ai.conversation.id": "conv-ref-1",
    "gen_ai.output.messages": '[{"role":"assistant","parts":[{"type":"text","content":"Rain, 14 C."}]}]',
}
# Execute-tool span, as execute-tool-span.md lists it (Required, Recommended and Opt-In).
EXECUTE_TOOL: dict[str, Any] = {
    "gen_ai.operation.name": "execute_tool",
    "gen_ai.tool.name": "get_weather",
    "gen_ai.tool.call.id": "call_ref_1",
    "gen_ai.tool.description": "Today's weather in a city",
    "gen_ai.tool.type": "function",
    "gen_ai.agent.name": "weather",
    "gen_ai.conversation.id": "conv-ref-1",
    "gen_ai.tool.call.arguments": '{"city":"Paris"}',
    "gen_ai.tool.call.result": '{"forecast":"rain","celsius":14}',
}
INVOKE_AGENT: dict[str, Any] = {
    "gen_ai.operation.name": "invoke_agent",
    "gen_ai.agent.name": "weather",
    "gen_ai.conversation.id": "conv-ref-1",
}


def _emit(endpoint: str, failing_tool: bool = False) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "reference-agent"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    tracer = provider.get_tracer("reference")
    with tracer.start_as_current_span("invoke_agent weather", attributes=INVOKE_AGENT):
        with tracer.start_as_current_span("chat gpt-4o-mini", attributes=OPENAI_CHAT):
            pass
        with tracer.start_as_current_span("execute_tool get_weather", attributes=EXECUTE_TOOL) as t:
            if failing_tool:
                t.set_status(Status(StatusCode.ERROR, "weather service down"))
        with tracer.start_as_current_span("chat claude-sonnet-4", attributes=ANTHROPIC_CHAT):
            pass
    provider.shutdown()


def test_reference_agent_run_lands_as_one_conversation(receiver: OTLPReceiver, store: Store):
    _emit(receiver.url + "/v1/traces")
    (session,) = store.list_sessions(SessionQuery()).items  # every span joined conv-ref-1
    events = store.list_events(EventQuery(session_id=session.id, limit=100)).items
    kinds = [(e.type, e.name) for e in events]
    assert kinds == [
        (EventType.HANDOFF, "weather"),
        (EventType.LLM_CALL, "gpt-4o-mini"),
        (EventType.TOOL_CALL, "get_weather"),
        (EventType.TOOL_RESULT, "get_weather"),
        (EventType.LLM_CALL, "claude-sonnet-4"),
    ]
    agent, openai, call, result, anthropic = events
    assert (openai.input_tokens, openai.output_tokens) == (120, 24)
    assert (openai.cache_read_tokens, openai.cache_creation_tokens) == (64, 0)
    assert openai.reasoning_tokens == 8
    assert (anthropic.cache_read_tokens, anthropic.cache_creation_tokens) == (256, 32)
    assert anthropic.reasoning_tokens is None
    attributes = openai.metadata["attributes"]
    assert attributes["gen_ai.provider.name"] == "openai"
    assert attributes["gen_ai.response.id"] == "chatcmpl-ref-1"
    assert "Weather in Paris?" in str(openai.content) and "get_weather" in str(openai.content)
    assert call.content == '{"city":"Paris"}' and call.agent_id == "weather"
    assert result.parent_id == call.id and "rain" in str(result.content)
    assert openai.parent_id == call.parent_id == anthropic.parent_id == agent.id
    assert all(e.status is EventStatus.OK for e in events)
    report = store.stats(EventQuery(session_id=session.id))
    assert (report.cache_read_tokens, report.cache_creation_tokens) == (320, 32)
    assert report.reasoning_tokens == 8


def test_a_failed_reference_tool_is_an_error(receiver: OTLPReceiver, store: Store):
    _emit(receiver.url + "/v1/traces", failing_tool=True)
    events = store.list_events(EventQuery(limit=100)).items
    call = next(e for e in events if e.type is EventType.TOOL_CALL)
    assert call.status is EventStatus.ERROR


def test_token_details_go_back_out_under_the_current_names(receiver: OTLPReceiver, store: Store):
    from agentlog.otel.export import session_to_otlp

    _emit(receiver.url + "/v1/traces")
    (session,) = store.list_sessions(SessionQuery()).items
    events = store.list_events(EventQuery(session_id=session.id, limit=100)).items
    document = session_to_otlp(session, events)
    spans = [
        span
        for resource in document["resourceSpans"]
        for scope in resource["scopeSpans"]
        for span in scope["spans"]
    ]
    (chat,) = [s for s in spans if s["name"].endswith("gpt-4o-mini")]
    attrs = {kv["key"]: kv["value"] for kv in chat["attributes"]}
    attrs = {k: int(v["intValue"]) for k, v in attrs.items() if "intValue" in v}
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 64
    assert attrs["gen_ai.usage.cache_write.input_tokens"] == 0
    assert attrs["gen_ai.usage.reasoning.output_tokens"] == 8
