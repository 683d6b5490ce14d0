"""The OpenAI Agents SDK, run for real with a scripted model, recorded by AgentLogProcessor."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

pytest.importorskip("agents", reason="needs openai-agents")

from agents import (
    Agent,
    GuardrailFunctionOutput,
    InputGuardrailTripwireTriggered,
    Model,
    ModelResponse,
    Runner,
    Usage,
    function_tool,
    input_guardrail,
    set_trace_processors,
)
from agents.tracing import generation_span
from openai.types.responses import (
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputText,
)

from agentlog import AgentLog
from agentlog.integrations.openai_agents import AgentLogProcessor
from agentlog.model import EventType as T
from agentlog.storage import open_store
from agentlog.storage.base import EventQuery, SessionQuery


def call(name: str, args: dict[str, Any], call_id: str) -> ResponseFunctionToolCall:
    return ResponseFunctionToolCall(
        type="function_call", name=name, arguments=json.dumps(args), call_id=call_id, id=call_id
    )


def say(text: str) -> ResponseOutputMessage:
    return ResponseOutputMessage(
        id="msg",
        type="message",
        role="assistant",
        status="completed",
        content=[ResponseOutputText(type="output_text", text=text, annotations=[])],
    )


class ScriptedModel(Model):
    """Answers from a script and traces each call as a generation span, as the SDK's models do."""

    def __init__(self, name: str, turns: list[tuple[list[Any], int, int]]) -> None:
        self.name = name
        self.turns = list(turns)

    async def get_response(
        self,
        system_instructions,
        input,
        model_settings,
        tools,
        output_schema,
        handoffs,
        tracing,
        **kw,
    ):
        output, tin, tout = self.turns.pop(0)
        with generation_span(
            model=self.name, input=[{"role": "user", "content": str(input)[:200]}]
        ) as span:
            span.span_data.output = [o.model_dump() for o in output]
            span.span_data.usage = {"input_tokens": tin, "output_tokens": tout}
        return ModelResponse(
            output=output,
            usage=Usage(requests=1, input_tokens=tin, output_tokens=tout, total_tokens=tin + tout),
            response_id=None,
        )

    def stream_response(self, *args, **kwargs):
        raise NotImplementedError


@function_tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


@function_tool
def get_forecast(city: str) -> str:
    """Tomorrow's weather in a city."""
    raise RuntimeError("forecast service down")


@pytest.fixture
def recorded(tmp_path):
    db = tmp_path / "agents.db"
    log = AgentLog(db)
    processor = AgentLogProcessor(log)
    set_trace_processors([processor])  # only ours: nothing is sent to OpenAI

    def read():
        assert log.flush(10)
        store = open_store(str(db))
        try:
            sessions = store.list_sessions(SessionQuery()).items
            return [
                (s, store.list_events(EventQuery(session_id=s.id, limit=500)).items)
                for s in sessions
            ]
        finally:
            store.close()

    yield processor, read
    set_trace_processors([])
    log.close()


def _agents():
    weather = Agent(
        name="weather_agent",
        instructions="Answer about the weather.",
        tools=[get_weather, get_forecast],
        model=ScriptedModel(
            "gpt-4o-mini",
            [
                (
                    [
                        call("get_weather", {"city": "Oslo"}, "c1"),
                        call("get_forecast", {"city": "Oslo"}, "c2"),
                    ],
                    30,
                    12,
                ),
                ([say("Sunny in Oslo today; no forecast for tomorrow.")], 55, 14),
            ],
        ),
    )
    triage = Agent(
        name="triage",
        instructions="Route the question.",
        handoffs=[weather],
        model=ScriptedModel("gpt-4o", [([call("transfer_to_weather_agent", {}, "h1")], 20, 6)]),
    )
    return triage


def test_a_run_is_a_session_with_llm_tool_and_handoff_events(recorded):
    processor, read = recorded
    result = Runner.run_sync(_agents(), "weather in Oslo?")
    assert result.final_output == "Sunny in Oslo today; no forecast for tomorrow."
    ((session, events),) = read()
    assert session.title == "Agent workflow" and session.status.value == "completed"
    assert session.id == processor.last_session_id
    by_id = {e.id: e for e in events}
    types = [e.type for e in events]
    assert types.count(T.LLM_CALL) == 3
    assert [(e.input_tokens, e.output_tokens) for e in events if e.type == T.LLM_CALL] == [
        (20, 6),
        (30, 12),
        (55, 14),
    ]
    assert next(e for e in events if e.type == T.LLM_CALL).cost_usd == pytest.approx(
        (20 * 2.5 + 6 * 10) / 1e6
    )
    (handoff,) = [e for e in events if e.type == T.HANDOFF]
    assert (handoff.metadata["from_agent"], handoff.metadata["to_agent"]) == (
        "triage",
        "weather_agent",
    )
    agents = [e for e in events if e.type == T.STATE_UPDATE]
    assert [a.name for a in agents] == ["triage", "weather_agent"]
    calls = {e.name: e for e in events if e.type == T.TOOL_CALL}
    assert set(calls) == {"get_weather", "get_forecast"}
    assert all(by_id[c.parent_id].name == "weather_agent" for c in calls.values())
    (result_,) = [e for e in events if e.type == T.TOOL_RESULT]
    assert result_.parent_id == calls["get_weather"].id and result_.content == "sunny in Oslo"
    (error,) = [e for e in events if e.type == T.ERROR]
    assert (
        error.parent_id == calls["get_forecast"].id
        and calls["get_forecast"].status.value == "error"
    )
    assert {e.agent_id for e in events if e.type == T.LLM_CALL} == {"triage", "weather_agent"}


def test_async_run_and_a_tripped_guardrail(recorded):
    _, read = recorded

    @input_guardrail
    async def no_secrets(ctx, agent, text):
        return GuardrailFunctionOutput(
            output_info={"secret": True}, tripwire_triggered="password" in str(text)
        )

    guarded = Agent(
        name="guarded",
        input_guardrails=[no_secrets],
        model=ScriptedModel("gpt-4o", [([say("ok")], 1, 1)]),
    )
    with pytest.raises(InputGuardrailTripwireTriggered):
        asyncio.run(Runner.run(guarded, "my password is hunter2"))
    ((_, events),) = read()
    (guard,) = [e for e in events if e.metadata.get("span_type") == "guardrail"]
    assert (
        guard.type == T.LOG
        and guard.status.value == "error"
        and guard.metadata["triggered"] is True
    )
