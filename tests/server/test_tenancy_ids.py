"""Ids are per team (issue 9 item 11): another team's session or event id behaves exactly like a new one.

Run on both server backends: the SQLite database `start_test_server` makes, and
PostgreSQL when AGENTLOG_TEST_POSTGRES_URL is set.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentlog.model import Event, Session, new_id
from agentlog.server import testing
from agentlog.storage.accounts import Role
from agentlog.storage.postgres.testing import ENV
from tests.support.server import Who, World, add_user, make_session


def _pg_server(tmp_path: Path) -> Iterator[testing.TestServer]:
    from starlette.testclient import TestClient

    from agentlog.server import service
    from agentlog.server.app import create_app
    from agentlog.server.settings import ServerSettings
    from agentlog.storage.postgres.testing import drop_schema, new_schema_url

    url, schema = new_schema_url("ids")
    app = create_app(ServerSettings(db=url, data_dir=tmp_path, rate_limit_per_minute=0))
    accounts = app.state.agentlog.accounts
    team = service.team_for(accounts, "main", create=True)
    owner = accounts.create_user("admin@example.com", None, Role.OWNER, team.id)
    key = service.create_key(accounts, owner, team, "tests")
    try:
        with TestClient(app, base_url="http://testserver") as client:
            yield testing.TestServer(app, client, accounts, team, key)
    finally:
        drop_schema(schema)


@pytest.fixture(params=["sqlite", "postgresql"])
def two_teams(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    if request.param == "postgresql":
        if not os.environ.get(ENV):
            pytest.skip(f"PostgreSQL tests need {ENV} set")
        servers = _pg_server(tmp_path)
        srv = next(servers)
    else:
        srv = testing.start_test_server(tmp_path / "srv", rate_limit_per_minute=0)
    try:
        admin = Who(srv.accounts.user_by_email("admin@example.com"), srv.admin_key.secret)
        member = add_user(srv, "member@example.com", Role.MEMBER, "main")
        viewer = add_user(srv, "viewer@example.com", Role.VIEWER, "main")
        other = add_user(srv, "other@example.com", Role.MEMBER, "other")
        yield World(srv, admin, member, viewer, other, other.user.team_id)
    finally:
        if request.param == "postgresql":
            next(servers, None)
        else:
            srv.close()


def _same_but_id(a: dict, b: dict, a_id: str, b_id: str) -> None:
    """Two answers equal once each one's id is blanked out (times aside)."""

    def norm(body: dict, sid: str) -> dict:
        return {
            k: ("X" if v == sid else v)
            for k, v in body.items()
            if not k.endswith("_at") and k != "created_at"
        }

    assert norm(a, a_id) == norm(b, b_id)


def test_posting_another_teams_session_id_is_like_posting_a_new_one(two_teams):
    w = two_teams
    c = w.client
    theirs = make_session(w, w.member, "main's run", events=2)
    fresh = new_id()
    answers = {}
    for sid in (theirs, fresh):
        r = c.post("/v1/sessions", json={"id": sid, "title": "ours"}, headers=w.other.h)
        answers[sid] = r
    assert answers[theirs].status_code == answers[fresh].status_code == 201, answers[theirs].text
    _same_but_id(answers[theirs].json(), answers[fresh].json(), theirs, fresh)
    # The other team now has its own session of that id; main's is untouched.
    ours = c.get(f"/v1/sessions/{theirs}", headers=w.other.h).json()
    assert (ours["title"], ours["event_count"], ours["team_id"]) == ("ours", 0, w.other_team_id)
    main = c.get(f"/v1/sessions/{theirs}", headers=w.member.h).json()
    assert (main["title"], main["event_count"]) == ("main's run", 2)
    # Events for that id, by batch or by path, go into the other team's session.
    ev = Event(session_id=theirs, type="LOG", content="other's line").to_json_dict()
    r = c.post("/v1/events:batch", json={"events": [ev]}, headers=w.other.h)
    assert r.status_code == 200 and r.json() == {"inserted": 1, "duplicates": 0, "errors": []}
    ev2 = Event(session_id=theirs, type="LOG", content="by path").to_json_dict()
    r = c.post(f"/v1/sessions/{theirs}/events", json={"events": [ev2]}, headers=w.other.h)
    assert r.status_code == 200 and r.json()["inserted"] == 1
    assert c.get(f"/v1/sessions/{theirs}", headers=w.other.h).json()["event_count"] == 2
    assert c.get(f"/v1/sessions/{theirs}", headers=w.member.h).json()["event_count"] == 2
    lines = [
        e["content"]
        for e in c.get(f"/v1/sessions/{theirs}/events", headers=w.member.h).json()["items"]
    ]
    assert lines == ["main's run line 0", "main's run line 1"]
    # Erasing its own session leaves main's alone.
    assert c.delete(f"/v1/sessions/{theirs}", headers=w.other.h).json() == {
        "deleted_events": 2,
        "deleted_sessions": 1,
    }
    assert c.get(f"/v1/sessions/{theirs}", headers=w.member.h).json()["event_count"] == 2


def test_posting_another_teams_event_id_into_our_session_inserts_it(two_teams):
    w = two_teams
    c = w.client
    theirs = make_session(w, w.member, "main's run", events=1)
    taken = c.get(f"/v1/sessions/{theirs}/events", headers=w.member.h).json()["items"][0]["id"]
    mine = Session(title="mine")
    answers = {}
    for eid in (taken, new_id()):
        ev = Event(id=eid, session_id=mine.id, type="LOG", content="other's words")
        body = {"sessions": [mine.to_json_dict()], "events": [ev.to_json_dict()]}
        answers[eid] = c.post("/v1/events:batch", json=body, headers=w.other.h)
    assert answers[taken].status_code == 200, answers[taken].text
    assert answers[taken].json() == {"inserted": 1, "duplicates": 0, "errors": []}
    assert c.get(f"/v1/events/{taken}", headers=w.other.h).json()["content"] == "other's words"
    assert c.get(f"/v1/events/{taken}", headers=w.member.h).json()["content"] == "main's run line 0"
    assert c.get(f"/v1/sessions/{mine.id}", headers=w.other.h).json()["event_count"] == 2
    # Posting it again is a duplicate within the other team, as any retry is.
    ev = Event(id=taken, session_id=mine.id, type="LOG", content="other's words")
    again = c.post("/v1/events:batch", json={"events": [ev.to_json_dict()]}, headers=w.other.h)
    assert again.json() == {"inserted": 0, "duplicates": 1, "errors": []}
