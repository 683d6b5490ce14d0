"""Failed tool calls: re-raised out of the graph, or handled into a message for the model."""

from __future__ import annotations

import pytest
from langchain_core.messages import HumanMessage

from agentlog.integrations.langgraph.testing import ScriptedChatModel, reply
from agentlog.model import EventType as T
from tests.integrations.langgraph.graphs import add, broken, flaky


def _script(tool_name: str) -> ScriptedChatModel:
    return ScriptedChatModel(
        responses=[reply(tools=[(tool_name, {"x": "boom"})], tokens=(5, 2)), reply("recovered")]
    )


def test_unhandled_tool_exception_is_one_error_under_its_call(recorder):
    from langchain.agents import create_agent

    agent = create_agent(_script("broken"), [broken, add])
    with pytest.raises(ValueError, match="broken tool got boom"):
        agent.invoke({"messages": [HumanMessage("go")]}, recorder.config())
    rec = recorder.read()
    assert rec.root.status.value == "failed"
    by_id = rec.by_id()
    (error,) = rec.of(rec.root, T.ERROR)
    call = by_id[error.parent_id]
    assert call.type == T.TOOL_CALL and call.name == "broken" and call.status.value == "error"
    assert error.metadata["exception"] == "ValueError"
    assert "broken tool got boom" in error.content
    tools_node = by_id[call.parent_id]
    assert tools_node.type == T.STATE_UPDATE and tools_node.status.value == "error"
    assert rec.of(rec.root, T.AGENT_OUTPUT) == []


def test_tool_node_handling_the_exception_still_records_a_failed_call(recorder):
    from langgraph.prebuilt import ToolNode, create_react_agent

    agent = create_react_agent(_script("broken"), ToolNode([broken], handle_tool_errors=True))
    out = agent.invoke({"messages": [HumanMessage("go")]}, recorder.config())
    assert out["messages"][-1].content == "recovered"
    rec = recorder.read()
    assert rec.root.status.value == "completed"
    by_id = rec.by_id()
    (error,) = rec.of(rec.root, T.ERROR)
    assert by_id[error.parent_id].type == T.TOOL_CALL
    assert by_id[error.parent_id].status.value == "error"
    # the model saw the error as a tool message, and the node itself succeeded
    tools_node = by_id[by_id[error.parent_id].parent_id]
    assert tools_node.status.value == "ok" and '"status":"error"' in tools_node.content
    assert rec.of(rec.root, T.AGENT_OUTPUT)[0].content == "recovered"


def test_tool_exception_reported_by_the_tool_is_a_handled_failure(recorder):
    from langchain.agents import create_agent

    agent = create_agent(_script("flaky"), [flaky])
    agent.invoke({"messages": [HumanMessage("go")]}, recorder.config())
    rec = recorder.read()
    by_id = rec.by_id()
    (error,) = rec.of(rec.root, T.ERROR)
    assert error.metadata == {"handled": True} and "flaky refused boom" in error.content
    assert by_id[error.parent_id].type == T.TOOL_CALL
    assert by_id[error.parent_id].status.value == "error"
    assert rec.of(rec.root, T.TOOL_RESULT) == []
    assert rec.root.status.value == "completed"


def test_a_failing_node_is_an_error_state_update_and_a_failed_session(recorder):
    from langgraph.graph import START, StateGraph

    from tests.integrations.langgraph.graphs import Counter

    def explode(state):
        raise RuntimeError("node exploded")

    g = StateGraph(Counter)
    g.add_node("explode", explode)
    g.add_edge(START, "explode")
    with pytest.raises(RuntimeError):
        g.compile().invoke({"n": 0, "trail": []}, recorder.config())
    rec = recorder.read()
    node, error = rec.of(rec.root, T.STATE_UPDATE, T.ERROR)
    assert node.name == "explode" and node.status.value == "error"
    assert error.parent_id == node.id and error.metadata["exception"] == "RuntimeError"
    assert len(rec.of(rec.root, T.ERROR)) == 1
    assert rec.root.status.value == "failed"


def test_a_failing_model_call_is_an_error_llm_call(recorder):
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    class Down(FakeListChatModel):
        def _call(self, *a, **k):
            raise ConnectionError("provider down")

    with pytest.raises(ConnectionError):
        Down(responses=["x"]).invoke("hi", config=recorder.config())
    rec = recorder.read()
    llm, error = rec.of(rec.root)
    assert llm.type == T.LLM_CALL and llm.status.value == "error"
    assert error.type == T.ERROR and error.parent_id == llm.id
    assert rec.root.status.value == "failed"
