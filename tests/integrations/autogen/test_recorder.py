"""AutoGen AgentChat teams, run for real with replayed model answers, recorded from their stream."""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip(
    "autogen_agentchat",
    reason="needs autogen-agentchat (the [autogen] extra; not in [dev]: autogen-core pins protobuf 5)",
)
pytest.importorskip("autogen_ext.models.replay", reason="needs autogen-ext")

from autogen_agentchat.agents import AssistantAgent
from autogen_agentchat.conditions import HandoffTermination, TextMentionTermination
from autogen_agentchat.teams import Swarm
from autogen_core import FunctionCall
from autogen_core.models import CreateResult, RequestUsage
from autogen_ext.models.replay import ReplayChatCompletionClient

from agentlog import AgentLog
from agentlog.integrations.autogen import record
from agentlog.model import EventType as T
from agentlog.storage import open_store
from agentlog.storage.base import EventQuery, SessionQuery


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def get_forecast(city: str) -> str:
    """Tomorrow's weather."""
    raise RuntimeError("forecast service down")


def _calls(*calls: tuple[str, str, str], tokens=(10, 5)) -> CreateResult:
    return CreateResult(
        finish_reason="function_calls",
        content=[FunctionCall(id=i, name=n, arguments=a) for i, n, a in calls],
        usage=RequestUsage(prompt_tokens=tokens[0], completion_tokens=tokens[1]),
        cached=False,
    )


def _say(text: str, tokens=(20, 6)) -> CreateResult:
    return CreateResult(
        finish_reason="stop",
        content=text,
        usage=RequestUsage(prompt_tokens=tokens[0], completion_tokens=tokens[1]),
        cached=False,
    )


def test_a_swarm_run_is_one_session_with_tools_and_handoffs(tmp_path):
    planner = AssistantAgent(
        "planner",
        model_client=ReplayChatCompletionClient(
            [_calls(("h1", "transfer_to_weather", "{}"), tokens=(12, 3))],
            model_info={
                "function_calling": True,
                "vision": False,
                "json_output": False,
                "family": "unknown",
                "structured_output": False,
            },
        ),
        handoffs=["weather"],
    )
    weather = AssistantAgent(
        "weather",
        model_client=ReplayChatCompletionClient(
            [
                _calls(
                    ("c1", "get_weather", '{"city": "Oslo"}'),
                    ("c2", "get_forecast", '{"city": "Oslo"}'),
                    tokens=(30, 9),
                ),
                _say("Sunny in Oslo. TERMINATE", tokens=(44, 7)),
            ],
            model_info={
                "function_calling": True,
                "vision": False,
                "json_output": False,
                "family": "unknown",
                "structured_output": False,
            },
        ),
        tools=[get_weather, get_forecast],
        reflect_on_tool_use=True,
    )
    team = Swarm(
        [planner, weather],
        termination_condition=TextMentionTermination("TERMINATE") | HandoffTermination("user"),
    )
    log = AgentLog(tmp_path / "autogen.db")

    async def run():
        return [
            m
            async for m in record(
                team.run_stream(task="weather in Oslo?"), log, title="weather swarm"
            )
        ]

    messages = asyncio.run(run())
    assert type(messages[-1]).__name__ == "TaskResult"
    log.close()
    store = open_store(str(tmp_path / "autogen.db"))
    try:
        (session,) = store.list_sessions(SessionQuery()).items
        events = store.list_events(EventQuery(session_id=session.id, limit=500)).items
    finally:
        store.close()
    assert session.title == "weather swarm" and session.status.value == "completed"
    assert "stop_reason" in session.metadata["autogen"]
    by_id = {e.id: e for e in events}
    assert events[0].type == T.USER_INPUT and events[0].content == "weather in Oslo?"
    (handoff,) = [e for e in events if e.type == T.HANDOFF]
    assert (handoff.metadata["from_agent"], handoff.metadata["to_agent"]) == ("planner", "weather")
    calls = {e.name: e for e in events if e.type == T.TOOL_CALL}
    assert {"get_weather", "get_forecast"} <= set(calls)
    (result,) = [e for e in events if e.type == T.TOOL_RESULT and e.name == "get_weather"]
    assert by_id[result.parent_id] is not None and result.parent_id == calls["get_weather"].id
    (error,) = [e for e in events if e.type == T.ERROR]
    assert error.parent_id == calls["get_forecast"].id and "forecast service down" in error.content
    llm = [e for e in events if e.type == T.LLM_CALL]
    assert sum(e.input_tokens for e in llm) == 12 + 30 + 44
    assert {e.agent_id for e in llm} == {"planner", "weather"}
    assert by_id[calls["get_weather"].parent_id].type == T.LLM_CALL
