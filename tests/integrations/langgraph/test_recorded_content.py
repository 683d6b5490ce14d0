"""What the handler records is what the graph held at that moment, however the hot path gets it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

import orjson
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langgraph.graph import END, START, StateGraph

from agentlog.integrations.langgraph import mapping as m
from agentlog.integrations.langgraph.testing import ScriptedChatModel, reply
from agentlog.model import EventType as T


class _State(TypedDict):
    question: str


def _prompts(recorder: Any) -> list[Any]:
    return [orjson.loads(e.content)["prompt"] for e in recorder.read().all(T.LLM_CALL)]


def test_a_message_changed_between_model_calls_is_recorded_as_it_was_each_time(recorder):
    """Messages are converted once per run, but a changed content or tool calls is converted again."""
    model = ScriptedChatModel(responses=[reply("first"), reply("second"), reply("third")])
    asked = HumanMessage("original")

    def chat(state: _State) -> dict[str, Any]:
        model.invoke([asked])
        asked.content = "changed"  # after the callback: the first call keeps "original"
        model.invoke([asked])
        answer = AIMessage("", tool_calls=[{"name": "add", "args": {"a": 1}, "id": "c1"}])
        model.invoke([asked, answer])
        answer.tool_calls = [{"name": "add", "args": {"a": 2}, "id": "c2"}]
        model.invoke([asked, answer])
        return {}

    graph = StateGraph(_State)
    graph.add_node("chat", chat)
    graph.add_edge(START, "chat")
    graph.add_edge("chat", END)
    graph.compile().invoke({"question": "q"}, recorder.config())

    prompts = _prompts(recorder)
    assert [p[0]["content"] for p in prompts] == ["original", "changed", "changed", "changed"]
    assert [p[1]["tool_calls"][0]["args"] for p in prompts[2:]] == [{"a": 1}, {"a": 2}]


def test_message_fields_come_from_fields_extras_or_plain_attributes():
    """`message` skips pydantic's slow attribute miss yet still finds what a message carries."""
    assert m.message(HumanMessage("hi")) == {"role": "user", "content": "hi"}
    # LangChain messages allow extra fields: one named like a field we record is kept.
    assert m.message(HumanMessage("hi", status="error")) == {
        "role": "user",
        "content": "hi",
        "status": "error",
    }
    tool = ToolMessage("boom", tool_call_id="t1", status="error", name="add")
    assert m.message(tool) == {
        "role": "tool",
        "content": "boom",
        "name": "add",
        "tool_call_id": "t1",
        "status": "error",
    }

    @dataclass
    class Plain:  # a message by its shape only (not pydantic)
        content: str
        type: str = "ai"
        response_metadata: Any = None
        tool_calls: Any = None

    calls = [{"id": "x", "name": "n", "args": {}}]
    assert m.message(Plain("yo", tool_calls=calls)) == {
        "role": "assistant",
        "content": "yo",
        "tool_calls": calls,
    }
    assert m.attr(HumanMessage("hi"), "tool_calls") is None
    assert m.attr(None, "anything") is None
