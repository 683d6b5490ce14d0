"""`agentlog admin …`, `agentlog login` and `agentlog serve` argument checks, through the real CLI."""

from __future__ import annotations

import os
import stat

import orjson
import pytest
from typer.testing import CliRunner

from agentlog.cli.app import app
from agentlog.config import config_path, read_file


@pytest.fixture
def cli(tmp_path):
    runner = CliRunner()
    db = str(tmp_path / "server.db")

    def run(*args: str, input: str | None = None):
        return runner.invoke(app, [*args, "--db", db], input=input)

    run.db = db  # type: ignore[attr-defined]
    return run


def test_create_user_generates_a_password_once(cli):
    r = cli("admin", "create-user", "boss@example.com", "--admin", "--team", "platform")
    assert r.exit_code == 0, r.output
    password = r.stdout.strip().splitlines()[-1]
    assert len(password) >= 16
    from agentlog.server.passwords import verify_password
    from agentlog.storage.accounts.sqlite import SQLiteAccounts

    acc = SQLiteAccounts(cli.db)
    user = acc.user_by_email("boss@example.com")
    assert user.role.value == "admin" and acc.get_team(user.team_id).name == "platform"
    assert verify_password(user.password_hash, password)
    acc.close()


def test_create_user_says_which_store_it_wrote_to(cli):
    """`admin create-user` without the server's --db writes elsewhere: the line names the store."""
    r = cli("admin", "create-user", "boss@example.com", "--admin", "--team", "platform")
    assert r.exit_code == 0, r.output
    assert f"in team platform (store: {cli.db})" in r.stderr, r.stderr


def test_create_user_password_stdin_and_duplicates(cli):
    r = cli(
        "admin",
        "create-user",
        "ana@example.com",
        "--password-stdin",
        "--json",
        input="s3cret-password\n",
    )
    assert r.exit_code == 0, r.output
    doc = orjson.loads(r.stdout)
    assert (
        doc["role"] == "member" and doc["team"] == "default" and doc["generated_password"] is None
    )
    again = cli(
        "admin", "create-user", "ana@example.com", "--password-stdin", input="s3cret-password\n"
    )
    assert again.exit_code == 1 and "already exists" in again.stderr
    short = cli("admin", "create-user", "bo@example.com", "--password-stdin", input="short\n")
    assert short.exit_code == 1 and "at least 8" in short.stderr


def test_teams_and_users(cli):
    assert cli("admin", "teams", "create", "research").exit_code == 0
    dup = cli("admin", "teams", "create", "research")
    assert dup.exit_code == 1 and "already exists" in dup.stderr
    teams = orjson.loads(cli("admin", "teams", "list", "--json").stdout)["items"]
    assert [t["name"] for t in teams] == ["research"]
    cli("admin", "create-user", "ana@example.com", "--team", "research")
    users = orjson.loads(cli("admin", "users", "list", "--json", "--team", "research").stdout)[
        "items"
    ]
    assert [(u["email"], u["role"], u["team"]) for u in users] == [
        ("ana@example.com", "member", "research")
    ]
    r = cli("admin", "users", "update", "ana@example.com", "--role", "viewer", "--json")
    assert r.exit_code == 0 and orjson.loads(r.stdout)["role"] == "viewer"
    nothing = cli("admin", "users", "update", "ana@example.com")
    assert nothing.exit_code == 2 and "nothing to change" in nothing.stderr
    assert cli("admin", "users", "disable", "ana@example.com").exit_code == 0
    users = orjson.loads(cli("admin", "users", "list", "--json").stdout)["items"]
    assert users[0]["disabled"] is True
    missing = cli("admin", "users", "disable", "nobody@example.com")
    assert missing.exit_code == 1 and "no user" in missing.stderr


def test_keys_create_list_rotate_revoke(cli):
    none = cli("admin", "keys", "create", "--label", "ci")
    assert none.exit_code == 2 and "create-user" in none.stderr
    cli("admin", "create-user", "boss@example.com", "--admin")
    cli("admin", "teams", "create", "ops")
    r = cli("admin", "keys", "create", "--label", "ci", "--team", "ops", "--json")
    assert r.exit_code == 0, r.output
    key = orjson.loads(r.stdout)
    assert {"id", "secret", "prefix", "label", "team"} <= set(key) and key["team"] == "ops"
    assert key["secret"].startswith(key["prefix"] + "_")
    listed = cli("admin", "keys", "list", "--json").stdout
    assert key["prefix"] in listed and key["secret"] not in listed
    plain = cli("admin", "keys", "create", "--label", "laptop")
    assert plain.stdout.strip().startswith("al_") and "shown once" in plain.stderr
    rotated = orjson.loads(cli("admin", "keys", "rotate", key["id"], "--json").stdout)
    assert rotated["secret"] != key["secret"] and rotated["label"] == "ci"
    assert cli("admin", "keys", "revoke", rotated["id"]).exit_code == 0
    rows = {
        k["id"]: k for k in orjson.loads(cli("admin", "keys", "list", "--json").stdout)["items"]
    }
    assert rows[key["id"]]["revoked_at"] and rows[rotated["id"]]["revoked_at"]
    bad = cli("admin", "keys", "revoke", "01900000-0000-7000-8000-000000000000")
    assert bad.exit_code == 1 and "no API key" in bad.stderr


def test_login_stores_server_and_key_privately(tmp_path):
    from agentlog.server.service import create_user, team_for
    from agentlog.server.testing import LiveServer, start_test_server
    from agentlog.storage.accounts import Role

    srv = start_test_server(tmp_path / "login")
    try:
        create_user(
            srv.accounts,
            "pat@example.com",
            password="correct horse 1",
            role=Role.MEMBER,
            team=srv.team,
        )
        with LiveServer(srv.app) as live:
            runner = CliRunner()
            bad = runner.invoke(
                app,
                ["login", live.url, "--email", "pat@example.com", "--password-stdin"],
                input="nope nope\n",
            )
            assert bad.exit_code == 1 and "wrong email or password" in bad.stderr
            r = runner.invoke(
                app,
                ["login", live.url, "--email", "pat@example.com", "--password-stdin"],
                input="correct horse 1\n",
            )
            assert r.exit_code == 0, r.output
            settings = read_file()
            assert settings["server"] == live.url and settings["api_key"].startswith("al_")
            assert stat.S_IMODE(os.stat(config_path()).st_mode) == 0o600
            listed = runner.invoke(app, ["sessions", "list", "--json"])
            assert listed.exit_code == 0, listed.output
            assert orjson.loads(listed.stdout)["items"] == []
        assert team_for(srv.accounts, "main", create=False).id == srv.team.id
    finally:
        srv.close()


def test_serve_refuses_dev_mode_off_loopback(cli):
    r = cli("serve", "--dev", "--host", "0.0.0.0")
    assert r.exit_code == 2 and "loopback" in r.stderr


def test_admin_commands_through_the_api_with_a_server_configured(tmp_path):
    """Without --db and with --server, `agentlog admin` wraps the admin endpoints."""
    from agentlog.server.testing import LiveServer, start_test_server

    srv = start_test_server(tmp_path / "remote-admin")
    runner = CliRunner()
    try:
        with LiveServer(srv.app) as live:
            base = ["--server", live.url, "--api-key", srv.admin_key.secret, "admin"]

            def run(*args: str, input: str | None = None):
                return runner.invoke(app, [*base, *args], input=input)

            assert run("teams", "create", "ops").exit_code == 0
            made = run(
                "create-user", "ana@example.com", "--team", "ops", "--role", "viewer", "--json"
            )
            assert made.exit_code == 0, made.output
            assert orjson.loads(made.stdout)["generated_password"]
            users = orjson.loads(run("users", "list", "--json", "--team", "ops").stdout)["items"]
            assert [(u["email"], u["role"], u["team"]) for u in users] == [
                ("ana@example.com", "viewer", "ops")
            ]
            key = orjson.loads(
                run("keys", "create", "--label", "ci", "--team", "ops", "--json").stdout
            )
            assert key["secret"].startswith("al_") and key["team"] == "ops"
            rotated = orjson.loads(run("keys", "rotate", key["id"], "--json").stdout)
            assert rotated["secret"] != key["secret"]
            assert run("keys", "revoke", rotated["id"]).exit_code == 0
            assert run("users", "disable", "ana@example.com").exit_code == 0
            audit = orjson.loads(run("audit", "--json").stdout)["items"]
            assert {"key.rotate", "key.revoke", "user.update"} <= {a["action"] for a in audit}
            member = runner.invoke(
                app, ["--server", live.url, "--api-key", key["secret"], "admin", "users", "list"]
            )
            assert member.exit_code == 1 and "revoked" in member.stderr
    finally:
        srv.close()


def test_rotate_signing_key_keeps_the_old_key():
    from agentlog.config import data_dir
    from agentlog.server.tokens import KeyRing

    before = KeyRing(data_dir()).kids()
    r = CliRunner().invoke(app, ["admin", "rotate-signing-key"])
    assert r.exit_code == 0, r.output
    after = KeyRing(data_dir()).kids()
    assert after[:-1] == before and after[-1] != before[-1]


def test_client_side_modules_do_not_import_the_web_stack():
    """RemoteStore, the accounts tables and the admin/login commands load without FastAPI or uvicorn."""
    import subprocess
    import sys

    code = (
        "import sys, agentlog.storage.remote, agentlog.storage.accounts, agentlog.server.admin_ops, "
        "agentlog.cli.admin, agentlog.cli.login; "
        "print(sorted(m for m in ('fastapi', 'starlette', 'uvicorn', 'textual') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
