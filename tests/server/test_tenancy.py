"""Another team's data is invisible: reads, writes, deletes, exports, searches, streams and keys answer 404."""

from __future__ import annotations

from agentlog.model import Event
from tests.support.server import make_session


def _404(r):
    assert r.status_code == 404, r.text
    assert r.json()["error"]["code"] == "not_found"


def test_other_teams_session_is_404_like_a_missing_one(world):
    sid = make_session(world, world.member, "secret plan")
    c, h = world.client, world.other.h
    missing = "01900000-0000-7000-8000-000000000000"
    for path in (f"/v1/sessions/{sid}", f"/v1/sessions/{sid}/events"):
        foreign = c.get(path, headers=h)
        _404(foreign)
        absent = c.get(path.replace(sid, missing), headers=h)
        _404(absent)
        assert foreign.json()["error"]["message"].replace(sid, "X") == absent.json()["error"][
            "message"
        ].replace(missing, "X")


def test_cross_tenant_event_read(world):
    sid = make_session(world, world.member)
    eid = world.client.get(f"/v1/sessions/{sid}/events", headers=world.member.h).json()["items"][0][
        "id"
    ]
    _404(world.client.get(f"/v1/events/{eid}", headers=world.other.h))
    assert world.client.get("/v1/events", headers=world.other.h).json()["items"] == []


def test_cross_tenant_writes_never_reach_the_other_team(world):
    """Another team's session id is a new session of the writer's own (ids are per team)."""
    sid = make_session(world, world.member, events=1)
    mine = make_session(world, world.other, "theirs", events=0)
    body = {
        "events": [
            Event(session_id=sid, type="LOG", content="injected").to_json_dict(),
            Event(session_id=mine, type="LOG", content="fine").to_json_dict(),
        ]
    }
    r = world.client.post("/v1/events:batch", json=body, headers=world.other.h)
    assert r.status_code == 200 and r.json()["inserted"] == 2
    assert (
        world.client.get(f"/v1/sessions/{sid}", headers=world.member.h).json()["event_count"] == 1
    )
    r = world.client.put(f"/v1/sessions/{sid}", json={"title": "pwned"}, headers=world.other.h)
    assert r.status_code == 200 and r.json()["team_id"] == world.other_team_id
    assert world.client.get(f"/v1/sessions/{sid}", headers=world.member.h).json()["title"] == "run"


def test_session_upsert_cannot_take_over_another_teams_id(world):
    sid = make_session(world, world.member)
    r = world.client.post(
        "/v1/sessions", json={"id": sid, "title": "takeover"}, headers=world.other.h
    )
    assert r.status_code == 201 and r.json()["team_id"] == world.other_team_id, r.text
    assert world.client.get(f"/v1/sessions/{sid}", headers=world.member.h).json()["title"] == "run"


def test_path_events_for_another_teams_session(world):
    sid = make_session(world, world.member, events=1)
    ev = Event(session_id=sid, type="LOG", content="x").to_json_dict()
    r = world.client.post(
        f"/v1/sessions/{sid}/events", json={"events": [ev]}, headers=world.other.h
    )
    assert r.status_code == 200 and r.json()["inserted"] == 1
    assert (
        world.client.get(f"/v1/sessions/{sid}", headers=world.member.h).json()["event_count"] == 1
    )


def test_cross_tenant_delete_and_export(world):
    sid = make_session(world, world.member)
    _404(world.client.delete(f"/v1/sessions/{sid}", headers=world.other.h))
    _404(world.client.post(f"/v1/sessions/{sid}/export", headers=world.other.h))
    assert world.client.get(f"/v1/sessions/{sid}", headers=world.member.h).status_code == 200


def test_cross_tenant_search_and_lists(world):
    make_session(world, world.member, "needle haystack")
    theirs = make_session(world, world.other, "other needle")
    r = world.client.get("/v1/events/search", params={"q": "needle"}, headers=world.other.h)
    assert {e["session_id"] for e in r.json()["items"]} == {theirs}
    assert [
        s["id"] for s in world.client.get("/v1/sessions", headers=world.other.h).json()["items"]
    ] == [theirs]
    assert world.client.get("/v1/sessions:count", headers=world.other.h).json() == {"count": 1}
    assert world.client.get("/v1/info", headers=world.other.h).json()["events"] == 3
    assert world.client.get(
        "/v1/events:count", params={"q": "needle"}, headers=world.member.h
    ).json() == {"count": 3}
    usage = world.client.get("/v1/analytics/usage", headers=world.other.h).json()
    assert usage["totals"]["events"] == 3 and usage["totals"]["sessions"] == 1


def test_cross_tenant_stream_of_a_session_is_404(world):
    sid = make_session(world, world.member)
    _404(world.client.get("/v1/events/stream", params={"session_id": sid}, headers=world.other.h))


def test_key_operations_across_users_and_teams(world):
    c = world.client
    member_key = world.srv.accounts.list_keys(user_id=world.member.user.id)[0]
    # another team's member, and a viewer of the same team, cannot touch it: 404 like a missing key
    for who in (world.other, world.viewer):
        _404(c.post(f"/v1/api-keys/{member_key.id}/rotate", headers=who.h, json={}))
        _404(c.delete(f"/v1/api-keys/{member_key.id}", headers=who.h))
        assert member_key.id not in {k["id"] for k in c.get("/v1/api-keys", headers=who.h).json()}
    # non-admins cannot mint keys for another team or user
    r = c.post("/v1/api-keys", json={"label": "x", "team": "main"}, headers=world.other.h)
    assert r.status_code == 403
    # the admin sees and revokes any key
    assert member_key.id in {k["id"] for k in c.get("/v1/api-keys", headers=world.admin.h).json()}
    assert c.delete(f"/v1/api-keys/{member_key.id}", headers=world.admin.h).status_code == 200
    assert c.get("/v1/sessions", headers=world.member.h).status_code == 401


def test_admin_key_for_another_team_sees_only_that_team(world):
    theirs = make_session(world, world.other)
    r = world.client.post(
        "/v1/api-keys", json={"label": "ops", "team": "other"}, headers=world.admin.h
    )
    assert r.status_code == 201 and r.json()["team_id"] == world.other_team_id
    h = {"Authorization": f"Bearer {r.json()['secret']}"}
    assert [s["id"] for s in world.client.get("/v1/sessions", headers=h).json()["items"]] == [
        theirs
    ]


def test_team_header_is_admin_only(world):
    theirs = make_session(world, world.other)
    hdr = {**world.member.h, "X-AgentLog-Team": world.other_team_id}
    r = world.client.get("/v1/sessions", headers=hdr)
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    admin = {**world.admin.h, "X-AgentLog-Team": "other"}
    assert [s["id"] for s in world.client.get("/v1/sessions", headers=admin).json()["items"]] == [
        theirs
    ]


def test_cross_tenant_tree_totals_answer_nothing(world):
    """POST /v1/sessions:trees sums a team's own sessions: another team's id is not there."""
    sid = make_session(world, world.member, events=3)
    mine = world.client.post("/v1/sessions:trees", json={"ids": [sid]}, headers=world.member.h)
    assert mine.status_code == 200 and mine.json()["trees"][sid]["events"] == 3
    theirs = world.client.post("/v1/sessions:trees", json={"ids": [sid]}, headers=world.other.h)
    assert theirs.status_code == 200 and theirs.json() == {"trees": {}}
