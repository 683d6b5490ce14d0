"""Every API route, generated from /openapi.json, tried with another team's credentials and a
viewer's against one team's ids: nothing of that team is returned, changed or removed.

A route the sweep cannot parameterise (a new path parameter, a write route with no probe
body below) fails the test, so the sweep stays exhaustive as the API grows.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from agentlog.storage.accounts import Role
from tests.support.server import Who, World, add_user, make_session

MARKER = "victim-secret-7f3a"  # in the victim's events: no answer to an attacker may hold it
TITLE = "victim title 9c1e"
SKIPPED = {
    ("get", "/v1/events/stream")
}  # an open SSE stream; cross-team: tests/server/test_stream.py
# Routes that create rows under ids the caller names: ids are per team, so an attacker may make
# its own session with the victim's id. They run last, after every read of the victim's ids.
CREATING = {
    ("post", "/v1/sessions"),
    ("post", "/v1/sessions/{session_id}/events"),
    ("post", "/v1/events:batch"),
    ("post", "/v1/traces"),
}


def probe_bodies(v: dict[str, str]) -> dict[tuple[str, str], Any]:
    """A plausible body for each write route, aimed at the victim's team where it can be."""
    return {
        ("post", "/v1/auth/login"): {"email": v["email"], "password": "not the password"},
        ("post", "/v1/auth/refresh"): {"refresh_token": "not-a-token"},
        ("post", "/v1/auth/logout"): {"everywhere": True},
        ("post", "/v1/sessions"): {"id": v["session_id"], "title": "taken over"},
        ("put", "/v1/sessions/{session_id}"): {"title": "taken over", "status": "failed"},
        ("post", "/v1/sessions:prune"): {"before": "2999-01-01T00:00:00Z"},
        ("post", "/v1/sessions:trees"): {"ids": [v["session_id"]]},
        ("post", "/v1/sessions/{session_id}/events"): {
            "events": [{"type": "LOG", "content": "injected"}]
        },
        ("post", "/v1/sessions/{session_id}/export"): {},
        ("post", "/v1/events:batch"): {
            "events": [{"session_id": v["session_id"], "type": "LOG", "content": "injected"}]
        },
        ("post", "/v1/api-keys"): {"label": "stolen", "user_id": v["user_id"]},
        ("post", "/v1/api-keys/{key_id}/rotate"): {},
        ("post", "/v1/users"): {
            "email": "intruder@example.com",
            "password": "a long passphrase of my own 42",
            "role": "admin",
            "team": "main",
        },
        ("patch", "/v1/users/{user_id}"): {"role": "viewer", "disabled": True},
        ("post", "/v1/teams"): {"name": "main"},
        ("post", "/v1/traces"): {"resourceSpans": []},
        ("post", "/v1/users/{user_id}:erase"): {"sessions": "delete"},
        ("patch", "/v1/teams/{team_id}"): {"retention_days": 1},
        ("post", "/v1/retention:apply"): {},
    }


def _items(doc: Any) -> list[dict[str, Any]]:
    return doc["items"] if isinstance(doc, dict) else doc


def victim_state(world: World, victim: Who, session_id: str) -> dict[str, Any]:
    """What must not change: the session, its events, the team's users and the victim's key."""
    c, h = world.client, world.admin.h
    session = c.get(f"/v1/sessions/{session_id}", headers=h).json()
    users = sorted(
        (u["id"], u["email"], u["role"], u.get("disabled"))
        for u in _items(c.get("/v1/users", headers=h).json())
        if u.get("team_id") == victim.user.team_id
    )
    teams = c.get("/v1/teams", headers=h).json()
    assert any(t["id"] == victim.user.team_id for t in teams)  # the owner sees every team
    return {
        "session": (session["title"], session["status"], session["event_count"]),
        "users": users,
        "key_works": c.get("/v1/auth/me", headers=victim.h).status_code == 200,
        "retention": [t.get("retention_days") for t in teams if t["id"] == victim.user.team_id],
    }


def sweep(world: World, attacker: Who, v: dict[str, str]) -> list[str]:
    """Call every route as `attacker`; the problems found (leaks, cross-team successes)."""
    spec = world.srv.app.openapi()
    bodies = probe_bodies(v)
    problems: list[str] = []
    done: set[tuple[str, str]] = set()
    routes = [(m, p, op) for p, ops in spec["paths"].items() for m, op in ops.items()]
    routes.sort(key=lambda r: (r[0], r[1]) in CREATING)
    for method, path, op in routes:
        if (method, path) in SKIPPED:
            continue
        if True:
            url = path
            for name in re.findall(r"{(\w+)}", path):
                if name not in v:
                    problems.append(f"{method.upper()} {path}: no victim value for {{{name}}}")
                    continue
                url = url.replace("{" + name + "}", v[name])
            query = {
                p["name"]: v[p["name"]]
                for p in op.get("parameters", [])
                if p["in"] == "query" and p["name"] in v
            }
            kwargs: dict[str, Any] = {"headers": attacker.h, "params": query}
            if method in ("post", "put", "patch"):
                if (method, path) not in bodies:
                    problems.append(f"{method.upper()} {path}: no probe body in the sweep")
                    continue
                kwargs["json"] = bodies[(method, path)]
            r = world.client.request(method.upper(), url, **kwargs)
            done.add((method, path))
            if r.status_code >= 500:
                problems.append(f"{method.upper()} {path}: {r.status_code}")
            for secret in (MARKER, TITLE, v["key_label"]):
                if secret in r.text:
                    problems.append(f"{method.upper()} {path}: answered with {secret!r}")
            created = any(route in CREATING for route in done)
            if "{" in path and 200 <= r.status_code < 300 and not created:
                problems.append(f"{method.upper()} {path}: {r.status_code} on another team's id")
    return problems


@pytest.fixture
def victim(world: World) -> tuple[Who, dict[str, str]]:
    member = world.member
    session_id = make_session(world, member, TITLE, events=3)
    from agentlog.model import Event

    secret = Event(session_id=session_id, type="LOG", content=MARKER, metadata={"m": MARKER})
    body = {"events": [secret.to_json_dict()]}
    assert world.client.post("/v1/events:batch", json=body, headers=member.h).status_code == 200
    key = world.client.post(
        "/v1/api-keys", json={"label": "victim-key-label-51d2"}, headers=member.h
    ).json()
    values = {
        "session_id": session_id,
        "parent_session_id": session_id,
        "replay_of": session_id,
        "event_id": secret.id,
        "key_id": key["id"],
        "user_id": member.user.id,
        "team_id": member.user.team_id,
        "email": member.user.email,
        "key_label": "victim-key-label-51d2",
    }
    return member, values


@pytest.mark.parametrize("who", ["other_member", "other_admin", "viewer"])
def test_nothing_crosses_from_any_route(world: World, victim, who: str) -> None:
    member, values = victim
    attacker = {
        "other_member": lambda: world.other,
        "other_admin": lambda: add_user(world.srv, "oadmin@example.com", Role.ADMIN, "other"),
        "viewer": lambda: world.viewer,  # same team: may read, must not change anything
    }[who]()
    before = victim_state(world, member, values["session_id"])
    problems = sweep(world, attacker, values)
    if who == "viewer":  # a viewer of the victim's own team reads it: only writes must fail
        problems = [
            p
            for p in problems
            if not p.startswith(("GET", "POST /v1/sessions/{session_id}/export"))
        ]
        problems = [p for p in problems if "answered with" not in p]
    assert problems == [], "\n".join(problems)
    assert victim_state(world, member, values["session_id"]) == before
