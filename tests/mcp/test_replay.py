"""`agentlog mcp replay`: a session recorded through the proxy answers a real `mcp.Client` again
(tools frozen), and `--against` re-asks a real server and reports what changed."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import anyio
import orjson
import pytest
from mcp import Client, StdioServerParameters

from agentlog.mcp.replay import NO_RECORDED_ANSWER, Exchange, ReplayServer
from agentlog.storage import open_store
from agentlog.storage.base import SessionQuery
from tests.mcp.conftest import AGENTLOG, TOOLS_SERVER


def _params(args: list[str], env: dict[str, str]) -> StdioServerParameters:
    command = [*AGENTLOG, *args]
    return StdioServerParameters(command=command[0], args=command[1:], env=env)


async def _drive(params: StdioServerParameters, mode: str) -> dict[str, Any]:
    async with Client(params, mode=mode) as client:  # type: ignore[arg-type]
        tools = await client.list_tools()
        added = await client.call_tool("add", {"a": 2, "b": 3})
        failed = await client.call_tool("explode", {"reason": "kaput"})
        echoed = await client.call_tool("echo", {"text": "héllo"})
        return {
            "tools": sorted(t.name for t in tools.tools),
            "added": [c.text for c in added.content],
            "failed": (failed.is_error, [c.text for c in failed.content]),
            "echoed": [c.text for c in echoed.content],
        }


def _record(mode: str, env: dict[str, str], db: Path) -> tuple[str, dict[str, Any]]:
    live = anyio.run(_drive, _params(["mcp", "proxy", "--", *TOOLS_SERVER], env), mode)
    with open_store(str(db)) as store:
        (session,) = store.list_sessions(SessionQuery()).items
    return session.id, live


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_a_recorded_session_answers_a_real_client_again(
    mode: str, db_path: Path, child_env: dict[str, str]
) -> None:
    session_id, live = _record(mode, child_env, db_path)
    replayed = anyio.run(_drive, _params(["mcp", "replay", session_id[:8]], child_env), mode)
    assert replayed == live  # the same tools, results and the failed call's error, from the record
    assert live["added"] == ["5"] and live["failed"][0] is True


def test_a_question_the_recording_never_saw_is_a_clear_error(
    db_path: Path, child_env: dict[str, str]
) -> None:
    session_id, _ = _record("legacy", child_env, db_path)

    async def ask() -> str:
        async with Client(_params(["mcp", "replay", session_id], child_env), mode="legacy") as c:
            try:
                await c.call_tool("add", {"a": 40, "b": 2})
            except Exception as exc:  # the client raises the JSON-RPC error
                return str(exc)
        return "answered"

    said = anyio.run(ask)
    assert "the recording has no answer for tools/call add" in said


def test_against_the_same_server_every_answer_matches(
    db_path: Path, child_env: dict[str, str]
) -> None:
    session_id, _ = _record("legacy", child_env, db_path)
    result = subprocess.run(
        [*AGENTLOG, "mcp", "replay", session_id, "--against", "--json", "--", *TOOLS_SERVER],
        capture_output=True,
        env=child_env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr.decode()
    report = orjson.loads(result.stdout)
    assert report["requests"] >= 5 and report["differences"] == []


def test_against_a_changed_server_reports_the_difference(
    db_path: Path, child_env: dict[str, str]
) -> None:
    session_id, _ = _record("legacy", child_env, db_path)
    changed = child_env | {"AGENTLOG_TEST_TOOLS_V2": "1"}  # `add` has a new description
    result = subprocess.run(
        [*AGENTLOG, "mcp", "replay", session_id, "--against", "--", *TOOLS_SERVER],
        capture_output=True,
        text=True,
        env=changed,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    (line,) = result.stdout.splitlines()
    assert line.startswith("step ") and line.endswith(
        ' tools/list at result.tools[0].description: recorded "Add two integers", '
        'now "Add two integers (v2: now with overflow checks)"'
    )
    assert "1 answer differs" in result.stderr


def test_against_a_missing_command_says_so_as_the_proxy_does(
    db_path: Path, child_env: dict[str, str]
) -> None:
    session_id, _ = _record("legacy", child_env, db_path)
    result = subprocess.run(
        [*AGENTLOG, "mcp", "replay", session_id, "--against", "--", "no-such-mcp-server-xyz"],
        capture_output=True,
        text=True,
        env=child_env,
        timeout=120,
    )
    assert result.returncode == 127, result.stderr
    assert (
        "command not found: no-such-mcp-server-xyz (is it installed and on PATH?)" in result.stderr
    )
    assert "internal error" not in result.stderr


def test_replay_needs_an_mcp_session(tmp_path: Path, child_env: dict[str, str]) -> None:
    from agentlog import AgentLog

    db = tmp_path / "plain.db"
    log = AgentLog(db)
    with log.session("no MCP here") as session:
        session.log("hello")
    log.close()
    result = subprocess.run(
        [*AGENTLOG, "--db", str(db), "mcp", "replay", session.id],
        capture_output=True,
        text=True,
        env=child_env,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"agentlog: error: session {session.id} has no recorded MCP client messages; record one "
        "with `agentlog mcp proxy -- SERVER COMMAND` first"
    ]


def _exchange(args: dict[str, Any], text: str, step: int) -> Exchange:
    return Exchange(
        "tools/call",
        {"name": "roll", "arguments": args, "_meta": {"progressToken": step}},
        jsonrpc_id=step,
        answer_kind="result",
        answer={"content": [{"type": "text", "text": text}]},
        step=step,
    )


def test_repeated_calls_are_answered_in_recorded_order_then_refused() -> None:
    server = ReplayServer([_exchange({"n": 6}, "4", 1), _exchange({"n": 6}, "2", 2)])

    def ask(request_id: int, meta: dict[str, Any]) -> Any:
        params = {"_meta": meta, "arguments": {"n": 6}, "name": "roll"}
        return server.answer(
            {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}
        )

    first, second, third = ask(10, {}), ask(11, {"progressToken": "x"}), ask(12, {})
    assert first["result"]["content"][0]["text"] == "4" and first["id"] == 10
    assert second["result"]["content"][0]["text"] == "2"  # `_meta` does not change the question
    assert third["error"]["code"] == NO_RECORDED_ANSWER
    assert server.answer({"jsonrpc": "2.0", "method": "notifications/initialized"}) is None
    assert server.answer({"jsonrpc": "2.0", "id": 13, "method": "ping"})["result"] == {}


def test_another_client_gets_the_recorded_handshake_and_listing() -> None:
    recorded = [
        Exchange(
            "initialize",
            {"protocolVersion": "2025-06-18", "clientInfo": {"name": "recorder", "version": "1"}},
            jsonrpc_id=1,
            answer_kind="result",
            answer={"protocolVersion": "2025-06-18", "serverInfo": {"name": "fs"}},
            step=1,
        ),
        Exchange(
            "tools/list", {}, jsonrpc_id=2, answer_kind="result", answer={"tools": []}, step=2
        ),
    ]
    server = ReplayServer(recorded)
    hello = {"protocolVersion": "2025-06-18", "clientInfo": {"name": "another", "version": "9"}}
    answer = server.answer({"jsonrpc": "2.0", "id": 7, "method": "initialize", "params": hello})
    assert answer["result"]["serverInfo"] == {"name": "fs"}
    listing = server.answer({"jsonrpc": "2.0", "id": 8, "method": "tools/list"})
    assert listing["result"] == {"tools": []} and not server.misses
