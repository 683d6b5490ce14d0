"""Tokens end: refresh rotation with reuse detection, sign-out, and a password/role change or disabling ends every sign-in (issue 9, item 9)."""

from __future__ import annotations

import pytest

from agentlog.storage.accounts import Role
from tests.support.server import add_user

PASSWORD = "correct horse 1"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def pat(world):
    add_user(world.srv, "pat@example.com", Role.MEMBER, "main", password=PASSWORD)
    return world.srv.accounts.user_by_email("pat@example.com")


def _login(world) -> dict:
    r = world.client.post("/v1/auth/login", json={"email": "pat@example.com", "password": PASSWORD})
    assert r.status_code == 200, r.text
    return r.json()


def _works(world, access: str) -> bool:
    r = world.client.get("/v1/sessions", headers=_bearer(access))
    assert r.status_code in (200, 401), r.text
    return r.status_code == 200


def _refresh(world, refresh: str):
    return world.client.post("/v1/auth/refresh", json={"refresh_token": refresh})


def test_a_refresh_token_works_once_and_rotates(world, pat):
    first = _login(world)
    second = _refresh(world, first["refresh_token"])
    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]
    third = _refresh(world, second.json()["refresh_token"])
    assert third.status_code == 200 and _works(world, third.json()["access_token"])


def test_reusing_a_refresh_token_ends_the_whole_sign_in(world, pat):
    stolen = _login(world)
    rotated = _refresh(world, stolen["refresh_token"]).json()
    reuse = _refresh(world, stolen["refresh_token"])
    assert reuse.status_code == 401 and "already used" in reuse.json()["error"]["message"]
    # both the thief's copy and the user's rotated tokens are now dead
    assert _refresh(world, rotated["refresh_token"]).status_code == 401
    world.srv.app.state.agentlog.auth.forget()
    assert not _works(world, rotated["access_token"])
    # another sign-in of the same user is untouched
    other = _login(world)
    assert _works(world, other["access_token"])


def test_logout_ends_this_sign_in_only(world, pat):
    laptop, phone = _login(world), _login(world)
    r = world.client.post("/v1/auth/logout", headers=_bearer(laptop["access_token"]))
    assert r.status_code == 204
    assert not _works(world, laptop["access_token"])
    assert _refresh(world, laptop["refresh_token"]).status_code == 401
    assert _works(world, phone["access_token"])
    assert _refresh(world, phone["refresh_token"]).status_code == 200


def test_logout_everywhere(world, pat):
    laptop, phone = _login(world), _login(world)
    r = world.client.post(
        "/v1/auth/logout", json={"everywhere": True}, headers=_bearer(laptop["access_token"])
    )
    assert r.status_code == 204
    for tokens in (laptop, phone):
        assert not _works(world, tokens["access_token"])
        assert _refresh(world, tokens["refresh_token"]).status_code == 401
    assert _works(world, _login(world)["access_token"])


@pytest.mark.parametrize(
    "change",
    [
        {"password": "a brand new passphrase 9"},
        {"role": "viewer"},
        {"disabled": True},
        {"team": "other"},
    ],
    ids=["password", "role", "disabled", "team"],
)
def test_an_admin_change_ends_every_token_of_the_user(world, pat, change):
    if "team" in change:
        add_user(world.srv, "o2@example.com", Role.MEMBER, "other")
    tokens = _login(world)
    assert _works(world, tokens["access_token"])
    r = world.client.patch(f"/v1/users/{pat.id}", json=change, headers=world.admin.h)
    assert r.status_code == 200, r.text
    assert not _works(world, tokens["access_token"])
    assert _refresh(world, tokens["refresh_token"]).status_code == 401


def test_the_admin_cli_password_reset_ends_tokens_too(world, pat):
    from agentlog.server.admin_ops import LocalAdmin

    tokens = _login(world)
    admin = LocalAdmin.__new__(LocalAdmin)
    admin.accounts = world.srv.accounts
    admin.update_user(
        "pat@example.com", role=None, team=None, enable=False, password="another long secret 7"
    )
    world.srv.app.state.agentlog.auth.forget()
    assert not _works(world, tokens["access_token"])
    assert _refresh(world, tokens["refresh_token"]).status_code == 401
