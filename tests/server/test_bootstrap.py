"""Before `serve` listens: the JWT secret rules, waiting for the database, the first admin from the environment."""

from __future__ import annotations

import pytest

from agentlog.errors import InvalidInput, StoreError, UsageError
from agentlog.server.bootstrap import bootstrap_admin, check_jwt_secret, wait_for_database
from agentlog.server.service import open_backends
from agentlog.server.settings import ServerSettings

GOOD = "k" * 8 + "0123456789abcdefghijklmnopqrstuvwxyz"


def settings(**kw) -> ServerSettings:
    return ServerSettings(db="unused.db", **kw)


def test_network_bind_needs_a_secret_loopback_and_dev_do_not():
    with pytest.raises(UsageError, match="needs AGENTLOG_SERVE_JWT_SECRET"):
        check_jwt_secret(settings(host="0.0.0.0"))
    check_jwt_secret(settings(host="127.0.0.1"))  # a generated key in the data dir
    check_jwt_secret(settings(host="0.0.0.0", jwt_secret=GOOD))


def test_a_placeholder_secret_is_refused_everywhere():
    placeholder = "change-me-" + "x" * 40
    for host in ("127.0.0.1", "0.0.0.0"):
        with pytest.raises(UsageError, match="placeholder"):
            check_jwt_secret(settings(host=host, jwt_secret=placeholder))


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_unreachable_database_is_retried_with_backoff_then_one_error():
    clock = FakeClock()
    retries: list[str] = []

    def down():
        raise StoreError("cannot reach PostgreSQL at postgresql://db/x (connection refused)")

    with pytest.raises(StoreError, match="cannot reach"):
        wait_for_database(
            down,
            10,
            on_retry=lambda msg, _d: retries.append(msg),
            sleep=clock.sleep,
            clock=lambda: clock.now,
        )
    assert clock.sleeps[:4] == [0.25, 0.5, 1.0, 2.0]
    assert max(clock.sleeps) <= 5.0 and sum(clock.sleeps) == pytest.approx(10)
    assert len(retries) == len(clock.sleeps)


def test_database_that_comes_up_is_used_and_a_refusal_is_not_retried():
    clock = FakeClock()
    attempts = iter([StoreError("cannot reach it"), StoreError("cannot reach it"), "store"])

    def flaky():
        item = next(attempts)
        if isinstance(item, Exception):
            raise item
        return item

    assert wait_for_database(flaky, 30, sleep=clock.sleep, clock=lambda: clock.now) == "store"
    assert len(clock.sleeps) == 2

    def refused():
        raise StoreError("PostgreSQL at x refused the login (password authentication failed)")

    clock.sleeps.clear()
    with pytest.raises(StoreError, match="refused the login"):
        wait_for_database(refused, 30, sleep=clock.sleep, clock=lambda: clock.now)
    assert clock.sleeps == []


def test_first_admin_is_created_once(tmp_path):
    store, accounts = open_backends(str(tmp_path / "team.db"))
    try:
        none = bootstrap_admin(accounts, "", "")
        assert none.created is None and "AGENTLOG_ADMIN_EMAIL" in none.note
        first = bootstrap_admin(accounts, "boss@example.com", "long-enough-pw", "ops")
        assert first.created == "boss@example.com"
        user = accounts.user_by_email("boss@example.com")
        assert user.role.value == "owner"  # the first user owns the server
        assert accounts.get_team(user.team_id).name == "ops"
        again = bootstrap_admin(accounts, "other@example.com", "long-enough-pw")
        assert again.created is None
        assert [u.email for u in accounts.list_users()] == ["boss@example.com"]
    finally:
        accounts.close()
        store.close()


def test_serve_gives_up_on_a_database_that_never_answers(monkeypatch):
    from typer.testing import CliRunner

    from agentlog.cli.app import app
    from agentlog.server.testing import free_port

    pytest.importorskip("psycopg")
    monkeypatch.setenv("AGENTLOG_SERVE_DB_WAIT_SECONDS", "1.5")
    url = f"postgresql://agentlog@127.0.0.1:{free_port()}/agentlog"  # nothing listens there
    result = CliRunner().invoke(app, ["serve", "--db", url])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert any("retrying in" in line for line in lines[:-1])
    assert lines[-1].startswith("error: cannot reach PostgreSQL") or "cannot reach" in lines[-1]
    assert "Traceback" not in result.stderr


@pytest.mark.postgres
@pytest.mark.skipif(
    not __import__("os").environ.get("AGENTLOG_TEST_POSTGRES_URL"), reason="needs PostgreSQL"
)
def test_serve_fails_at_once_on_a_wrong_database_url(monkeypatch):
    """A database that answers "no such database" is not waited for: one line, no retries."""
    import os
    from urllib.parse import urlsplit, urlunsplit

    from typer.testing import CliRunner

    from agentlog.cli.app import app

    monkeypatch.setenv("AGENTLOG_SERVE_DB_WAIT_SECONDS", "30")
    parts = urlsplit(os.environ["AGENTLOG_TEST_POSTGRES_URL"])
    wrong = urlunsplit(parts._replace(path="/agentlog_deploy_no_such_db", query=""))
    result = CliRunner().invoke(app, ["serve", "--db", wrong])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "does not exist" in lines[0] and "createdb" in lines[0]


def test_a_weak_first_admin_password_names_the_variable(tmp_path):
    store, accounts = open_backends(str(tmp_path / "w.db"))
    try:
        with pytest.raises(InvalidInput) as refused:
            bootstrap_admin(accounts, "boss@example.com", "password123")
        assert str(refused.value).startswith(
            "AGENTLOG_ADMIN_PASSWORD (admin.password): the password is one of the most common"
        )
        assert accounts.count_users() == 0
    finally:
        store.close()
        accounts.close()
