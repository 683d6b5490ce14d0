"""`agentlog mcp proxy --upstream`: a real `mcp.Client` over Streamable HTTP to a real MCPServer on loopback."""

from __future__ import annotations

import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client

from agentlog.model import EventType
from agentlog.storage import open_store
from agentlog.storage.base import EventQuery, SessionQuery
from tests.mcp.conftest import AGENTLOG, TOOLS_SERVER


def _start(command: list[str], env: dict[str, str], pattern: str, stream: str) -> tuple[Any, int]:
    proc = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    pipe = proc.stdout if stream == "stdout" else proc.stderr
    assert pipe is not None
    line = pipe.readline()
    found = re.search(pattern, line)
    if found is None:
        proc.kill()
        raise AssertionError(f"{command[-1]} did not start: {line!r}")
    return proc, int(found.group(1))


def _stop(proc: Any) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return int(proc.wait(20))
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.fixture(params=["sse", "json"])
def upstream(
    request: pytest.FixtureRequest, child_env: dict[str, str]
) -> Iterator[tuple[str, str]]:
    """The test server over Streamable HTTP, answering with SSE streams or plain JSON bodies."""
    env = dict(child_env, AGENTLOG_TEST_JSON="1" if request.param == "json" else "0")
    proc, port = _start([*TOOLS_SERVER, "http"], env, r"PORT (\d+)", "stdout")
    yield f"http://127.0.0.1:{port}/mcp", request.param
    _stop(proc)


def _proxy(upstream: str, env: dict[str, str]) -> tuple[Any, str]:
    proc, port = _start(
        [*AGENTLOG, "mcp", "proxy", "--upstream", upstream, "--port", "0", "--title", "remote"],
        env,
        r"http://127\.0\.0\.1:(\d+)/mcp",
        "stderr",
    )
    return proc, f"http://127.0.0.1:{port}/mcp"


async def _progress(progress: float, total: float | None, message: str | None) -> None:
    return None


async def _drive(url: str, mode: str) -> dict[str, Any]:
    async with Client(url, mode=mode) as client:  # type: ignore[arg-type]
        tools = await client.list_tools()
        added = await client.call_tool("add", {"a": 2, "b": 3})
        failed = await client.call_tool("explode", {"reason": "kaput"})
        slow = await client.call_tool("slow", {"seconds": 0.2}, progress_callback=_progress)
        return {"tools": tools, "added": added, "failed": failed, "slow": slow}


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_real_client_over_streamable_http_records_paired_calls(
    mode: str, upstream: tuple[str, str], db_path: Path, child_env: dict[str, str]
) -> None:
    proc, url = _proxy(upstream[0], child_env)
    kind = upstream[1]
    try:
        got = anyio.run(_drive, url, mode)
    finally:
        code = _stop(proc)
    assert code == 0
    assert got["added"].content[0].text == "5" and got["failed"].is_error
    assert got["slow"].content[0].text == "slept 0.2"
    assert {t.name for t in got["tools"].tools} >= {"add", "explode", "slow"}

    store = open_store(str(db_path))
    try:
        (session,) = store.list_sessions(SessionQuery()).items
        assert session.title == "remote" and session.status == "completed"
        context = session.metadata["mcp"]
        assert context["server"]["name"] == "agentlog-test-tools"
        assert context["era"] == ("handshake" if mode == "legacy" else "stateless")
        assert set(context["tools"]) >= {"add", "explode", "slow"}
        events = list(
            store.list_events(EventQuery(session_id=session.id, order="asc", limit=1000)).items
        )
    finally:
        store.close()
    methods = [e.name for e in events if e.type == EventType.MCP_MESSAGE]
    assert ("initialize" in methods) == (mode == "legacy")
    assert ("server/discover" in methods) == (mode == "auto")
    calls = {e.name: e for e in events if e.type == EventType.TOOL_CALL}
    assert set(calls) == {"add", "explode", "slow"}
    answers = {e.parent_id: e for e in events if e.type in (EventType.TOOL_RESULT, EventType.ERROR)}
    assert answers[calls["add"].id].type == EventType.TOOL_RESULT
    assert answers[calls["explode"].id].type == EventType.ERROR
    slow = answers[calls["slow"].id]
    assert slow.type == EventType.TOOL_RESULT and slow.duration_ms is not None
    assert slow.duration_ms >= 150
    progress = [e for e in events if e.name == "notifications/progress"]
    assert all(e.parent_id == calls["slow"].id for e in progress)
    # A JSON-only server has no stream to send progress on; an SSE one sends all four steps.
    assert len(progress) == (0 if kind == "json" else 4)


def test_headers_and_bodies_pass_through_unchanged(
    upstream: tuple[str, str], db_path: Path, child_env: dict[str, str]
) -> None:
    target = upstream[0]
    body = (
        b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18",'
        b'"capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}'
    )
    headers = {
        "content-type": "application/json",
        "accept": "application/json, text/event-stream",
    }
    proc, url = _proxy(target, child_env)
    try:
        direct = httpx.post(target, content=body, headers=headers, timeout=10)
        proxied = httpx.post(url, content=body, headers=headers, timeout=10)
        session_id = proxied.headers["mcp-session-id"]
        gone = httpx.delete(url, headers={"mcp-session-id": session_id}, timeout=10)
        missing = httpx.post(url.replace("/mcp", "/nowhere"), content=body, headers=headers)
    finally:
        _stop(proc)
    assert proxied.status_code == direct.status_code == 200
    assert proxied.headers["content-type"] == direct.headers["content-type"]
    assert session_id and session_id != direct.headers["mcp-session-id"]
    # Same answer apart from nothing: the SSE event ids may differ, the message may not.
    assert re.sub(rb"id: \S+", b"", proxied.content) == re.sub(rb"id: \S+", b"", direct.content)
    assert gone.status_code == 200 and missing.status_code == 404

    store = open_store(str(db_path))
    try:
        sessions = store.list_sessions(SessionQuery()).items
    finally:
        store.close()
    (session,) = [s for s in sessions if s.metadata.get("mcp_session_id") == session_id]
    assert session.metadata["mcp"]["client"]["name"] == "raw"


def test_bad_and_unreachable_upstreams(tmp_path: Path, child_env: dict[str, str]) -> None:
    bad = subprocess.run(
        [*AGENTLOG, "mcp", "proxy", "--upstream", "ftp://x", "--port", "0"],
        env=child_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert "--upstream must be an http(s) URL" in bad.stderr

    both = subprocess.run(
        [*AGENTLOG, "mcp", "proxy", "--upstream", "http://127.0.0.1:1/mcp", "--", "true"],
        env=child_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert both.returncode != 0 and "not both" in both.stderr

    with socket_closed_port() as port:
        proc, url = _proxy(f"http://127.0.0.1:{port}/mcp", child_env)
        try:
            answer = httpx.post(url, content=b'{"jsonrpc":"2.0","id":1,"method":"ping"}')
        finally:
            assert _stop(proc) == 0
    assert answer.status_code == 502 and "could not reach" in answer.text


class socket_closed_port:
    """A loopback port nobody listens on (bound, then closed)."""

    def __enter__(self) -> int:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        return None


def test_stopping_the_proxy_while_a_get_stream_is_open(
    upstream: tuple[str, str], db_path: Path, child_env: dict[str, str]
) -> None:
    if upstream[1] == "json":
        pytest.skip("one upstream kind is enough for a GET stream")
    proc, url = _proxy(upstream[0], child_env)
    headers = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
    body = (
        b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18",'
        b'"capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}'
    )
    with httpx.Client(timeout=10) as client:
        session_id = client.post(url, content=body, headers=headers).headers["mcp-session-id"]
        stream_headers = {"accept": "text/event-stream", "mcp-session-id": session_id}
        with client.stream("GET", url, headers=stream_headers) as stream:
            assert stream.status_code == 200
            code = _stop(proc)  # while the stream is still open
    assert code == 0
    store = open_store(str(db_path))
    try:
        (session,) = store.list_sessions(SessionQuery()).items
    finally:
        store.close()
    assert session.status == "completed" and session.metadata["mcp_session_id"] == session_id


def test_a_second_stop_signal_while_closing_still_ends_the_session(
    upstream: tuple[str, str], db_path: Path, child_env: dict[str, str]
) -> None:
    # `kill -- -PGID` on `timeout agentlog mcp proxy ...` delivers SIGTERM twice: the group's
    # and the one `timeout` forwards. The second used to find the default action restored
    # while the proxy ended its sessions, and the session stayed active for ever.
    if upstream[1] == "json":
        pytest.skip("one upstream kind is enough")
    proc, url = _proxy(upstream[0], child_env)
    try:
        anyio.run(_drive, url, "legacy")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.send_signal(signal.SIGTERM)
        code = _stop(proc)
    store = open_store(str(db_path))
    try:
        (session,) = store.list_sessions(SessionQuery()).items
        calls = store.list_events(EventQuery(session_id=session.id, types=[EventType.TOOL_CALL]))
    finally:
        store.close()
    assert session.status == "completed", (
        code,
        session.status,
        proc.stderr.read() if proc.stderr else "",
    )
    assert {e.name for e in calls.items} == {"add", "explode", "slow"}
    # A repeat that lands once the proxy has closed meets the SDK's handler: it flushes, then
    # the process dies of SIGTERM as it would have without AgentLog.
    assert code in (0, -signal.SIGTERM)
