"""The role matrix over two teams: a team admin is scoped to its team, the server owner is not (issue 9, item 8)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from agentlog.model import Event, Session
from agentlog.server import testing
from agentlog.storage.accounts import Role
from tests.support.server import Who, add_user

MISSING = "01900000-0000-7000-8000-000000000000"


@dataclass
class Teams:
    srv: testing.TestServer
    owner: Who
    a_admin: Who
    a_member: Who
    a_viewer: Who
    b_admin: Who
    b_member: Who
    a_session: str
    a_event: str
    b_session: str

    @property
    def c(self):
        return self.srv.client


def _session(srv: testing.TestServer, who: Who, title: str) -> tuple[str, str]:
    s = Session(title=title)
    ev = Event(session_id=s.id, type="LOG", content=f"{title} content", agent_id="bot")
    body = {"sessions": [s.to_json_dict()], "events": [ev.to_json_dict()]}
    r = srv.client.post("/v1/events:batch", json=body, headers=who.h)
    assert r.status_code == 200, r.text
    return s.id, ev.id


@pytest.fixture
def teams(srv: testing.TestServer) -> Teams:
    owner = Who(srv.accounts.user_by_email("admin@example.com"), srv.admin_key.secret)
    a_admin = add_user(srv, "boss@alpha.example", Role.ADMIN, "alpha")
    a_member = add_user(srv, "dev@alpha.example", Role.MEMBER, "alpha")
    a_viewer = add_user(srv, "eyes@alpha.example", Role.VIEWER, "alpha")
    b_admin = add_user(srv, "boss@beta.example", Role.ADMIN, "beta")
    b_member = add_user(srv, "dev@beta.example", Role.MEMBER, "beta")
    a_session, a_event = _session(srv, a_member, "alpha plan")
    b_session, _ = _session(srv, b_member, "beta plan")
    return Teams(
        srv, owner, a_admin, a_member, a_viewer, b_admin, b_member, a_session, a_event, b_session
    )


def _404_like_missing(r, real: str, missing: str = MISSING) -> None:
    assert r.status_code == 404, r.text
    assert r.json()["error"]["code"] == "not_found"
    assert real not in r.text or missing in r.text.replace(real, missing)


def test_team_admin_sees_only_its_team_users(teams):
    c = teams.c
    users = c.get("/v1/users", headers=teams.b_admin.h).json()
    assert {u["email"] for u in users} == {"boss@beta.example", "dev@beta.example"}
    assert c.get("/v1/users", params={"team": "alpha"}, headers=teams.b_admin.h).status_code == 403
    everyone = {u["email"] for u in c.get("/v1/users", headers=teams.owner.h).json()}
    assert {"boss@alpha.example", "boss@beta.example", "admin@example.com"} <= everyone
    target = teams.a_member.user.id
    foreign = c.get(f"/v1/users/{target}", headers=teams.b_admin.h)
    absent = c.get(f"/v1/users/{MISSING}", headers=teams.b_admin.h)
    assert foreign.status_code == absent.status_code == 404
    assert foreign.json()["error"]["message"].replace(target, "X") == absent.json()["error"][
        "message"
    ].replace(MISSING, "X")
    assert c.get(f"/v1/users/{target}", headers=teams.a_admin.h).status_code == 200


def test_team_admin_cannot_take_over_another_teams_account(teams):
    c, target = teams.c, teams.a_member.user.id
    for change in (
        {"role": "viewer"},
        {"password": "a brand new passphrase 9"},
        {"disabled": True},
    ):
        r = c.patch(f"/v1/users/{target}", json=change, headers=teams.b_admin.h)
        assert r.status_code == 404, r.text
    assert teams.srv.accounts.get_user(target).role is Role.MEMBER
    assert not teams.srv.accounts.get_user(target).disabled
    # its own team's admin can
    r = c.patch(f"/v1/users/{target}", json={"role": "viewer"}, headers=teams.a_admin.h)
    assert r.status_code == 200 and r.json()["role"] == "viewer"


def test_team_admin_cannot_grant_owner_or_move_users_out(teams):
    c, target = teams.c, teams.a_member.user.id
    assert (
        c.patch(f"/v1/users/{target}", json={"role": "owner"}, headers=teams.a_admin.h).status_code
        == 403
    )
    assert (
        c.patch(f"/v1/users/{target}", json={"team": "beta"}, headers=teams.a_admin.h).status_code
        == 403
    )
    made = c.post(
        "/v1/users", json={"email": "x@alpha.example", "role": "owner"}, headers=teams.a_admin.h
    )
    assert made.status_code == 403
    assert (
        c.post(
            "/v1/users",
            json={"email": "spy@beta.example", "team": "alpha"},
            headers=teams.b_admin.h,
        ).status_code
        == 403
    )
    made = c.post("/v1/users", json={"email": "new@beta.example"}, headers=teams.b_admin.h)
    assert made.status_code == 201 and made.json()["team_id"] == teams.b_admin.user.team_id
    # an owner's account is beyond a team admin, even in its own team
    owner_in_alpha = add_user(teams.srv, "root@alpha.example", Role.OWNER, "alpha")
    r = c.patch(
        f"/v1/users/{owner_in_alpha.user.id}", json={"role": "viewer"}, headers=teams.a_admin.h
    )
    assert r.status_code == 403
    # the owner may do all of it
    assert (
        c.patch(f"/v1/users/{target}", json={"team": "beta"}, headers=teams.owner.h).status_code
        == 200
    )


def test_teams_are_created_by_the_owner_and_listed_per_team(teams):
    c = teams.c
    assert c.post("/v1/teams", json={"name": "gamma"}, headers=teams.b_admin.h).status_code == 403
    assert c.post("/v1/teams", json={"name": "gamma"}, headers=teams.owner.h).status_code == 201
    assert [t["name"] for t in c.get("/v1/teams", headers=teams.b_admin.h).json()] == ["beta"]
    names = {t["name"] for t in c.get("/v1/teams", headers=teams.owner.h).json()}
    assert {"alpha", "beta", "gamma", "main"} <= names


def test_team_admin_manages_only_its_teams_keys(teams):
    c, accounts = teams.c, teams.srv.accounts
    a_key = accounts.list_keys(user_id=teams.a_member.user.id)[0]
    for call in (
        lambda: c.post(f"/v1/api-keys/{a_key.id}/rotate", json={}, headers=teams.b_admin.h),
        lambda: c.delete(f"/v1/api-keys/{a_key.id}", headers=teams.b_admin.h),
    ):
        _404_like_missing(call(), a_key.id)
    listed = {k["id"] for k in c.get("/v1/api-keys", headers=teams.b_admin.h).json()}
    assert a_key.id not in listed and all(
        k.team_id == teams.b_admin.user.team_id for k in accounts.list_keys() if k.id in listed
    )
    assert (
        c.get("/v1/api-keys", params={"team": "alpha"}, headers=teams.b_admin.h).status_code == 403
    )
    r = c.post("/v1/api-keys", json={"label": "x", "team": "alpha"}, headers=teams.b_admin.h)
    assert r.status_code == 403
    r = c.post(
        "/v1/api-keys",
        json={"label": "x", "user_id": teams.a_member.user.id},
        headers=teams.b_admin.h,
    )
    assert r.status_code == 404
    assert c.get("/v1/sessions", headers=teams.a_member.h).status_code == 200  # still works
    # alpha's admin revokes alpha's key; the owner can revoke anyone's
    assert c.delete(f"/v1/api-keys/{a_key.id}", headers=teams.a_admin.h).status_code == 200
    b_key = accounts.list_keys(user_id=teams.b_member.user.id)[0]
    assert c.delete(f"/v1/api-keys/{b_key.id}", headers=teams.owner.h).status_code == 200


def test_team_admin_reads_only_its_teams_audit(teams):
    c = teams.c
    entries = c.get("/v1/audit", params={"limit": 1000}, headers=teams.b_admin.h).json()
    assert entries and {e["team_id"] for e in entries} == {teams.b_admin.user.team_id}
    assert c.get("/v1/audit", params={"team": "alpha"}, headers=teams.b_admin.h).status_code == 403
    every = c.get("/v1/audit", params={"limit": 1000}, headers=teams.owner.h).json()
    assert teams.a_admin.user.team_id in {e["team_id"] for e in every}


@pytest.mark.parametrize("team", ["alpha", "*", "ALPHA-ID"])
def test_team_admin_cannot_read_another_team_with_the_team_header(teams, team):
    team = teams.a_admin.user.team_id if team == "ALPHA-ID" else team
    h = {**teams.b_admin.h, "X-AgentLog-Team": team}
    for path in ("/v1/sessions", f"/v1/sessions/{teams.a_session}", "/v1/events"):
        r = teams.c.get(path, headers=h)
        assert r.status_code == 403, (path, r.text)
    # its own team by name is fine; another team's user as author is not
    own = {**teams.b_admin.h, "X-AgentLog-Team": "beta"}
    assert teams.c.get("/v1/sessions", headers=own).status_code == 200
    spoof = {**teams.b_admin.h, "X-AgentLog-User": teams.a_member.user.id}
    assert teams.c.get("/v1/sessions", headers=spoof).status_code == 403
    # the owner may act for alpha
    r = teams.c.get("/v1/sessions", headers={**teams.owner.h, "X-AgentLog-Team": "alpha"})
    assert [s["id"] for s in r.json()["items"]] == [teams.a_session]


def test_metrics_are_for_the_owner(teams):
    assert teams.c.get("/metrics", headers=teams.b_admin.h).status_code == 403
    assert teams.c.get("/metrics", headers=teams.owner.h).status_code == 200


def _fill(path: str, t: Teams) -> str:
    a_key = t.srv.accounts.list_keys(user_id=t.a_member.user.id)[0].id
    return (
        path.replace("{session_id}", t.a_session)
        .replace("{event_id}", t.a_event)
        .replace("{user_id}", t.a_member.user.id)
        .replace("{key_id}", a_key)
        .replace("{team_id}", t.a_member.user.team_id)
    )


BODIES = {
    "/v1/sessions/{session_id}": {"title": "pwned"},
    "/v1/users/{user_id}": {"role": "viewer", "password": "a brand new passphrase 9"},
    "/v1/sessions/{session_id}/events": {"events": []},
    "/v1/api-keys/{key_id}/rotate": {},
    "/v1/users/{user_id}:erase": {"sessions": "delete"},
    "/v1/teams/{team_id}": {"retention_days": 1},
}


@pytest.mark.parametrize("caller", ["b_admin", "b_member", "a_viewer"])
def test_every_route_with_alphas_ids_reveals_and_changes_nothing(teams, caller):
    """Each route of the OpenAPI document, called by another team (or a viewer) with alpha's ids."""
    who: Who = getattr(teams, caller)
    c = teams.c
    spec = c.get("/openapi.json").json()
    before_user = teams.srv.accounts.get_user(teams.a_member.user.id)
    before_session = c.get(f"/v1/sessions/{teams.a_session}", headers=teams.a_member.h).json()
    checked = 0
    for path, ops in spec["paths"].items():
        if "{" not in path or path.endswith("/stream"):
            continue
        for method in ops:
            url = _fill(path, teams)
            body = BODIES.get(path)
            r = c.request(method.upper(), url, headers=who.h, json=body)
            checked += 1
            same_team = caller == "a_viewer"
            if same_team:
                # a viewer of alpha may read alpha's sessions but change nothing, nor see accounts
                reads = method == "get" or path.endswith("/export")
                if reads and path.startswith(("/v1/sessions", "/v1/events")):
                    assert r.status_code == 200, (method, path, r.text)
                else:
                    assert r.status_code in (403, 404), (method, path, r.status_code, r.text)
            elif path == "/v1/sessions/{session_id}/events" and method == "post":
                # an empty batch is accepted as for any session: nothing stored, nothing learnt
                assert r.json() == {"inserted": 0, "duplicates": 0, "errors": []}, r.text
            else:
                assert r.status_code in (403, 404), (method, path, r.status_code, r.text)
                assert "alpha" not in r.text.lower(), (method, path, r.text)
    assert checked >= 10
    assert teams.srv.accounts.get_user(teams.a_member.user.id) == before_user
    after = c.get(f"/v1/sessions/{teams.a_session}", headers=teams.a_member.h).json()
    assert after == before_session
    assert c.get("/v1/sessions", headers=teams.a_member.h).status_code == 200
