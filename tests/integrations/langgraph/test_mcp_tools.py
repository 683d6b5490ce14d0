"""A graph whose tools come from a real MCP server: its messages land in the graph's session,
under the LangGraph TOOL_CALL that sent them (answers too)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage

pytest.importorskip("mcp")

from mcp import Client, StdioServerParameters

import agentlog.mcp
from agentlog.integrations.langgraph.mcp_tools import load_mcp_tools
from agentlog.model import EventType as T

ROOT = Path(__file__).resolve().parents[3]
SERVER = StdioServerParameters(
    command=sys.executable, args=[str(ROOT / "examples" / "langgraph_mcp" / "server.py")]
)


def _model():
    from agentlog.integrations.langgraph.testing import ScriptedChatModel, reply

    return ScriptedChatModel(
        responses=[
            reply(tools=[("temperature", {"city": "Rome"}), ("temperature", {"city": "Atlantis"})]),
            reply("19 in Rome; no station in Atlantis"),
        ]
    )


def _check_linked(rec, graph_session) -> None:
    by_id = rec.by_id()
    events = rec.of(graph_session)
    graph_calls = [e for e in events if e.type == T.TOOL_CALL and e.agent_id == "tools"]
    assert sorted(c.content for c in graph_calls) == ['{"city":"Atlantis"}', '{"city":"Rome"}']
    requests = [e for e in events if e.type == T.MCP_MESSAGE and e.name == "tools/call"]
    sent = [r for r in requests if r.metadata["direction"] == "client->server"]
    answers = [r for r in requests if r.metadata["direction"] == "server->client"]
    assert len(sent) == 2 and len(answers) == 2
    for request in sent:
        call = by_id[request.parent_id]  # the LangGraph tool call that sent it
        assert call.type == T.TOOL_CALL and call in graph_calls
        assert call.content in request.content
    for answer in answers:
        assert by_id[answer.parent_id] in sent  # the answer follows its request
    failed = [c for c in graph_calls if c.status.value == "error"]
    assert [c.content for c in failed] == ['{"city":"Atlantis"}']
    assert "no weather station in Atlantis" in next(
        e.content for e in events if e.type == T.ERROR and e.parent_id == failed[0].id
    )


def test_a_long_lived_traced_client_routes_tool_traffic_into_the_graph(recorder):
    from langchain.agents import create_agent

    async def run():
        async with agentlog.mcp.trace(Client(SERVER), log=recorder.log, title="conn") as client:
            agent = create_agent(_model(), await load_mcp_tools(client), name="agent")
            return await agent.ainvoke({"messages": [HumanMessage("weather?")]}, recorder.config())

    out = asyncio.run(run())
    assert out["messages"][-1].content == "19 in Rome; no station in Atlantis"
    rec = recorder.read()
    conn, graph = rec.session("conn"), rec.session("agent")
    # the handshake and listing stay with the connection; the calls go to the graph
    assert {e.name for e in rec.of(conn)} == {"server/discover", "tools/list"}
    _check_linked(rec, graph)


def test_a_client_opened_inside_the_tool_records_into_the_graph(recorder):
    from langchain.agents import create_agent
    from langchain_core.tools import ToolException, tool

    @tool
    async def temperature(city: str) -> str:
        """Today's temperature in a city."""
        async with agentlog.mcp.trace(Client(SERVER), log=recorder.log) as client:
            result = await client.call_tool("temperature", {"city": city})
        if result.is_error:
            raise ToolException(result.content[0].text)
        return result.content[0].text

    temperature.handle_tool_error = True
    agent = create_agent(_model(), [temperature], name="agent")
    asyncio.run(agent.ainvoke({"messages": [HumanMessage("weather?")]}, recorder.config()))
    rec = recorder.read()
    assert [s.title for s in rec.sessions] == ["agent"]  # no session of its own per connection
    _check_linked(rec, rec.root)


def test_outside_any_tool_there_is_no_link(recorder):
    from agentlog.integrations.langgraph import handler  # registers its provider
    from agentlog.sdk.links import current_link

    assert handler._tool_link() is None
    assert current_link() is None
    with recorder.log.session("plain") as s:
        assert current_link() == (s, None)


def test_a_server_behind_the_proxy_is_a_child_session_of_the_graph(recorder, monkeypatch):
    """`agentlog.mcp.proxied(params)`: the proxy records the server's side as a child session
    of the run that started it (AGENTLOG_PARENT_SESSION_ID), into the same store."""
    from langchain.agents import create_agent
    from langchain_core.tools import ToolException, tool

    # the proxy runs this checkout's agentlog with `python -m agentlog`
    monkeypatch.setenv("PYTHONPATH", str(ROOT))

    @tool
    async def temperature(city: str) -> str:
        """Today's temperature in a city."""
        params = agentlog.mcp.proxied(SERVER, title=f"weather server {city}", log=recorder.log)
        async with Client(params) as client:  # not traced: only the proxy records
            result = await client.call_tool("temperature", {"city": city})
        if result.is_error:
            raise ToolException(result.content[0].text)
        return result.content[0].text

    temperature.handle_tool_error = True
    agent = create_agent(_model(), [temperature], name="agent")
    asyncio.run(agent.ainvoke({"messages": [HumanMessage("weather?")]}, recorder.config()))
    rec = recorder.read()
    graph = rec.root
    servers = rec.children(graph)
    assert sorted(s.title for s in servers) == ["weather server Atlantis", "weather server Rome"]
    for server in servers:
        calls = rec.of(server, T.TOOL_CALL)
        answers = rec.of(server, T.TOOL_RESULT, T.ERROR)
        assert [c.name for c in calls] == ["temperature"] and len(answers) == 1
        assert answers[0].parent_id == calls[0].id and answers[0].duration_ms is not None
        assert server.metadata["mcp"]["server"]["name"]
    atlantis = rec.session("weather server Atlantis")
    assert rec.of(atlantis, T.ERROR), "the failed call is an error in the server's session"


def test_proxy_parent_must_be_a_session_id(tmp_path):
    import subprocess

    result = subprocess.run(
        [sys.executable, "-m", "agentlog", "mcp", "proxy", "--parent", "nope", "--", "true"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "AGENTLOG_HOME": str(tmp_path), "PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "agentlog: error: --parent 'nope' is not a session id; give the full id of the session "
        "that started this server (AGENTLOG_PARENT_SESSION_ID)"
    ]
