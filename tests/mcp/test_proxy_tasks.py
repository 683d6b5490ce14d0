"""A tool run as a task (MCP 2025-11-25) and polled to completion, through the stdio proxy.

The server is the SDK's own low-level `Server` (tests/mcp/servers/task_server.py). The SDK's
client (mcp 2.3) checks every `tools/call` answer against the tool-result shape and so cannot
receive a task, so the client side here writes the frames itself, waiting for each answer.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from agentlog.model import EventType
from agentlog.storage import open_store
from agentlog.storage.base import EventQuery, SessionQuery
from tests.mcp.conftest import AGENTLOG, SERVERS

TASK_SERVER = [sys.executable, str(SERVERS / "task_server.py")]


class Conversation:
    """A line-by-line JSON-RPC client over a child's stdin and stdout."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(orjson.dumps({"jsonrpc": "2.0", **message}) + b"\n")
        self.proc.stdin.flush()

    def ask(self, msg_id: int, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self.send({"id": msg_id, "method": method, "params": params})
        assert self.proc.stdout is not None
        while True:
            line = self.proc.stdout.readline()
            assert line, "the server closed its output"
            answer = orjson.loads(line)
            if answer.get("id") == msg_id:
                assert "result" in answer, answer
                return answer["result"]


def test_a_task_polled_to_completion_is_one_tool_call(
    db_path: Path, child_env: dict[str, str]
) -> None:
    proc = subprocess.Popen(
        [*AGENTLOG, "mcp", "proxy", "--", *TASK_SERVER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=child_env,
    )
    try:
        talk = Conversation(proc)
        talk.ask(
            1,
            "initialize",
            {
                "protocolVersion": "2025-11-25",
                "capabilities": {"tasks": {}},
                "clientInfo": {"name": "task-client", "version": "1"},
            },
        )
        talk.send({"method": "notifications/initialized"})
        created = talk.ask(
            2, "tools/call", {"name": "report", "arguments": {"pages": 3}, "task": {"ttl": 60000}}
        )
        task_id = created["task"]["taskId"]
        assert created["task"]["status"] == "working"
        statuses, next_id = [], 3
        while not statuses or statuses[-1] != "completed":
            statuses.append(talk.ask(next_id, "tasks/get", {"taskId": task_id})["status"])
            next_id += 1
            time.sleep(0.1)
        final = talk.ask(next_id, "tasks/result", {"taskId": task_id})
        assert final["content"][0]["text"] == "3 pages written"
        assert proc.stdin is not None
        proc.stdin.close()
        assert proc.wait(30) == 0
    finally:
        proc.kill()
        proc.wait()

    assert statuses[0] == "working"  # polled at least once while it ran
    store = open_store(str(db_path))
    try:
        (session,) = store.list_sessions(SessionQuery()).items
        events = list(store.list_events(EventQuery(session_id=session.id, order="asc")).items)
    finally:
        store.close()
    (call,) = [e for e in events if e.type is EventType.TOOL_CALL]
    assert call.name == "report"
    polls = [e for e in events if e.name == "tasks/get" and e.metadata["mcp"] == "request"]
    assert len(polls) == len(statuses) >= 2
    assert all(p.parent_id == call.id and p.metadata["task_of"] == call.id for p in polls)
    (answer,) = [e for e in events if e.parent_id == call.id and e.type is EventType.TOOL_RESULT]
    assert "3 pages written" in (answer.content or "")
    assert answer.duration_ms is not None and answer.duration_ms >= 1000  # the whole task
    assert not [e for e in events if e.type is EventType.ERROR]
