"""Every way of running a graph (invoke, stream modes, astream, astream_events) records the same events."""

from __future__ import annotations

import asyncio
from collections import Counter as Bag

import pytest
from langchain_core.messages import HumanMessage

from agentlog.model import EventType as T
from tests.integrations.langgraph.graphs import add, lookup, react_model


def _agent():
    from langchain.agents import create_agent

    return create_agent(react_model("gpt-4o"), [add, lookup])


def _shape(recorder) -> Bag:
    rec = recorder.read()
    assert len(rec.sessions) == 1 and rec.root.status.value == "completed"
    return Bag(
        (e.type, e.name, e.status, e.input_tokens, e.content if e.type != T.STATE_UPDATE else None)
        for e in rec.of(rec.root)
    )


@pytest.fixture
def expected(tmp_path_factory):
    from tests.integrations.langgraph.conftest import Recorder

    rec = Recorder(str(tmp_path_factory.mktemp("baseline") / "base.db"))
    _agent().invoke({"messages": [HumanMessage("hi")]}, rec.config())
    shape = _shape(rec)
    rec.log.close()
    return shape


@pytest.mark.parametrize(
    "mode", ["values", "updates", "messages", "debug", "custom", ["updates", "messages"]]
)
def test_stream_modes(recorder, expected, mode):
    chunks = list(
        _agent().stream({"messages": [HumanMessage("hi")]}, recorder.config(), stream_mode=mode)
    )
    assert chunks or mode == "custom"
    assert _shape(recorder) == expected


def test_astream(recorder, expected):
    async def run():
        return [
            c async for c in _agent().astream({"messages": [HumanMessage("hi")]}, recorder.config())
        ]

    assert asyncio.run(run())
    assert _shape(recorder) == expected


def test_astream_events(recorder, expected):
    async def run():
        return [
            e
            async for e in _agent().astream_events(
                {"messages": [HumanMessage("hi")]}, recorder.config(), version="v2"
            )
        ]

    events = asyncio.run(run())
    assert any(e["event"] == "on_tool_end" for e in events)
    assert _shape(recorder) == expected


def test_streaming_model_tokens_are_aggregated(recorder):
    """A model that streams chunks: the LLM_CALL has the whole answer and its usage."""
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage, AIMessageChunk
    from langchain_core.outputs import ChatGenerationChunk
    from langgraph.graph import START, MessagesState, StateGraph

    class UsageAtTheEnd(GenericFakeChatModel):
        """Streams its words, then a last chunk with the usage (as providers do with stream_usage)."""

        def _stream(self, *args, **kwargs):
            yield from super()._stream(*args, **kwargs)
            usage = {"input_tokens": 4, "output_tokens": 3, "total_tokens": 7}
            yield ChatGenerationChunk(message=AIMessageChunk(content="", usage_metadata=usage))

    model = UsageAtTheEnd(messages=iter([AIMessage("streamed answer here")]))
    g = StateGraph(MessagesState)
    g.add_node("chat", lambda s: {"messages": [model.invoke(s["messages"])]})
    g.add_edge(START, "chat")
    chunks = list(
        g.compile().stream(
            {"messages": [HumanMessage("hi")]}, recorder.config(), stream_mode="messages"
        )
    )
    assert len(chunks) > 1  # really streamed token by token
    (llm,) = recorder.read().all(T.LLM_CALL)
    assert '"content":"streamed answer here"' in llm.content
    assert (llm.input_tokens, llm.output_tokens) == (4, 3)
