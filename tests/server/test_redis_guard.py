"""A hung Redis (accepts, never answers) costs one short wait, then is skipped until it recovers (issue 9, item 13)."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from agentlog.server.redisguard import RedisGuard
from agentlog.server.testing import start_test_server


class HungRedis:
    """A real TCP socket that accepts connections and never answers; `forward_to` makes it a proxy."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.05)  # before the thread starts: a short test may close it first
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.forward_to: tuple[str, int] | None = None
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            if self.forward_to is None:
                self._held.append(conn)  # read nothing, answer nothing
            else:
                upstream = socket.create_connection(self.forward_to)
                for a, b in ((conn, upstream), (upstream, conn)):
                    threading.Thread(target=_pipe, args=(a, b), daemon=True).start()

    def close(self) -> None:
        self._stop.set()
        for conn in self._held:
            conn.close()
        self.sock.close()


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := src.recv(65536):
            dst.sendall(data)
    with contextlib.suppress(OSError):
        dst.close()


@pytest.fixture
def hung() -> Iterator[HungRedis]:
    server = HungRedis()
    yield server
    server.close()


def test_hung_redis_is_tried_once_then_skipped(tmp_path, hung):
    srv = start_test_server(tmp_path, redis_url=hung.url)
    try:
        guard: RedisGuard = srv.app.state.agentlog.redis
        guard.probe_seconds = 3600  # no recovery probe during this test
        h = {"Authorization": f"Bearer {srv.admin_key.secret}"}
        # /readyz PINGs a closed circuit: that one command finds the hang and trips it.
        assert srv.client.get("/readyz").json()["redis"] == "degraded"
        from agentlog.model import Event, Session

        for i in range(10):
            assert srv.client.get("/v1/sessions", headers=h).status_code == 200
            s = Session(title=f"s{i}")
            body = {
                "sessions": [s.to_json_dict()],
                "events": [Event(session_id=s.id, type="LOG").to_json_dict()],
            }
            assert srv.client.post("/v1/events:batch", json=body, headers=h).status_code == 200
        # Only the first command ever reached the hung server; every later one took the fallback.
        assert hung.connections == 1
        assert guard.trips == 1
        ready = srv.client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["redis"] == "degraded"
    finally:
        srv.close()


def test_limits_still_hold_in_process_while_redis_is_hung(tmp_path, hung):
    srv = start_test_server(tmp_path, redis_url=hung.url, rate_limit_per_minute=5)
    try:
        srv.app.state.agentlog.redis.probe_seconds = 3600
        h = {"Authorization": f"Bearer {srv.admin_key.secret}"}
        codes = [srv.client.get("/v1/sessions", headers=h).status_code for _ in range(8)]
        assert codes[:5] == [200] * 5 and codes[-1] == 429
    finally:
        srv.close()


def test_a_command_timeout_opens_the_circuit_without_retries(hung):
    guard = RedisGuard(hung.url, timeout=0.1, probe_seconds=3600)
    try:
        calls = []
        assert guard.call(lambda c: c.incr("agentlog:test:x"), lambda: calls.append(1) or -1) == -1
        assert guard.call(lambda c: c.incr("agentlog:test:x"), lambda: -2) == -2
        assert hung.connections == 1 and guard.status() == "degraded" and guard.last_error
    finally:
        guard.close()


@pytest.mark.redis
def test_recovers_when_redis_answers_again(hung):
    url = os.environ.get("AGENTLOG_TEST_REDIS_URL")
    if not url:
        pytest.skip("needs AGENTLOG_TEST_REDIS_URL (a real Redis to recover to)")
    from urllib.parse import urlsplit

    real = urlsplit(url)
    guard = RedisGuard(hung.url, timeout=0.1, probe_seconds=0.05)
    key = f"agentlog:test:guard:{os.getpid()}:{id(guard)}"
    try:
        assert guard.call(lambda c: c.incr(key), lambda: None) is None
        assert guard.status() == "degraded"
        hung.forward_to = (real.hostname or "127.0.0.1", real.port or 6379)
        deadline = time.monotonic() + 20
        while guard.status() != "ok" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert guard.status() == "ok"
        assert guard.call(lambda c: c.incr(key), lambda: None) == 1
        guard.client().delete(key)
    finally:
        guard.close()


def test_an_unexpected_failure_of_a_redis_call_falls_back_instead_of_failing(caplog):
    """A connection dying mid-answer may surface as any exception: the request still succeeds."""
    guard = RedisGuard("redis://127.0.0.1:9/0", timeout=0.1, probe_seconds=3600)

    def garbled(client):
        raise TypeError("unsupported operand type(s) for +: 'NoneType' and 'int'")

    assert guard.call(garbled, lambda: "fallback") == "fallback"
    assert guard.status() == "degraded"
    assert "Redis call failed unexpectedly" in caplog.text
    guard.close()


def test_readyz_tells_an_unreachable_redis_before_any_request_used_it(tmp_path):
    """/readyz said "redis": "ok" for redis://127.0.0.1:1 until some request happened to trip it."""
    srv = start_test_server(tmp_path, redis_url="redis://127.0.0.1:1/9")
    try:
        srv.app.state.agentlog.redis.probe_seconds = 3600
        ready = srv.client.get("/readyz")
        # Redis is optional (in-process fallback): still ready, but honest about it.
        assert ready.status_code == 200
        assert ready.json()["status"] == "ready"
        assert ready.json()["redis"] == "degraded"
    finally:
        srv.close()


@pytest.mark.redis
def test_readyz_says_ok_for_a_redis_that_answers(tmp_path):
    url = os.environ.get("AGENTLOG_TEST_REDIS_URL")
    if not url:
        pytest.skip("needs AGENTLOG_TEST_REDIS_URL")
    srv = start_test_server(tmp_path, redis_url=url)
    try:
        assert srv.client.get("/readyz").json()["redis"] == "ok"
    finally:
        srv.close()
