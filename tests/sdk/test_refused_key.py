"""A server that refuses the API key (401/403): said once with the reason, events kept, no retry loop."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentlog import AgentLog
from agentlog.errors import AuthError, Forbidden
from agentlog.model import Event, Session
from agentlog.sdk.spool import open_spool, pending
from agentlog.sdk.transport import CircuitBreaker, SpoolingTransport
from tests.sdk.fakes import FakeStore
from tests.sdk.test_spool_live_server import LiveServer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("exc", [Forbidden("no writing"), AuthError("revoked key")])
def test_a_refused_key_spools_and_stops_asking(tmp_path: Path, exc: Exception) -> None:
    """After one refusal no batch and no idle sync goes to the server again, however long we wait."""
    clock = Clock()
    remote = FakeStore(fail=10**9, exc=exc)
    path = tmp_path / "spool.db"
    t = SpoolingTransport(
        remote=lambda: remote,
        spool=lambda: open_spool(path),
        spool_path=path,
        breaker=CircuitBreaker(base_delay=1.0, max_delay=8.0, clock=clock),
    )
    s = Session(title="refused")
    for i in range(5):
        t.write([s] if i == 0 else [], [Event(session_id=s.id, type="LOG", content=f"e{i}")])
        clock.now += 100.0
        t.maintain()
    t.close()
    assert remote.calls == 1
    assert pending(path).events == 5


class ViewerServer(LiveServer):
    """The live test server with a second, viewer-only key."""

    def _make_key(self) -> str:
        from agentlog.server import service
        from agentlog.storage.accounts import Role

        admin_key = super()._make_key()
        app = self._app()
        state = app.state.agentlog
        team = service.team_for(state.accounts, "main", create=False)
        viewer = state.accounts.create_user("viewer@example.com", None, Role.VIEWER, team.id)
        self.viewer_key = service.create_key(state.accounts, viewer, team, "viewer").secret
        state.store.close()
        return admin_key


def test_a_viewer_key_warns_once_keeps_the_events_and_sync_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = ViewerServer(tmp_path)
    server.start()
    try:
        spool = tmp_path / "home" / "spool.db"
        monkeypatch.setenv("AGENTLOG_HOME", str(tmp_path / "home"))
        caplog.set_level(logging.WARNING, logger="agentlog")
        log = AgentLog(server=server.url, api_key=server.viewer_key, spool=spool, batch_size=1)
        with log.session("viewer run") as s:
            for i in range(4):
                s.event("LOG", content=f"e{i}")
                log.flush()
        log.close()
        warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(warnings) == 1, warnings
        assert "viewer" in warnings[0] and "member's or admin's key" in warnings[0]
        assert "agentlog sync" in warnings[0]
        assert pending(spool).events == 4

        from agentlog.cli.app import app

        runner = CliRunner()
        monkeypatch.setenv("AGENTLOG_API_KEY", server.viewer_key)
        refused = runner.invoke(app, ["sync", "--server", server.url])
        assert refused.exit_code == 1
        assert "viewer" in refused.stderr and "member's or admin's key" in refused.stderr
        assert "when the server is back" not in refused.stderr
        assert pending(spool).events == 4

        monkeypatch.setenv("AGENTLOG_API_KEY", server.key)  # a key that can write sends them
        sent = runner.invoke(app, ["sync", "--server", server.url])
        assert sent.exit_code == 0, sent.stderr
        assert pending(spool).empty
    finally:
        server.stop()
