"""Issue 9 item 19: the small things a new user trips over, each stated exactly."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from agentlog.errors import ServerUnavailable
from agentlog.storage import SessionQuery
from agentlog.storage.remote import RemoteStore


def test_a_token_of_the_wrong_kind_reads_as_english(tmp_path) -> None:
    from agentlog.errors import AuthError
    from agentlog.server.tokens import KeyRing

    ring = KeyRing(tmp_path, "x" * 40)
    access = ring.issue({"sub": "u1", "typ": "access"}, 60)
    with pytest.raises(AuthError) as info:
        ring.verify(access, "refresh")
    assert info.value.message == "expected a refresh token, got an access token"


def test_a_server_nothing_listens_on_fails_after_one_quick_retry(monkeypatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    slept: list[float] = []
    monkeypatch.setattr("agentlog.storage.remote.time.sleep", slept.append)
    store = RemoteStore(f"http://127.0.0.1:{port}", api_key="al_x")
    with pytest.raises(ServerUnavailable, match="is `agentlog serve` running there"):
        store.count_sessions(SessionQuery())
    assert slept == [0.25]  # one short retry, not 0.25 + 0.5 + 1 + 2 s


def test_serve_on_a_busy_port_fails_before_its_banner(tmp_path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "agentlog",
                "serve",
                "--port",
                str(port),
                "--db",
                str(tmp_path / "srv.db"),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env={"AGENTLOG_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"},
        )
    assert done.returncode == 2
    assert "AgentLog server on" not in done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr
