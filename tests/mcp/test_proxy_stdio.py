"""`agentlog mcp proxy` between a real `mcp.Client` and a real MCP server, in both protocol eras."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import orjson
import pytest
from mcp import Client, StdioServerParameters

from agentlog.model import Event, EventType
from agentlog.storage import open_store
from agentlog.storage.base import EventQuery, SessionQuery, Store
from tests.mcp.conftest import AGENTLOG, TEE, TOOLS_SERVER


def _params(command: list[str], env: dict[str, str]) -> StdioServerParameters:
    return StdioServerParameters(command=command[0], args=command[1:], env=env)


def _proxied(env: dict[str, str], *extra: str) -> list[str]:
    return [*AGENTLOG, "mcp", "proxy", *extra, "--", *TOOLS_SERVER]


def _session_events(db: Path) -> tuple[Any, list[Event], Store]:
    store = open_store(str(db))
    (session,) = store.list_sessions(SessionQuery()).items
    events = store.list_events(EventQuery(session_id=session.id, order="asc", limit=1000)).items
    return session, list(events), store


async def _progress(progress: float, total: float | None, message: str | None) -> None:
    return None


async def _drive(params: StdioServerParameters, mode: str) -> dict[str, Any]:
    async with Client(params, mode=mode) as client:  # type: ignore[arg-type]
        tools = await client.list_tools()
        added = await client.call_tool("add", {"a": 2, "b": 3})
        failed = await client.call_tool("explode", {"reason": "kaput"})
        slow = await client.call_tool("slow", {"seconds": 0.2}, progress_callback=_progress)
        return {"tools": tools, "added": added, "failed": failed, "slow": slow}


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_real_client_through_proxy_records_paired_calls_and_context(
    mode: str, tmp_path: Path, db_path: Path, child_env: dict[str, str]
) -> None:
    client_side = (tmp_path / "client-in", tmp_path / "client-out")
    server_side = (tmp_path / "server-in", tmp_path / "server-out")
    command = [
        *TEE,
        str(client_side[0]),
        str(client_side[1]),
        "--",
        *AGENTLOG,
        "mcp",
        "proxy",
        "--title",
        "proxied",
        "--",
        *TEE,
        str(server_side[0]),
        str(server_side[1]),
        "--",
        *TOOLS_SERVER,
    ]
    got = anyio.run(_drive, _params(command, child_env), mode)
    assert got["added"].content[0].text == "5" and got["failed"].is_error

    # The client received exactly the bytes the server sent, and the other way round.
    assert client_side[1].read_bytes() == server_side[1].read_bytes()
    assert client_side[0].read_bytes() == server_side[0].read_bytes()
    assert server_side[1].read_bytes().count(b"\n") >= 6

    session, events, store = _session_events(db_path)
    try:
        assert session.title == "proxied" and session.status == "completed"
        context = session.metadata["mcp"]
        assert context["server"]["name"] == "agentlog-test-tools"
        assert context["client"]["name"] == "mcp"
        assert set(context["tools"]) >= {"add", "explode", "slow"}
        if mode == "legacy":
            assert context["era"] == "handshake"
            assert [e.name for e in events[:3]] == [
                "initialize",
                "initialize",
                "notifications/initialized",
            ]
        else:
            assert context["era"] == "stateless" and context["protocol_version"] == "2026-07-28"
            assert events[0].name == "server/discover"
        by_id = {e.id: e for e in events}
        calls = {e.name: e for e in events if e.type is EventType.TOOL_CALL}
        assert set(calls) == {"add", "explode", "slow"}
        assert orjson.loads(calls["add"].content or "") == {"a": 2, "b": 3}
        answers = {
            by_id[e.parent_id].name: e
            for e in events
            if e.parent_id in {c.id for c in calls.values()}
            and e.type in (EventType.TOOL_RESULT, EventType.ERROR)
        }
        assert answers["add"].type is EventType.TOOL_RESULT and answers["add"].status == "ok"
        assert answers["explode"].type is EventType.ERROR and answers["explode"].status == "error"
        assert answers["slow"].duration_ms is not None and answers["slow"].duration_ms >= 150
        progress = [e for e in events if e.name == "notifications/progress"]
        assert len(progress) == 4 and {p.parent_id for p in progress} == {calls["slow"].id}
        # Every response is threaded to its request.
        for event in events:
            if event.type is EventType.MCP_MESSAGE and event.metadata["mcp"] in ("result", "error"):
                request = by_id[event.parent_id or ""]
                assert request.metadata["jsonrpc_id"] == event.metadata["jsonrpc_id"]
                assert request.metadata["direction"] != event.metadata["direction"]
    finally:
        store.close()
