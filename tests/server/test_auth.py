"""Every way in and every way refused: API keys, JWTs, roles and dev mode."""

from __future__ import annotations

import time

import jwt
import pytest
from starlette.testclient import TestClient

from agentlog.server.app import create_app, shutdown
from agentlog.server.settings import ServerSettings
from agentlog.storage.accounts import Role
from tests.support.server import add_user, make_session


def _err(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    body = r.json()["error"]
    assert body["code"] == code and body["message"]
    return body


def test_no_credentials_is_401_with_a_hint(world):
    r = world.client.get("/v1/sessions")
    body = _err(r, 401, "unauthorized")
    assert "Authorization: Bearer" in body["message"]
    assert r.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer al_00000000_notarealkeynotarealkeynotarealkey",
        "Bearer al_garbage",
        "Basic dXNlcjpwYXNz",
        "Bearer ",
        "Bearer eyJhbGciOiJIUzI1NiJ9.e30.forged",
    ],
)
def test_bad_credentials_are_401(world, header):
    _err(world.client.get("/v1/sessions", headers={"Authorization": header}), 401, "unauthorized")


@pytest.mark.parametrize("key", ["al_bad_key", "al_garbage", "al_1234567_short"])
def test_a_malformed_api_key_is_called_an_api_key(world, key):
    """It was answered 'the token is malformed; log in again', which is a sign-in's advice."""
    r = world.client.get("/v1/sessions", headers={"Authorization": f"Bearer {key}"})
    _err(r, 401, "unauthorized")
    assert r.json()["error"]["message"] == "the API key is not valid; check it or create a new one"


def test_key_works_and_records_last_use(world):
    assert world.client.get("/v1/sessions", headers=world.member.h).status_code == 200
    keys = world.srv.accounts.list_keys(user_id=world.member.user.id)
    assert keys[0].last_used_at is not None


def test_revoked_key_is_401_at_once(world):
    key = world.srv.accounts.list_keys(user_id=world.member.user.id)[0]
    assert world.client.get("/v1/sessions", headers=world.member.h).status_code == 200
    r = world.client.delete(f"/v1/api-keys/{key.id}", headers=world.member.h)
    assert r.status_code == 200 and r.json()["revoked_at"]
    body = _err(world.client.get("/v1/sessions", headers=world.member.h), 401, "unauthorized")
    assert "revoked" in body["message"]


def test_rotate_returns_new_secret_and_revokes_old(world):
    key = world.srv.accounts.list_keys(user_id=world.member.user.id)[0]
    r = world.client.post(f"/v1/api-keys/{key.id}/rotate", headers=world.member.h, json={})
    assert r.status_code == 200
    new = r.json()
    assert new["secret"].startswith(new["prefix"] + "_") and new["label"] == key.label
    _err(world.client.get("/v1/sessions", headers=world.member.h), 401, "unauthorized")
    ok = world.client.get("/v1/sessions", headers={"Authorization": f"Bearer {new['secret']}"})
    assert ok.status_code == 200


def test_rotate_with_grace_keeps_old_key_working(world):
    key = world.srv.accounts.list_keys(user_id=world.member.user.id)[0]
    r = world.client.post(
        f"/v1/api-keys/{key.id}/rotate", headers=world.member.h, json={"grace_seconds": 3600}
    )
    assert r.status_code == 200
    world.srv.app.state.agentlog.auth.forget()
    assert world.client.get("/v1/sessions", headers=world.member.h).status_code == 200


def test_only_hash_and_prefix_are_stored(world):
    import sqlite3

    db = world.srv.app.state.agentlog.settings.db
    rows = sqlite3.connect(db).execute("SELECT prefix, key_hash FROM api_keys").fetchall()
    from pathlib import Path

    dump = b"".join(p.read_bytes() for p in Path(db).parent.glob("server.db*")).decode("latin-1")
    assert world.member.key not in dump
    assert all(world.member.key != h and len(h) == 64 for _, h in rows)
    listed = world.client.get("/v1/api-keys", headers=world.member.h).json()
    assert listed and all("secret" not in k and k["prefix"].startswith("al_") for k in listed)


def test_disabled_user_is_locked_out(world):
    r = world.client.patch(
        f"/v1/users/{world.member.user.id}", json={"disabled": True}, headers=world.admin.h
    )
    assert r.status_code == 200 and r.json()["disabled"] is True
    _err(world.client.get("/v1/sessions", headers=world.member.h), 401, "unauthorized")


# ------------------------------------------------------------------ JWT
def _login(world, email="pat@example.com", password="correct horse 1"):
    add_user(world.srv, email, Role.MEMBER, "main", password=password)
    r = world.client.post("/v1/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    return r.json()


def test_login_refresh_and_me(world):
    tokens = _login(world)
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 900
    assert jwt.get_unverified_header(tokens["access_token"])["kid"]
    me = world.client.get(
        "/v1/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert (
        me.status_code == 200
        and me.json()["email"] == "pat@example.com"
        and me.json()["via"] == "jwt"
    )
    r = world.client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 200 and r.json()["access_token"]


def test_wrong_password_and_unknown_email_answer_alike(world):
    _login(world)
    a = world.client.post(
        "/v1/auth/login", json={"email": "pat@example.com", "password": "wrong password"}
    )
    b = world.client.post(
        "/v1/auth/login", json={"email": "nobody@example.com", "password": "wrong password"}
    )
    assert _err(a, 401, "unauthorized")["message"] == _err(b, 401, "unauthorized")["message"]


def test_refresh_token_is_not_an_access_token(world):
    tokens = _login(world)
    r = world.client.get(
        "/v1/sessions", headers={"Authorization": f"Bearer {tokens['refresh_token']}"}
    )
    assert "access" in _err(r, 401, "unauthorized")["message"]
    r = world.client.post("/v1/auth/refresh", json={"refresh_token": tokens["access_token"]})
    _err(r, 401, "unauthorized")


def test_expired_and_forged_tokens_are_401(world):
    ring = world.srv.app.state.agentlog.keyring
    user = world.member.user
    expired = ring.issue({"sub": user.id, "typ": "access"}, -10)
    assert (
        "expired"
        in _err(
            world.client.get("/v1/sessions", headers={"Authorization": f"Bearer {expired}"}),
            401,
            "unauthorized",
        )["message"]
    )
    forged = jwt.encode(
        {"sub": user.id, "typ": "access", "iat": int(time.time()), "exp": int(time.time()) + 60},
        "not the signing key of this server at all",
        algorithm="HS256",
        headers={"kid": ring.signing_key.kid},
    )
    _err(
        world.client.get("/v1/sessions", headers={"Authorization": f"Bearer {forged}"}),
        401,
        "unauthorized",
    )
    none_alg = jwt.encode(
        {"sub": user.id, "typ": "access"},
        None,
        algorithm="none",
        headers={"kid": ring.signing_key.kid},
    )
    _err(
        world.client.get("/v1/sessions", headers={"Authorization": f"Bearer {none_alg}"}),
        401,
        "unauthorized",
    )


def test_signing_key_rotation_keeps_old_tokens_valid(world):
    tokens = _login(world)
    ring = world.srv.app.state.agentlog.keyring
    old_kid = ring.signing_key.kid
    new_kid = ring.rotate()
    assert new_kid != old_kid and ring.signing_key.kid == new_kid
    world.srv.app.state.agentlog.auth.forget()
    r = world.client.get(
        "/v1/sessions", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert r.status_code == 200
    fresh = world.client.post(
        "/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    ).json()
    assert jwt.get_unverified_header(fresh["access_token"])["kid"] == new_kid


def test_signing_keys_file_is_private_and_survives_restart(world, tmp_path):
    from agentlog.server.tokens import KeyRing

    ring = world.srv.app.state.agentlog.keyring
    assert ring.path.stat().st_mode & 0o777 == 0o600
    again = KeyRing(ring.path.parent)
    assert again.signing_key == ring.signing_key


def test_login_is_rate_limited_per_address(tmp_path):
    from agentlog.server.testing import start_test_server

    srv = start_test_server(tmp_path / "rl", login_limit_per_minute=3)
    try:
        answers = [
            srv.client.post(
                "/v1/auth/login", json={"email": "x@example.com", "password": "nope nope"}
            )
            for _ in range(4)
        ]
        assert [a.status_code for a in answers] == [401, 401, 401, 429]
        assert int(answers[-1].headers["retry-after"]) >= 1
    finally:
        srv.close()


# ------------------------------------------------------------------ roles
def test_viewer_reads_but_cannot_write_or_delete(world):
    sid = make_session(world, world.member)
    assert world.client.get(f"/v1/sessions/{sid}", headers=world.viewer.h).status_code == 200
    _err(
        world.client.post("/v1/events:batch", json={"events": []}, headers=world.viewer.h),
        403,
        "forbidden",
    )
    _err(
        world.client.put(f"/v1/sessions/{sid}", json={"title": "x"}, headers=world.viewer.h),
        403,
        "forbidden",
    )
    _err(world.client.delete(f"/v1/sessions/{sid}", headers=world.viewer.h), 403, "forbidden")
    _err(
        world.client.post("/v1/sessions", json={"title": "x"}, headers=world.viewer.h),
        403,
        "forbidden",
    )


@pytest.mark.parametrize(
    "method,path,body",
    [
        ("get", "/v1/users", None),
        ("post", "/v1/users", {"email": "new@example.com"}),
        ("post", "/v1/teams", {"name": "rogue"}),
        ("get", "/v1/audit", None),
        ("get", "/metrics", None),
        ("post", "/v1/sessions:prune", {"before": "2020-01-01T00:00:00Z"}),
    ],
)
def test_member_cannot_do_admin_things(world, method, path, body):
    kwargs = {"json": body} if body is not None else {}
    _err(getattr(world.client, method)(path, headers=world.member.h, **kwargs), 403, "forbidden")


def test_admin_manages_users_and_teams(world):
    c, h = world.client, world.admin.h
    assert c.post("/v1/teams", json={"name": "research"}, headers=h).status_code == 201
    _err(c.post("/v1/teams", json={"name": "research"}, headers=h), 409, "conflict")
    r = c.post(
        "/v1/users",
        json={"email": "new@example.com", "role": "viewer", "team": "research"},
        headers=h,
    )
    assert r.status_code == 201 and r.json()["generated_password"]
    uid = r.json()["id"]
    assert (
        c.patch(f"/v1/users/{uid}", json={"role": "member"}, headers=h).json()["role"] == "member"
    )
    assert {u["email"] for u in c.get("/v1/users?team=research", headers=h).json()} == {
        "new@example.com"
    }
    _err(
        c.patch(f"/v1/users/{world.admin.user.id}", json={"disabled": True}, headers=h),
        400,
        "usage_error",
    )
    _err(
        c.post("/v1/users", json={"email": "bad", "role": "boss"}, headers=h), 422, "invalid_input"
    )
    actions = [e["action"] for e in c.get("/v1/audit", headers=h).json()]
    assert {"team.create", "user.create", "user.update"} <= set(actions)


def test_role_change_applies_without_new_credentials(world):
    sid = make_session(world, world.member)
    world.client.patch(
        f"/v1/users/{world.member.user.id}", json={"role": "viewer"}, headers=world.admin.h
    )
    _err(world.client.delete(f"/v1/sessions/{sid}", headers=world.member.h), 403, "forbidden")


def test_dev_mode_lets_loopback_in_without_credentials(tmp_path):
    app = create_app(ServerSettings(db=str(tmp_path / "dev.db"), data_dir=tmp_path, dev=True))
    try:
        local = TestClient(app, client=("127.0.0.1", 5000))
        remote = TestClient(app, client=("203.0.113.9", 5000))
        me = local.get("/v1/auth/me")
        assert me.status_code == 200 and me.json()["via"] == "dev"
        assert remote.get("/v1/auth/me").status_code == 401
    finally:
        shutdown(app)


def test_no_dev_mode_means_loopback_needs_credentials(srv):
    local = TestClient(srv.app, client=("127.0.0.1", 5000))
    assert local.get("/v1/sessions").status_code == 401


def test_configured_jwt_secret_signs_and_file_keys_still_verify(tmp_path):
    from agentlog.server.testing import start_test_server

    first = start_test_server(tmp_path / "a")
    try:
        add_user(first, "pat@example.com", Role.MEMBER, "main", password="correct horse 1")
        old = first.client.post(
            "/v1/auth/login", json={"email": "pat@example.com", "password": "correct horse 1"}
        ).json()
        data_dir = first.app.state.agentlog.settings.data_dir
        db = first.app.state.agentlog.settings.db
    finally:
        first.close()
    app = create_app(ServerSettings(db=db, data_dir=data_dir, jwt_secret="s" * 48))
    try:
        c = TestClient(app)
        fresh = c.post(
            "/v1/auth/login", json={"email": "pat@example.com", "password": "correct horse 1"}
        ).json()
        assert jwt.get_unverified_header(fresh["access_token"])["kid"].startswith("cfg-")
        for token in (old["access_token"], fresh["access_token"]):
            assert (
                c.get("/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code
                == 200
            )
        actions = [e.action for e in app.state.agentlog.accounts.list_audit()]
        assert actions.count("auth.login") == 2
    finally:
        shutdown(app)
