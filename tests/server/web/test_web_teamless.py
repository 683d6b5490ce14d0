"""Sessions recorded into a store before `agentlog serve` served it belong to no team: serve and
an admin's empty sessions list say how many and how to bring them in, and give them to nobody."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from agentlog.cli.app import app
from agentlog.model import Event, Session
from agentlog.server.service import teamless_sessions
from agentlog.server.settings import DEV_ENV
from agentlog.server.testing import LiveServer, TestServer, free_port
from agentlog.storage.accounts import Role
from agentlog.storage.base import SessionQuery
from tests.server.web.test_web_pages import PASSWORD, sign_in
from tests.support.server import add_user


def _record_before_serving(srv: TestServer, n: int) -> list[Session]:
    """As `agentlog demo --db X` or the SDK would: straight into the file, no team."""
    made = [Session(title=f"local run {i}") for i in range(n)]
    srv.app.state.agentlog.store.write(
        sessions=made, events=[Event(session_id=s.id, type="LOG", content="x") for s in made]
    )
    return made


def test_an_admins_empty_list_says_how_many_sessions_no_team_holds(srv: TestServer):
    _record_before_serving(srv, 2)
    add_user(srv, "boss@example.com", Role.ADMIN, "main", PASSWORD)
    add_user(srv, "alice@example.com", Role.MEMBER, "main", PASSWORD)
    page = sign_in(srv, "boss@example.com").get("/sessions").text
    assert "local run" not in page  # not silently given to the team
    hint = " ".join(page.split('<p class="teamless" role="status">')[1].split("</p>")[0].split())
    assert hint.startswith("2 sessions in this store belong to no team")
    assert (
        "agentlog migrate --db &lt;the store it serves&gt; --to http://testserver "
        "--api-key &lt;a key of that team&gt;"
    ) in hint
    # A member cannot act on it; a filtered list is empty for its own reason.
    assert "teamless" not in sign_in(srv, "alice@example.com").get("/sessions").text
    boss = sign_in(srv, "boss@example.com")
    assert "teamless" not in boss.get("/sessions", params={"q": "nothing"}).text
    assert teamless_sessions(srv.app.state.agentlog.store) == 2


def test_the_owner_sees_the_stores_address_in_the_hint(srv: TestServer):
    from agentlog.server.passwords import hash_password

    _record_before_serving(srv, 1)
    owner = srv.accounts.user_by_email("admin@example.com")
    srv.accounts.update_user(owner.id, password_hash=hash_password(PASSWORD))
    page = sign_in(srv, "admin@example.com").get("/sessions").text
    hint = " ".join(page.split('<p class="teamless" role="status">')[1].split("</p>")[0].split())
    assert hint.startswith("1 session in this store belongs to no team")
    assert f"--db {srv.app.state.agentlog.settings.db} --to" in hint


def test_following_the_hint_brings_them_into_the_keys_team_and_the_hint_goes(srv: TestServer):
    made = _record_before_serving(srv, 3)
    add_user(srv, "boss@example.com", Role.ADMIN, "main", PASSWORD)
    db = srv.app.state.agentlog.settings.db
    with LiveServer(srv.app) as live:
        args = ["migrate", "--db", db, "--to", live.url, "--api-key", srv.admin_key.secret]
        result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    team = srv.app.state.agentlog.store.scoped(srv.team.id)
    titles = {s.title for s in team.list_sessions(SessionQuery(limit=10)).items}
    assert titles == {s.title for s in made}
    page = sign_in(srv, "boss@example.com").get("/sessions").text
    assert "local run 0" in page and "teamless" not in page


@pytest.fixture
def serve_env(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    """`agentlog serve` up to uvicorn, which is recorded instead of run; its environment restored."""
    import uvicorn

    for name in ("AGENTLOG_DB", "AGENTLOG_SERVE_HOST", "AGENTLOG_SERVE_PORT", DEV_ENV):
        monkeypatch.delenv(name, raising=False)
    calls: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: calls.append(kw))
    return calls


def test_serve_prints_one_line_on_team_less_sessions(tmp_path, serve_env):
    db = str(tmp_path / "x.db")
    demo = CliRunner().invoke(app, ["demo", "--db", db])
    assert demo.exit_code == 0, demo.output
    from agentlog.storage import open_store

    with open_store(db) as store:
        count = teamless_sessions(store)
    assert count > 0
    port = free_port()
    result = CliRunner().invoke(app, ["serve", "--db", db, "--port", str(port)])
    assert result.exit_code == 0, result.output
    assert serve_env, "uvicorn was not reached"
    lines = [line for line in result.stderr.splitlines() if "belong to no team" in line]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"{count} sessions in this store belong to no team")
    assert lines[0].endswith(
        f"agentlog migrate --db {db} --to http://127.0.0.1:{port} --api-key <a key of that team>"
    )
    with open_store(db) as store:
        assert teamless_sessions(store) == count  # serving gave them to nobody


def test_serve_says_nothing_when_every_session_has_a_team(tmp_path, serve_env):
    port = str(free_port())
    result = CliRunner().invoke(app, ["serve", "--db", str(tmp_path / "x.db"), "--port", port])
    assert result.exit_code == 0 and serve_env, result.output
    assert "AgentLog server on" in result.stderr and "no team" not in result.stderr


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_team_less_sessions_are_counted_on_both_server_backends(tmp_path, backend):
    import os

    if backend == "postgres":
        if not os.environ.get("AGENTLOG_TEST_POSTGRES_URL"):
            pytest.skip("the postgres backend needs AGENTLOG_TEST_POSTGRES_URL set")
        from agentlog.storage.postgres.testing import temporary_store

        store = temporary_store()
    else:
        from agentlog.storage.sqlite.store import SQLiteStore

        store = SQLiteStore(tmp_path / "x.db")
    try:
        assert teamless_sessions(store) == 0
        local = [Session(title="local"), Session(title="local too")]
        store.write(sessions=local, events=[])
        team = Session(title="a team's")
        store.scoped("team-a", "u").write(sessions=[team], events=[])
        assert teamless_sessions(store) == 2
    finally:
        store.close()
