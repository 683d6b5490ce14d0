"""Supervisor and swarm agents: workers as child sessions, hand-offs as HANDOFF, never ERROR."""

from __future__ import annotations

from langchain_core.messages import HumanMessage

from agentlog.integrations.langgraph.testing import ScriptedChatModel, reply
from agentlog.model import EventType as T
from tests.integrations.langgraph.graphs import add, lookup, supervisor_graph


def test_supervisor_workers_are_child_sessions_with_handoffs(recorder):
    out = supervisor_graph().invoke(
        {"messages": [HumanMessage("weather and math")]}, recorder.config()
    )
    assert out["messages"][-1].content == "Rome is sunny and 2+2=4"
    rec = recorder.read()
    root = rec.root
    assert root.title == "supervisor" and root.status.value == "completed"
    children = {c.title: c for c in rec.children(root)}
    assert set(children) == {"supervisor", "weather_expert", "math_expert"}
    assert all(c.status.value == "completed" for c in children.values())

    assert rec.all(T.ERROR) == []  # a ParentCommand is control flow
    handoffs = rec.of(root, T.HANDOFF)
    assert [(h.metadata["from_agent"], h.metadata["to_agent"]) for h in handoffs] == [
        ("supervisor", "weather_expert"),
        ("weather_expert", "supervisor"),  # back along an edge, marked transfer_back_to_supervisor
        ("supervisor", "math_expert"),
        ("math_expert", "supervisor"),
    ]
    assert [h.metadata["child_session_id"] for h in handoffs] == [
        children["weather_expert"].id,
        children["supervisor"].id,
        children["math_expert"].id,
        children["supervisor"].id,
    ]
    assert handoffs[1].content == "Successfully transferred back to supervisor"
    by_id = rec.by_id()
    assert [by_id[h.parent_id].name for h in handoffs] == [
        h.metadata["from_agent"] for h in handoffs
    ]
    nodes = [e.name for e in rec.of(root, T.STATE_UPDATE)]
    assert nodes == ["supervisor", "weather_expert", "supervisor", "math_expert", "supervisor"]

    # each worker's own model and tool calls live in its session, under its name
    math = rec.of(children["math_expert"])
    assert {e.agent_id for e in math} == {"math_expert"}
    assert [(e.input_tokens, e.output_tokens) for e in math if e.type == T.LLM_CALL] == [
        (11, 4),
        (15, 1),
    ]
    (result,) = [e for e in math if e.type == T.TOOL_RESULT]
    assert by_id[result.parent_id].name == "add" and result.content == "4"
    sup = rec.of(children["supervisor"])
    transfers = [e for e in sup if e.type == T.TOOL_CALL]
    assert [t.name for t in transfers] == ["transfer_to_weather_expert", "transfer_to_math_expert"]
    assert all(t.status.value == "ok" for t in transfers)
    assert sum(e.input_tokens or 0 for e in rec.all(T.LLM_CALL)) == 11 + 15 + 12 + 20 + 40 + 50 + 60


def test_swarm_handoff_moves_between_agents(recorder):
    from langchain.agents import create_agent
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph_swarm import create_handoff_tool, create_swarm

    alice = create_agent(
        ScriptedChatModel(responses=[reply(tools=[("transfer_to_bob", {})], tokens=(7, 2))]),
        [add, create_handoff_tool(agent_name="bob")],
        name="alice",
    )
    bob = create_agent(
        ScriptedChatModel(
            responses=[reply(tools=[("lookup", {"city": "Paris"})]), reply("sunny in Paris")]
        ),
        [lookup, create_handoff_tool(agent_name="alice")],
        name="bob",
    )
    swarm = create_swarm([alice, bob], default_active_agent="alice").compile(
        checkpointer=InMemorySaver(), name="swarm"
    )
    out = swarm.invoke({"messages": [HumanMessage("weather?")]}, recorder.config(thread_id="s1"))
    assert out["messages"][-1].content == "sunny in Paris"
    rec = recorder.read()
    assert rec.all(T.ERROR) == []
    (handoff,) = rec.of(rec.root, T.HANDOFF)
    assert (handoff.metadata["from_agent"], handoff.metadata["to_agent"]) == ("alice", "bob")
    bob_session = rec.session("bob")
    assert handoff.metadata["child_session_id"] == bob_session.id
    assert bob_session.parent_session_id == rec.root.id
    assert {e.agent_id for e in rec.of(bob_session)} == {"bob"}
