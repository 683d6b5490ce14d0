"""The stdio proxy under hostile and broken traffic: bytes unchanged, exit codes kept, all recorded."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson

from agentlog.model import EventType
from agentlog.storage import open_store
from agentlog.storage.base import EventQuery, SessionQuery
from tests.mcp.conftest import AGENTLOG, SERVERS

RAW_SERVER = [sys.executable, str(SERVERS / "raw_server.py")]


def _run(
    stdin: bytes, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*AGENTLOG, "mcp", "proxy", "--", *RAW_SERVER],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=timeout,
        check=False,
    )


def _direct(stdin: bytes) -> bytes:
    return subprocess.run(RAW_SERVER, input=stdin, capture_output=True, timeout=60).stdout


def _events(db: Path) -> tuple[str, list]:
    store = open_store(str(db))
    try:
        (session,) = store.list_sessions(SessionQuery()).items
        page = store.list_events(EventQuery(session_id=session.id, order="asc", limit=1000))
        return session.status, list(page.items)
    finally:
        store.close()


def _req(i: object, method: str = "tools/call", **params: object) -> bytes:
    body = {"jsonrpc": "2.0", "id": i, "method": method, "params": params}
    return orjson.dumps(body) + b"\n"


def test_hostile_frames_are_relayed_unchanged_and_recorded_as_errors(
    db_path: Path, child_env: dict[str, str]
) -> None:
    stdin = (
        b"junk\n"
        + b"batch\n"
        + b'{"jsonrpc":"2.0","id":1,"method":"tools/ca\n'  # a truncated client frame
        + b"\x00\x01 binary \xc3\x28\n"
        + _req(1, name="t")
        + _req("1", name="t")
        + b'[{"jsonrpc":"2.0","id":2,"method":"ping"},{"jsonrpc":"2.0","method":"x"}]\n'
        + b"no newline at the end"
    )
    done = _run(stdin, child_env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == _direct(stdin)
    status, events = _events(db_path)
    assert status == "completed"
    invalid = [e for e in events if e.name == "mcp.invalid_frame"]
    raw = [e.content or "" for e in invalid]
    assert any("Starting server" in r for r in raw)  # non-JSON on the server's stdout
    assert any('"resu' in r for r in raw)  # truncated server frame
    assert any("tools/ca" in r for r in raw)  # truncated client frame
    assert any("no newline at the end" in r for r in raw)  # cut off by end of stream
    assert all(e.type is EventType.ERROR and e.status == "error" for e in invalid)
    batch = [e for e in events if "batch_index" in e.metadata and e.type is EventType.MCP_MESSAGE]
    assert len(batch) >= 5
    # The int id 1 and the string id "1" each got their own answer.
    results = [e for e in events if e.type is EventType.TOOL_RESULT]
    assert len(results) >= 2


def test_server_crash_mid_call_keeps_its_exit_code_and_fails_the_call(
    db_path: Path, child_env: dict[str, str]
) -> None:
    done = _run(_req(1, name="doomed") + b"exit 7\n", child_env)
    assert done.returncode == 7
    status, events = _events(db_path)
    assert status == "failed"
    call = next(e for e in events if e.type is EventType.TOOL_CALL)
    # The first call was answered; send another that the crash leaves unanswered.
    assert any(e.type is EventType.TOOL_RESULT and e.parent_id == call.id for e in events)
    assert any(e.metadata.get("exit_code") == 7 for e in events)


def test_unanswered_call_becomes_an_error_when_the_server_dies(
    db_path: Path, child_env: dict[str, str]
) -> None:
    # The server dies on `exit 3` before it reads the call, so the call is never answered.
    done = _run(b"exit 3\n" + _req(5, name="x"), child_env)
    assert done.returncode == 3
    _, events = _events(db_path)
    call = next(e for e in events if e.type is EventType.TOOL_CALL)
    error = next(e for e in events if e.type is EventType.ERROR and e.parent_id == call.id)
    assert error.metadata["unanswered"] and "code 3" in (error.content or "")


def test_client_disconnect_ends_the_server_and_the_session(
    db_path: Path, child_env: dict[str, str]
) -> None:
    proc = subprocess.Popen(
        [*AGENTLOG, "mcp", "proxy", "--", *RAW_SERVER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=child_env,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(_req(1, "ping"))
    proc.stdin.flush()
    assert b'"id": 1' in proc.stdout.readline()
    proc.stdin.close()  # the client goes away
    assert proc.wait(timeout=60) == 0
    status, events = _events(db_path)
    assert status == "completed" and [e.name for e in events] == ["ping", "ping"]


def test_sigterm_is_forwarded_and_the_signal_propagates(
    db_path: Path, child_env: dict[str, str]
) -> None:
    proc = subprocess.Popen(
        [*AGENTLOG, "mcp", "proxy", "--", *RAW_SERVER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=child_env,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(_req(1, "ping"))
    proc.stdin.flush()
    proc.stdout.readline()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == -signal.SIGTERM
    deadline = time.monotonic() + 10
    status = "active"
    while status == "active" and time.monotonic() < deadline:
        status, _ = _events(db_path)
    assert status == "failed"


def test_a_missing_command_is_one_line_and_no_traceback(child_env: dict[str, str]) -> None:
    done = subprocess.run(
        [*AGENTLOG, "mcp", "proxy", "--", "no-such-mcp-server-xyz"],
        capture_output=True,
        env=child_env,
        timeout=60,
        input=b"",
        check=False,
    )
    assert done.returncode == 127 and done.stdout == b""  # like a shell (docs/errors.md)
    assert done.stderr.decode().strip().count("\n") == 0
    assert "command not found: no-such-mcp-server-xyz" in done.stderr.decode()
    assert os.environ.get("AGENTLOG_SERVER") is None
