"""A ReAct agent with two tools, recorded through the callback: order, threading, tokens, cost."""

from __future__ import annotations

import asyncio

import pytest
from langchain_core.messages import HumanMessage

from agentlog.model import EventType as T
from tests.integrations.langgraph.graphs import add, lookup, react_model


def _agent(kind: str, model_name: str = "scripted"):
    if kind == "create_agent":
        from langchain.agents import create_agent

        return create_agent(react_model(model_name), [add, lookup])
    from langgraph.prebuilt import create_react_agent

    return create_react_agent(react_model(model_name), [add, lookup])


@pytest.mark.parametrize("kind", ["create_agent", "create_react_agent"])
def test_one_run_is_one_session_with_threaded_calls(recorder, kind):
    out = _agent(kind).invoke(
        {"messages": [HumanMessage("add 1 and 2, and Oslo?")]}, recorder.config()
    )
    assert out["messages"][-1].content == "3, and sunny in Oslo"

    rec = recorder.read()
    root = rec.root
    assert rec.sessions == [root]
    assert root.status.value == "completed"
    assert "langgraph" in root.tags
    assert root.metadata["agentlog"]["integration"] == "langgraph"
    events = rec.of(root)
    types = [e.type for e in events]
    assert types[0] == T.USER_INPUT and events[0].content == "add 1 and 2, and Oslo?"
    assert types[-1] == T.AGENT_OUTPUT and events[-1].content == "3, and sunny in Oslo"
    assert types.count(T.LLM_CALL) == 2
    assert types.count(T.TOOL_CALL) == 2 and types.count(T.TOOL_RESULT) == 2
    assert T.ERROR not in types

    by_id = rec.by_id()
    nodes = [e for e in events if e.type == T.STATE_UPDATE]
    assert [n.name for n in nodes][:2] in (["agent", "tools"], ["model", "tools"])
    for e in events:
        if e.type == T.TOOL_RESULT:
            call = by_id[e.parent_id]
            assert call.type == T.TOOL_CALL and call.name == e.name
        if e.type in (T.LLM_CALL, T.TOOL_CALL):
            node = by_id[e.parent_id]
            assert node.type == T.STATE_UPDATE
            assert node.timestamp <= e.timestamp
            assert e.agent_id == node.name  # the agent id is the node's name at top level
    results = {by_id[e.parent_id].name: e.content for e in events if e.type == T.TOOL_RESULT}
    assert results == {"add": "3", "lookup": "sunny in Oslo"}
    calls = {e.name: e.content for e in events if e.type == T.TOOL_CALL}
    assert calls == {"add": '{"a":1,"b":2}', "lookup": '{"city":"Oslo"}'}
    assert all(e.metadata.get("tool_call_id") for e in events if e.type == T.TOOL_CALL)


def test_tokens_model_and_cost(recorder):
    from agentlog.integrations.langgraph import AgentLogCallback

    agent = _agent("create_agent", model_name="gpt-4o-mini")
    agent.invoke(
        {"messages": [HumanMessage("hi")]}, {"callbacks": [AgentLogCallback(recorder.log)]}
    )
    llm = recorder.read().all(T.LLM_CALL)
    assert [(e.name, e.input_tokens, e.output_tokens) for e in llm] == [
        ("gpt-4o-mini", 10, 5),
        ("gpt-4o-mini", 30, 7),
    ]
    # gpt-4o-mini: $0.15 in, $0.60 out per million tokens
    assert llm[0].cost_usd == pytest.approx((10 * 0.15 + 5 * 0.60) / 1e6)
    assert all(e.duration_ms is not None and e.duration_ms >= 0 for e in llm)
    assert '"prompt":[{"role":"user","content":"hi"}]' in llm[0].content
    assert '"tool_calls":[{"id":"call_add_0","name":"add"' in llm[0].content


def test_price_table_is_overridable(recorder):
    from agentlog.integrations.langgraph import AgentLogCallback

    handler = AgentLogCallback(recorder.log, prices={"scripted": (1.0, 2.0)})
    _agent("create_agent").invoke({"messages": [HumanMessage("hi")]}, {"callbacks": [handler]})
    costs = [e.cost_usd for e in recorder.read().all(T.LLM_CALL)]
    assert costs == [pytest.approx((10 + 10) / 1e6), pytest.approx((30 + 14) / 1e6)]


def test_unknown_model_has_tokens_but_no_cost(recorder):
    _agent("create_agent").invoke({"messages": [HumanMessage("hi")]}, recorder.config())
    llm = recorder.read().all(T.LLM_CALL)
    assert [e.cost_usd for e in llm] == [None, None]
    assert [e.input_tokens for e in llm] == [10, 30]


def test_async_run_records_the_same_events(recorder):
    agent = _agent("create_agent")
    asyncio.run(agent.ainvoke({"messages": [HumanMessage("hi")]}, recorder.config()))
    rec = recorder.read()
    types = [e.type for e in rec.of(rec.root)]
    assert types.count(T.LLM_CALL) == 2 and types.count(T.TOOL_RESULT) == 2
    assert rec.root.status.value == "completed"


def test_a_session_entered_around_the_call_receives_the_events(recorder):
    from agentlog.integrations.langgraph import AgentLogCallback

    with recorder.log.session("my app") as s:
        _agent("create_agent").invoke(
            {"messages": [HumanMessage("hi")]}, {"callbacks": [AgentLogCallback(recorder.log)]}
        )
    rec = recorder.read()
    assert [x.title for x in rec.sessions] == ["my app"]
    assert len(rec.of(rec.session("my app"), T.LLM_CALL)) == 2
    assert rec.root.id == s.id


def test_a_model_called_alone_is_its_own_session(recorder):
    from agentlog.integrations.langgraph.testing import ScriptedChatModel, reply

    model = ScriptedChatModel(responses=[reply("pong", tokens=(2, 1))], model_name="gpt-4o")
    model.invoke("ping", config=recorder.config())
    rec = recorder.read()
    assert rec.root.title == "ScriptedChatModel" or rec.root.title
    assert rec.root.status.value == "completed"
    (llm,) = rec.of(rec.root)
    assert llm.type == T.LLM_CALL and llm.input_tokens == 2 and llm.name == "gpt-4o"


def test_cached_prompt_tokens_are_priced_at_the_cache_rate(recorder):
    from langchain_core.messages import AIMessage

    from agentlog.integrations.langgraph.testing import ScriptedChatModel

    usage = {
        "input_tokens": 1000,  # LangChain counts the cached tokens in here too
        "output_tokens": 100,
        "total_tokens": 1100,
        "input_token_details": {"cache_read": 800},
    }
    model = ScriptedChatModel(
        model_name="claude-sonnet-4", responses=[AIMessage("hi", usage_metadata=usage)]
    )
    model.invoke("hello", config=recorder.config())
    (llm,) = recorder.read().all(T.LLM_CALL)
    # claude-sonnet-4: $3 in, $15 out per million; cache reads at 10% of the input price
    assert llm.cost_usd == pytest.approx((200 * 3 + 800 * 0.3 + 100 * 15) / 1e6)
    assert llm.metadata["usage"]["input_token_details"] == {"cache_read": 800}
