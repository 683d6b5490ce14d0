"""A real `agentlog serve` goes down and up twice while the SDK logs: nothing lost, nothing doubled."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from agentlog.storage.base import EventQuery, SessionQuery, iter_events
from agentlog.storage.sqlite.store import SQLiteStore
from tests.support.portability import Cli


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`agentlog serve --dev` as a subprocess that can be stopped and started on the same port."""

    def __init__(self, db: Path, home: Path) -> None:
        self.db = db
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "AGENTLOG_HOME": str(self.home)}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "agentlog",
                "serve",
                "--dev",
                "--port",
                str(self.port),
                "--db",
                str(self.db),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"agentlog serve exited with {self.proc.returncode}")
            time.sleep(0.1)
        raise RuntimeError("agentlog serve did not become healthy in 30 s")

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self.proc = None


@pytest.fixture
def server(tmp_path: Path):
    srv = Server(tmp_path / "server.db", tmp_path / "server-home")
    srv.start()
    yield srv
    srv.stop()


def test_server_flipped_off_and_on_during_an_sdk_run(
    server: Server, tmp_path: Path, caplog
) -> None:
    from agentlog import AgentLog

    caplog.set_level("WARNING", logger="agentlog")
    log = AgentLog(server=server.url, batch_size=20, flush_interval=0.05)
    expected: list[str] = []
    with log.session("outage run") as s:
        session_id = s.id

        def burst(phase: str, n: int = 150) -> None:
            for i in range(n):
                text = f"{phase} {i}"
                s.log(text)
                expected.append(text)
                if i % 25 == 0:
                    time.sleep(0.01)
            log.flush()

        burst("up-1")
        server.stop()
        burst("down-1")  # the breaker opens; batches go to the spool
        server.start()
        burst("up-2")
        server.stop()
        burst("down-2")
        server.start()
        burst("up-3")
    log.close()
    assert any("spooling to" in r.getMessage() for r in caplog.records)  # the outages were seen

    # Whatever the SDK could not drain itself is pushed by `agentlog sync`.
    cli = Cli(tmp_path / "unused.db")
    status = cli("sync", "--status", "--json")
    assert status.exit_code == 0, status.stderr
    result = cli("sync", "--server", server.url)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    after = cli("sync", "--status", "--json")
    assert '"events":0' in after.stdout.replace(" ", "")

    server.stop()
    store = SQLiteStore(server.db, read_only=True)
    try:
        contents = Counter(e.content for e in iter_events(store, EventQuery(session_id=session_id)))
        assert store.count_sessions(SessionQuery()) == 1
    finally:
        store.close()
    assert sum(contents.values()) == len(expected) == 750
    assert set(contents) == set(expected)
    assert max(contents.values()) == 1  # nothing doubled
