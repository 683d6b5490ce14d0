"""`agentlog.mcp.trace` and `SessionHandle.log_mcp_message`: the SDK side, with a real client and server."""

from __future__ import annotations

from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

import agentlog.mcp
from agentlog import AgentLog
from agentlog.model import EventType
from agentlog.storage import open_store
from agentlog.storage.base import EventQuery, SessionQuery
from tests.mcp.conftest import TOOLS_SERVER


def _params(env: dict[str, str]) -> StdioServerParameters:
    return StdioServerParameters(command=TOOLS_SERVER[0], args=TOOLS_SERVER[1:], env=env)


def _read(db: Path) -> list:
    store = open_store(str(db))
    try:
        out = []
        for s in reversed(store.list_sessions(SessionQuery()).items):
            query = EventQuery(session_id=s.id, order="asc", limit=1000)
            out.append((s, list(store.list_events(query).items)))
        return out
    finally:
        store.close()


def test_trace_a_client_into_the_current_session(db_path: Path, child_env: dict[str, str]) -> None:
    log = AgentLog(db=db_path)

    async def drive() -> str:
        with log.session("agent with tools") as s:
            s.user_input("add two numbers")
            async with agentlog.mcp.trace(Client(_params(child_env), mode="legacy")) as client:
                got = await client.call_tool("add", {"a": 40, "b": 2})
                bad = await client.call_tool("explode", {})
                assert bad.is_error
            return got.content[0].text  # type: ignore[union-attr]

    assert anyio.run(drive) == "42"
    log.close()
    ((session, events),) = _read(db_path)
    assert session.title == "agent with tools"
    assert session.metadata["mcp"]["server"]["name"] == "agentlog-test-tools"
    assert events[0].type is EventType.USER_INPUT
    calls = {e.name: e for e in events if e.type is EventType.TOOL_CALL}
    answers = {e.parent_id: e for e in events if e.type in (EventType.TOOL_RESULT, EventType.ERROR)}
    assert answers[calls["add"].id].type is EventType.TOOL_RESULT
    assert answers[calls["explode"].id].type is EventType.ERROR
    assert sum(1 for e in events if e.name == "initialize") == 2


def test_trace_params_opens_its_own_session(db_path: Path, child_env: dict[str, str]) -> None:
    log = AgentLog(db=db_path)

    async def drive() -> None:
        async with Client(agentlog.mcp.trace(_params(child_env), log=log, title="probe")) as client:
            await client.list_tools()

    anyio.run(drive)
    log.close()
    ((session, events),) = _read(db_path)
    assert session.title == "probe" and session.status == "completed"
    assert events[0].name == "server/discover"


def test_log_mcp_message_pairs_dicts_text_and_bytes(db_path: Path) -> None:
    log = AgentLog(db=db_path)
    with log.session("hand-logged") as s:
        s.log_mcp_message(
            {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "t"}},
            direction="outgoing",
        )
        s.log_mcp_message(
            '{"jsonrpc":"2.0","id":1,"result":{"isError":true}}', direction="incoming"
        )
        s.log_mcp_message(b"\xff not json", direction="incoming")
    log.log_mcp_message({"jsonrpc": "2.0", "method": "notifications/initialized"})
    log.close()
    (hand, hand_events), (own, own_events) = _read(db_path)
    assert hand.title == "hand-logged"
    assert [e.type for e in hand_events] == [
        EventType.MCP_MESSAGE,
        EventType.TOOL_CALL,
        EventType.MCP_MESSAGE,
        EventType.ERROR,
        EventType.ERROR,
    ]
    assert hand_events[3].parent_id == hand_events[1].id
    assert own.title == "MCP" and own_events[0].name == "notifications/initialized"
