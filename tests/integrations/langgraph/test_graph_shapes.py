"""Plain StateGraphs: nested subgraphs, parallel branches, Command routing, interrupt and resume."""

from __future__ import annotations

import asyncio
import operator
from typing import Annotated, TypedDict

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from agentlog.model import EventType as T
from tests.integrations.langgraph.graphs import fan_out_graph, nested_graph, routing_graph


def test_nested_subgraphs_are_nested_child_sessions(recorder):
    out = nested_graph().invoke({"n": 0, "trail": []}, recorder.config())
    assert out["n"] == 111  # prep +1, gather +10, dig +100
    rec = recorder.read()
    root = rec.root
    assert root.title == "outer"
    research = rec.session("research")
    deep = rec.session("deep")
    assert research.parent_session_id == root.id
    assert deep.parent_session_id == research.id  # not flattened into the root
    assert [e.name for e in rec.of(root, T.STATE_UPDATE)] == ["prep", "research", "done"]
    assert [e.name for e in rec.of(research, T.STATE_UPDATE)] == ["gather", "deep"]
    assert [e.name for e in rec.of(deep, T.STATE_UPDATE)] == ["dig"]
    assert rec.of(deep)[0].content.startswith('{"n":111,')
    assert {e.agent_id for e in rec.of(deep)} == {"deep"}
    assert all(s.status.value == "completed" for s in rec.sessions)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_parallel_branches_each_record_their_node(recorder, mode):
    graph = fan_out_graph()
    inputs = {"n": 0, "trail": []}
    if mode == "sync":
        out = graph.invoke(inputs, recorder.config())
    else:
        out = asyncio.run(graph.ainvoke(inputs, recorder.config()))
    assert sorted(out["trail"]) == ["a", "b", "c", "d"]
    rec = recorder.read()
    nodes = rec.of(rec.root, T.STATE_UPDATE)
    names = [n.name for n in nodes]
    assert names[0] == "a" and names[-1] == "d"
    assert sorted(n.name for n in nodes) == ["a", "b", "c", "d"]
    steps = {n.name: n.metadata["langgraph_step"] for n in nodes}
    assert steps["b"] == steps["c"] == steps["a"] + 1


def test_command_goto_is_a_handoff_and_interrupt_resume_continue_the_session(recorder):
    graph = routing_graph(InMemorySaver())
    config = recorder.config(thread_id="t-1")
    first = graph.invoke({"n": 0, "trail": []}, config)
    assert first["__interrupt__"][0].value == {"question": "go on?"}

    paused = recorder.read()
    assert paused.root.status.value == "active"  # waiting for a human
    interrupt = [e for e in paused.of(paused.root, T.STATE_UPDATE) if e.name == "interrupt"]
    assert len(interrupt) == 1 and '"question":"go on?"' in interrupt[0].content
    ask = paused.by_id()[interrupt[0].parent_id]
    assert ask.name == "ask" and ask.metadata.get("interrupted") is True
    assert paused.all(T.ERROR) == []

    out = graph.invoke(Command(resume="yes"), recorder.config(thread_id="t-1"))
    assert out["trail"] == ["a", "ask:yes", "route", "b"]
    rec = recorder.read()
    assert len(rec.sessions) == 1  # the resumed run continues the same session
    root = rec.root
    assert root.status.value == "completed"
    inputs = rec.of(root, T.USER_INPUT)
    assert [i.name for i in inputs] == ["router", "resume"] and inputs[1].content == "yes"
    (handoff,) = rec.of(root, T.HANDOFF)
    assert (handoff.metadata["from_agent"], handoff.metadata["to_agent"]) == ("route", "b")
    assert rec.by_id()[handoff.parent_id].name == "route"
    names = [e.name for e in rec.of(root, T.STATE_UPDATE)]
    assert names == ["a", "ask", "interrupt", "ask", "route", "b"]


def test_resume_in_a_new_process_state_opens_a_session_of_its_own(recorder):
    graph = routing_graph(InMemorySaver())
    graph.invoke({"n": 0, "trail": []}, recorder.config(thread_id="t-2"))
    from agentlog.integrations.langgraph import handler

    handler._PAUSED.clear()  # as if the process had restarted
    graph.invoke(Command(resume="later"), recorder.config(thread_id="t-2"))
    rec = recorder.read()
    assert len(rec.sessions) == 2
    resumed = rec.sessions[1]
    assert [e.name for e in rec.of(resumed, T.USER_INPUT)] == ["resume"]
    assert resumed.metadata["langgraph"]["thread_id"] == "t-2"


def test_an_interrupt_inside_a_subgraph_pauses_and_resumes_both_sessions(recorder):
    from langgraph.graph import START, StateGraph
    from langgraph.types import interrupt

    from tests.integrations.langgraph.graphs import Counter

    def ask(state):
        return {"trail": [f"ask:{interrupt('approve?')}"]}

    inner = StateGraph(Counter)
    inner.add_node("ask", ask)
    inner.add_edge(START, "ask")
    outer = StateGraph(Counter)
    outer.add_node("approval", inner.compile())
    outer.add_node("done", lambda s: {"trail": ["done"]})
    outer.add_edge(START, "approval")
    outer.add_edge("approval", "done")
    graph = outer.compile(checkpointer=InMemorySaver(), name="outer")

    graph.invoke({"n": 0, "trail": []}, recorder.config(thread_id="sub"))
    paused = recorder.read()
    assert {s.status.value for s in paused.sessions} == {"active"}
    assert len(paused.all(T.STATE_UPDATE)) == 3  # approval, ask, interrupt: once, where it happened
    out = graph.invoke(Command(resume="ok"), recorder.config(thread_id="sub"))
    assert out["trail"] == ["ask:ok", "done"]
    rec = recorder.read()
    assert len(rec.sessions) == 2 and {s.status.value for s in rec.sessions} == {"completed"}
    approval = rec.session("approval")
    assert [e.name for e in rec.of(approval)] == ["ask", "interrupt", "ask"]


def test_send_fan_out_into_a_subgraph(recorder):
    from langgraph.graph import START, StateGraph
    from langgraph.types import Send

    class Job(TypedDict):
        items: list[int]
        out: Annotated[list[int], operator.add]

    class Item(TypedDict):
        item: int
        out: Annotated[list[int], operator.add]

    worker = StateGraph(Item)
    worker.add_node("work", lambda s: {"out": [s["item"] * 10]})
    worker.add_edge(START, "work")
    graph = StateGraph(Job)
    graph.add_node("worker", worker.compile())
    graph.add_conditional_edges(
        START, lambda s: [Send("worker", {"item": i, "out": []}) for i in s["items"]]
    )
    out = graph.compile(name="fan").invoke({"items": [1, 2, 3], "out": []}, recorder.config())
    assert sorted(out["out"]) == [10, 20, 30]
    rec = recorder.read()
    assert [e.name for e in rec.of(rec.root, T.STATE_UPDATE)] == ["worker"] * 3  # no __start__
    work = rec.of(rec.session("worker"), T.STATE_UPDATE)
    assert sorted(e.content for e in work) == ['{"out":[10]}', '{"out":[20]}', '{"out":[30]}']
