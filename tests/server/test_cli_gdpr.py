"""`agentlog admin teams retention`, `admin retention` and `admin users erase`, on the database and through the API."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from typer.testing import CliRunner

from agentlog.cli.app import app
from agentlog.model import Event, Session


def _old_session(db: str, team_id: str, user_id: str, days: int) -> str:
    from agentlog.storage import open_store

    when = datetime.now(UTC) - timedelta(days=days)
    s = Session(title="old", created_at=when, updated_at=when)
    store = open_store(db)
    try:
        store.scoped(team_id, user_id).write(
            sessions=[s], events=[Event(session_id=s.id, type="LOG", timestamp=when)]
        )
    finally:
        store.close()
    return s.id


def test_retention_and_erasure_on_the_servers_database(tmp_path):
    runner = CliRunner()
    db = str(tmp_path / "server.db")

    def run(*args: str):
        return runner.invoke(app, [*args, "--db", db])

    made = run("admin", "create-user", "ana@example.com", "--team", "ops", "--json")
    assert made.exit_code == 0, made.output
    ana = orjson.loads(made.stdout)
    assert run("admin", "teams", "retention", "ops").exit_code == 2  # --days or --forever
    r = run("admin", "teams", "retention", "ops", "--days", "30")
    assert r.exit_code == 0 and "30 days" in r.stderr, r.output
    teams = orjson.loads(run("admin", "teams", "list", "--json").stdout)["items"]
    assert [t["retention_days"] for t in teams if t["name"] == "ops"] == [30]
    old = _old_session(db, ana["team_id"], ana["id"], 40)
    mine = _old_session(db, ana["team_id"], ana["id"], 1)
    r = run("admin", "retention", "--archive", str(tmp_path / "arch"), "--json")
    assert r.exit_code == 0, r.output
    report = orjson.loads(r.stdout)
    assert report["sessions_erased"] == {ana["team_id"]: 1}
    archive = report["archives"][ana["team_id"]]
    assert archive.startswith(str(tmp_path / "arch")) and archive.endswith(".ndjson.gz")
    assert old.encode() in gzip.decompress(Path(archive).read_bytes())
    # Erase needs --sessions and (off a terminal) --yes.
    assert run("admin", "users", "erase", "ana@example.com").exit_code == 2
    r = run("admin", "users", "erase", "ana@example.com", "--sessions", "delete")
    assert r.exit_code == 2 and "--yes" in r.stderr
    r = run("admin", "users", "erase", "ana@example.com", "--sessions", "keep", "--yes")
    assert r.exit_code == 2
    r = run("admin", "users", "erase", "ana@example.com", "--sessions", "transfer", "--yes")
    assert r.exit_code == 0, r.output
    assert "1 sessions transferred" in r.stderr and "erased-" in r.stderr
    from agentlog.storage import open_store

    store = open_store(db)
    try:
        assert store.get_session(mine).created_by is None
    finally:
        store.close()
    users = orjson.loads(run("admin", "users", "list", "--json").stdout)["items"]
    assert "ana@example.com" not in [u["email"] for u in users]
    audit = run("admin", "audit", "--json").stdout
    assert "ana@example.com" not in audit and "user.erase" in audit


def test_retention_and_erasure_through_the_api(tmp_path):
    from agentlog.server.testing import LiveServer, start_test_server

    srv = start_test_server(tmp_path / "remote-gdpr")
    runner = CliRunner()
    try:
        with LiveServer(srv.app) as live:
            base = ["--server", live.url, "--api-key", srv.admin_key.secret, "admin"]

            def run(*args: str):
                return runner.invoke(app, [*base, *args])

            r = run("teams", "retention", "main", "--days", "7", "--json")
            assert r.exit_code == 0 and orjson.loads(r.stdout)["retention_days"] == 7, r.output
            assert run("teams", "retention", "nope", "--forever").exit_code == 1
            r = run("retention", "--json")
            assert r.exit_code == 0, r.output
            assert orjson.loads(r.stdout)["months_dropped"] == []
            r = run("retention", "--archive", str(tmp_path))
            assert r.exit_code == 2 and "retention_archive_dir" in r.stderr
            made = run("create-user", "bo@example.com", "--team", "main", "--json")
            assert made.exit_code == 0, made.output
            r = run("users", "erase", "bo@example.com", "--sessions", "delete", "--yes", "--json")
            assert r.exit_code == 0, r.output
            assert orjson.loads(r.stdout)["keys_deleted"] == 0
            assert (
                run("users", "erase", "bo@example.com", "--sessions", "delete", "--yes").exit_code
                == 1
            )
    finally:
        srv.close()
