"""A recorded LangGraph run replayed through `ReplayChatModel` gives the same run, offline."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("langgraph", reason="needs the langgraph extra")

from langchain_core.messages import HumanMessage
from langchain_core.tools import tool
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode

from agentlog import AgentLog
from agentlog.compare import align
from agentlog.integrations.langgraph import AgentLogCallback
from agentlog.integrations.langgraph.testing import ScriptedChatModel, reply
from agentlog.model import EventType
from agentlog.replay.langchain import ReplayChatModel
from agentlog.replay.recorded import ReplayDivergence, ReplayExhausted
from agentlog.storage import open_store
from agentlog.storage.base import EventQuery


@tool
def lookup_order(order: int) -> str:
    """Where an order is."""
    return f"order {order} was delivered"


def build(model):
    bound = model.bind_tools([lookup_order])

    def agent(state: MessagesState) -> dict:
        return {"messages": [bound.invoke(state["messages"])]}

    def route(state: MessagesState) -> str:
        return "tools" if state["messages"][-1].tool_calls else END

    graph = StateGraph(MessagesState)
    graph.add_node("agent", agent)
    graph.add_node("tools", ToolNode([lookup_order]))
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", route, ["tools", END])
    graph.add_edge("tools", "agent")
    return graph.compile()


def run(db: Path, model, question: str = "where is order 1042?") -> tuple[str, str]:
    log = AgentLog(str(db), flush_interval=0.05)
    callback = AgentLogCallback(log, title="support")
    out = build(model).invoke({"messages": [HumanMessage(question)]}, {"callbacks": [callback]})
    log.close()
    return callback.last_session_id or "", out["messages"][-1].content


def steps(db: Path, session_id: str):
    with open_store(str(db)) as store:
        return store.list_events(EventQuery(session_id=session_id, limit=500)).items


def recorded_model() -> ScriptedChatModel:
    return ScriptedChatModel(
        model_name="gpt-4o",
        responses=[
            reply(tools=[("lookup_order", {"order": 1042})], tokens=(50, 9)),
            reply("Order 1042 was delivered yesterday.", tokens=(80, 12)),
        ],
    )


def test_a_replayed_run_is_the_recorded_run(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    original, answer = run(db, recorded_model())
    with open_store(str(db)) as store:
        replay = ReplayChatModel.from_session(original, store)
    assert replay.model_name == "gpt-4o" and len(replay.calls) == 2
    again, replayed_answer = run(db, replay)
    assert replayed_answer == answer == "Order 1042 was delivered yesterday."
    assert replay.position == 2 and replay.divergences == []
    rows, first = align(steps(db, original), steps(db, again))
    assert first is None, [(r.a and r.a.type, r.b and r.b.type) for r in rows if not r.same]
    llm = [e for e in steps(db, again) if e.type == EventType.LLM_CALL]
    assert [(e.input_tokens, e.output_tokens) for e in llm] == [(50, 9), (80, 12)]


def test_a_changed_prompt_is_reported_at_its_step(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    original, _ = run(db, recorded_model())
    with open_store(str(db)) as store:
        strict = ReplayChatModel.from_session(original, store)
        lenient = ReplayChatModel.from_session(original, store, strict=False)
    with pytest.raises(ReplayDivergence) as info:
        run(db, strict, question="where is order 7?")
    assert "diverges from the recording at step 1 (model call 1)" in info.value.message
    assert "'where is order 1042?', now 'where is order 7?'" in info.value.message
    run(db, lenient, question="where is order 7?")
    assert len(lenient.divergences) == 2 and lenient.divergences[0].startswith("step 1")


def test_a_run_that_goes_further_than_the_recording_is_named(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    original, _ = run(db, recorded_model())
    with open_store(str(db)) as store:
        replay = ReplayChatModel.from_session(original, store)
    replay.calls = replay.calls[:1]
    with pytest.raises(ReplayExhausted, match="made model call 2, the recording has 1"):
        run(db, replay)


def test_a_session_without_model_calls_says_so(tmp_path: Path) -> None:
    from agentlog.errors import NotFound

    db = tmp_path / "a.db"
    log = AgentLog(str(db))
    with log.session("no llm") as s:
        s.log("hello")
        sid = s.id
    log.close()
    with open_store(str(db)) as store, pytest.raises(NotFound, match="no LLM_CALL events"):
        ReplayChatModel.from_session(sid, store)


def test_an_agent_with_a_name_replays_without_a_false_divergence(tmp_path: Path) -> None:
    """`create_agent(name=…)` stamps its name on the model's answers after the callbacks saw
    them; the replay must not call that a changed prompt."""
    pytest.importorskip("langchain.agents", reason="needs langchain (the examples extra)")
    from langchain.agents import create_agent

    db = tmp_path / "named.db"
    scripted = ScriptedChatModel(
        model_name="gpt-4o",
        responses=[
            reply(tools=[("lookup_order", {"order": 1042})], tokens=(10, 2)),
            reply("Delivered.", tokens=(12, 2)),
        ],
    )
    log = AgentLog(str(db), flush_interval=0.05)
    callback = AgentLogCallback(log)
    create_agent(scripted, [lookup_order], name="support").invoke(
        {"messages": [HumanMessage("where is order 1042?")]}, {"callbacks": [callback]}
    )
    log.close()
    with open_store(str(db)) as store:
        model = ReplayChatModel.from_session(callback.last_session_id or "", store=store)
    out = create_agent(model, [lookup_order], name="support").invoke(
        {"messages": [HumanMessage("where is order 1042?")]}
    )
    assert out["messages"][-1].content == "Delivered." and model.divergences == []
