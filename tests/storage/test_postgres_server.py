"""`agentlog serve --db postgresql://…`: the app over PostgresStore and PostgresAccounts, end to end."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentlog.errors import Conflict, NotFound
from agentlog.model import Event, EventType, Session, new_id
from agentlog.storage.accounts import Actor, Role, open_accounts
from agentlog.storage.base import EventQuery, SessionQuery
from agentlog.storage.postgres.testing import ENV, drop_schema, new_schema_url

pytestmark = pytest.mark.skipif(not os.environ.get(ENV), reason=f"PostgreSQL tests need {ENV} set")


@pytest.fixture
def pg_url() -> Iterator[str]:
    url, schema = new_schema_url("server")
    try:
        yield url
    finally:
        drop_schema(schema)


def test_accounts_round_trip(pg_url: str) -> None:
    accounts = open_accounts(pg_url)
    try:
        team = accounts.create_team("Main")
        with pytest.raises(Conflict):
            accounts.create_team("main")  # names are unique regardless of case
        user = accounts.create_user("Ada@example.com", "hash", Role.ADMIN, team.id)
        assert accounts.user_by_email("ada@EXAMPLE.com").id == user.id
        key, secret = accounts.create_key(user.id, team.id, "ci", Actor(user_id=user.id))
        assert accounts.find_key(secret) == key and accounts.find_key(secret + "x") is None
        new, new_secret = accounts.rotate_key(key.id, grace_seconds=0)
        assert accounts.find_key(new_secret) == new and not accounts.get_key(key.id).active()
        accounts.update_user(user.id, disabled=True)
        assert not accounts.get_key(new.id).active()
        accounts.record_usage([(team.id, "2026-03-01", "GET /v1/sessions", 3, 1)] * 2)
        assert accounts.usage(team.id, "2026-03-01", "2026-03-01") == [
            {"endpoint": "GET /v1/sessions", "requests": 6, "errors": 2}
        ]
        actions = [e.action for e in accounts.list_audit(team_id=team.id)]
        assert {"team.create", "user.create", "key.create", "key.rotate", "user.update"} <= set(
            actions
        )
        assert accounts.count_users() == 1 and [t.name for t in accounts.list_teams()] == ["Main"]
        with pytest.raises(NotFound):
            accounts.get_user(new_id())
    finally:
        accounts.close()


def test_serve_over_postgres_writes_and_reads_with_a_key(pg_url: str, tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from agentlog.server import service
    from agentlog.server.app import create_app
    from agentlog.server.settings import ServerSettings
    from agentlog.storage.remote import RemoteStore

    app = create_app(ServerSettings(db=pg_url, data_dir=tmp_path, rate_limit_per_minute=0))
    accounts = app.state.agentlog.accounts
    team = service.team_for(accounts, "main", create=True)
    admin = accounts.create_user("admin@example.com", None, Role.OWNER, team.id)
    key = service.create_key(accounts, admin, team, "tests")
    with TestClient(app, base_url="http://testserver") as client:
        remote = RemoteStore("http://testserver", api_key=key.secret, client=client, backoff=0.01)
        s = Session(title="over postgres")
        events = [
            Event(session_id=s.id, type=EventType.LOG, content=f"persimmon {i}") for i in range(3)
        ]
        assert remote.write(sessions=[s], events=events).inserted == 3
        assert [x.id for x in remote.list_sessions(SessionQuery())] == [s.id]
        assert [e.id for e in remote.list_events(EventQuery(text="persimmon"))] == [
            e.id for e in events
        ]
        assert (
            client.get("/v1/sessions", headers={"Authorization": "Bearer nope"}).status_code == 401
        )
        assert client.get("/readyz").status_code == 200
    # The rows really are in PostgreSQL, stamped with the key's team.
    from agentlog.storage import open_store

    store = open_store(pg_url)
    try:
        assert store.get_session(s.id).team_id == team.id
        assert store.info().events == 3
    finally:
        store.close()
