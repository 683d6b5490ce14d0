"""A real server switched off and on during a run: nothing the SDK logged is lost or doubled."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

from agentlog import AgentLog
from agentlog.sdk.spool import pending
from agentlog.storage import EventQuery, open_store

uvicorn = pytest.importorskip("uvicorn")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """`agentlog serve`'s app under uvicorn in a thread, restartable on the same port and file."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.db = tmp / "server.db"
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = None
        self.thread: threading.Thread | None = None
        self.key = self._make_key()

    def _app(self):
        from agentlog.server.app import create_app
        from agentlog.server.settings import ServerSettings

        return create_app(ServerSettings(db=str(self.db), data_dir=self.tmp, key_cache_seconds=0))

    def _make_key(self) -> str:
        from agentlog.server import service
        from agentlog.storage.accounts import Role

        app = self._app()
        state = app.state.agentlog
        accounts = state.accounts
        team = service.team_for(accounts, "main", create=True)
        admin = accounts.create_user("admin@example.com", None, Role.OWNER, team.id)
        secret = service.create_key(accounts, admin, team, "sdk test").secret
        state.store.close()
        return secret

    def start(self) -> None:
        config = uvicorn.Config(self._app(), host="127.0.0.1", port=self.port, log_level="error")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise AssertionError("the server did not start")

    def stop(self) -> None:
        assert self.server is not None and self.thread is not None
        self.server.should_exit = True
        self.thread.join(10)


def _wait_for(predicate, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_server_off_and_on_twice_loses_and_doubles_nothing(tmp_path):
    live = LiveServer(tmp_path)
    live.start()
    spool_path = tmp_path / "spool.db"
    log = AgentLog(server=live.url, api_key=live.key, spool=spool_path, flush_interval=0.05)
    expected: list[str] = []
    try:
        with log.session("through two outages", tags=["offline"], agent_id="bot") as s:
            for phase in range(5):  # up, down, up, down, up
                if phase in (1, 3):
                    live.stop()
                elif phase in (2, 4):
                    live.start()
                for i in range(40):
                    expected.append(s.log(f"phase {phase} event {i}"))
                assert log.flush(30)
                if phase in (1, 3):
                    assert pending(spool_path).events > 0  # kept locally while down
        assert log.flush(30)
        # The breaker lets a probe through within a few seconds; then the spool drains.
        assert _wait_for(lambda: pending(spool_path).empty), pending(spool_path)
        assert log.lost == 0 and log.dropped == 0
    finally:
        log.close()
    store = open_store(str(live.db))
    try:
        events = store.list_events(EventQuery(session_id=s.id, limit=1000)).items
        assert sorted(e.id for e in events) == sorted(expected)  # each exactly once
        row = store.get_session(s.id)
        assert row.title == "through two outages" and row.status == "completed"
        assert row.event_count == len(expected) == 200
    finally:
        store.close()
        live.stop()
