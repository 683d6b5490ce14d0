"""Erasing a user (GDPR) and each team's retention through the API, with who may do what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agentlog.model import Event, Session
from agentlog.server import testing
from agentlog.storage.accounts import Role
from tests.support.server import Who, add_user

MISSING = "01900000-0000-7000-8000-000000000000"


def _owner(srv: testing.TestServer) -> Who:
    return Who(srv.accounts.user_by_email("admin@example.com"), srv.admin_key.secret)


def _session(srv: testing.TestServer, who: Who, when: datetime | None = None) -> str:
    when = when or datetime.now(UTC)
    s = Session(title="run", created_at=when, updated_at=when)
    ev = Event(session_id=s.id, type="LOG", content="secret plans", timestamp=when)
    body = {"sessions": [s.to_json_dict()], "events": [ev.to_json_dict()]}
    r = srv.client.post("/v1/events:batch", json=body, headers=who.h)
    assert r.status_code == 200, r.text
    return s.id


def test_an_admin_erases_a_member_and_transfers_their_sessions(srv):
    c = srv.client
    boss = add_user(srv, "boss@alpha.example", Role.ADMIN, "alpha")
    ana = add_user(srv, "ana@alpha.example", Role.MEMBER, "alpha")
    sid = _session(srv, ana)
    r = c.post(f"/v1/users/{ana.user.id}:erase", json={"sessions": "transfer"}, headers=boss.h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["sessions"], body["sessions_affected"], body["keys_deleted"]) == (
        "transfer",
        1,
        1,
    )
    # Her key stops working at once; her session stays with the team, no creator recorded.
    assert c.get("/v1/sessions", headers=ana.h).status_code == 401
    got = c.get(f"/v1/sessions/{sid}", headers=boss.h).json()
    assert got["created_by"] is None and got["event_count"] == 1
    assert c.get(f"/v1/users/{ana.user.id}", headers=boss.h).status_code == 404
    audit = c.get("/v1/audit", headers=boss.h).json()
    assert "ana@alpha.example" not in str(audit) and ana.user.id not in str(audit)
    assert audit[0]["action"] == "user.erase" and audit[0]["target"] == body["pseudonym"]


def test_erasing_with_delete_takes_the_sessions_and_events(srv):
    c, owner = srv.client, _owner(srv)
    ana = add_user(srv, "ana@main.example", Role.MEMBER, "main")
    sid = _session(srv, ana)
    r = c.post(f"/v1/users/{ana.user.id}:erase", json={"sessions": "delete"}, headers=owner.h)
    assert r.status_code == 200, r.text
    assert r.json()["sessions_affected"] == 1
    assert c.get(f"/v1/sessions/{sid}", headers=owner.h).status_code == 404
    assert c.get("/v1/events/search", params={"q": "plans"}, headers=owner.h).json()["items"] == []


def test_who_may_erase_whom(srv):
    c, owner = srv.client, _owner(srv)
    a_boss = add_user(srv, "boss@alpha.example", Role.ADMIN, "alpha")
    a_dev = add_user(srv, "dev@alpha.example", Role.MEMBER, "alpha")
    b_boss = add_user(srv, "boss@beta.example", Role.ADMIN, "beta")
    body = {"sessions": "delete"}
    # Another team's user answers 404 like a missing one; a member may not; nor oneself.
    assert (
        c.post(f"/v1/users/{a_dev.user.id}:erase", json=body, headers=b_boss.h).status_code == 404
    )
    assert c.post(f"/v1/users/{MISSING}:erase", json=body, headers=b_boss.h).status_code == 404
    assert (
        c.post(f"/v1/users/{a_boss.user.id}:erase", json=body, headers=a_dev.h).status_code == 403
    )
    r = c.post(f"/v1/users/{a_boss.user.id}:erase", json=body, headers=a_boss.h)
    assert r.status_code == 400 and "yourself" in r.json()["error"]["message"]
    r = c.post(f"/v1/users/{owner.user.id}:erase", json=body, headers=a_boss.h)
    assert r.status_code == 404  # the owner is in team main, not alpha
    bad = c.post(f"/v1/users/{a_dev.user.id}:erase", json={"sessions": "keep"}, headers=a_boss.h)
    assert bad.status_code == 422
    assert c.get(f"/v1/users/{a_dev.user.id}", headers=a_boss.h).status_code == 200


def test_team_retention_is_set_by_its_admin_and_applied(srv):
    c, owner = srv.client, _owner(srv)
    boss = add_user(srv, "boss@alpha.example", Role.ADMIN, "alpha")
    dev = add_user(srv, "dev@alpha.example", Role.MEMBER, "alpha")
    other = add_user(srv, "boss@beta.example", Role.ADMIN, "beta")
    team = boss.user.team_id
    assert (
        c.patch(f"/v1/teams/{team}", json={"retention_days": 30}, headers=dev.h).status_code == 403
    )
    assert (
        c.patch(f"/v1/teams/{team}", json={"retention_days": 30}, headers=other.h).status_code
        == 404
    )
    assert (
        c.patch(f"/v1/teams/{team}", json={"retention_days": 0}, headers=boss.h).status_code == 422
    )
    assert c.patch(f"/v1/teams/{team}", json={}, headers=boss.h).status_code == 422
    r = c.patch(f"/v1/teams/{team}", json={"retention_days": 30}, headers=boss.h)
    assert r.status_code == 200 and r.json()["retention_days"] == 30
    assert c.get("/v1/teams", headers=boss.h).json()[0]["retention_days"] == 30
    old = _session(srv, dev, datetime.now(UTC) - timedelta(days=45))
    new = _session(srv, dev)
    kept = _session(srv, other, datetime.now(UTC) - timedelta(days=45))  # beta keeps all
    assert c.post("/v1/retention:apply", headers=boss.h).status_code == 403  # owner only
    r = c.post("/v1/retention:apply", headers=owner.h)
    assert r.status_code == 200, r.text
    assert r.json()["sessions_erased"] == {team: 1}
    assert r.json()["months_dropped"] == []  # SQLite: no partitions
    assert c.get(f"/v1/sessions/{old}", headers=boss.h).status_code == 404
    assert c.get(f"/v1/sessions/{new}", headers=boss.h).status_code == 200
    assert c.get(f"/v1/sessions/{kept}", headers=other.h).status_code == 200
    actions = [e["action"] for e in c.get("/v1/audit", headers=boss.h).json()]
    assert "retention.erase" in actions and "team.retention" in actions
    r = c.patch(f"/v1/teams/{team}", json={"retention_days": None}, headers=owner.h)
    assert r.status_code == 200 and r.json()["retention_days"] is None


def test_delete_takes_the_sessions_below_with_tree_and_asks_which_without(srv):
    c, owner = srv.client, _owner(srv)
    root = Session(title="supervisor")
    worker = Session(title="worker", parent_session_id=root.id)
    helper = Session(title="helper", parent_session_id=worker.id)
    event = Event(session_id=helper.id, type="LOG", content="step")
    body = {
        "sessions": [s.to_json_dict() for s in (root, worker, helper)],
        "events": [event.to_json_dict()],
    }
    assert c.post("/v1/events:batch", json=body, headers=owner.h).status_code == 200
    # tree=false: the session alone (for writing it again in place); its child stays
    r = c.delete(f"/v1/sessions/{helper.id}", params={"tree": "false"}, headers=owner.h)
    assert r.json() == {"deleted_events": 1, "deleted_sessions": 1}
    # A parent without `tree`: neither is assumed (a client from before trees were erased
    # deletes to rewrite one session in place), so nothing is erased and the answer says how.
    r = c.delete(f"/v1/sessions/{root.id}", headers=owner.h)
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"
    assert "?tree=true" in r.json()["error"]["message"]
    assert c.get(f"/v1/sessions/{worker.id}", headers=owner.h).status_code == 200
    r = c.delete(f"/v1/sessions/{root.id}", params={"tree": "true"}, headers=owner.h)
    assert r.status_code == 200, r.text
    assert r.json() == {"deleted_events": 0, "deleted_sessions": 2}
    assert c.get(f"/v1/sessions/{worker.id}", headers=owner.h).status_code == 404
    audit = c.get("/v1/audit", headers=owner.h).json()
    assert audit[0]["action"] == "session.delete" and audit[0]["details"]["sessions"] == 2
