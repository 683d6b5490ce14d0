"""Revoking a key and removing a member ask first, on a page of their own that works without script."""

from __future__ import annotations

import re

import pytest

from agentlog.server.testing import TestServer
from agentlog.storage.accounts import Role
from tests.server.web.test_web_pages import PASSWORD, XSS, _csrf, sign_in
from tests.support.server import Who, add_user


@pytest.fixture
def team(srv: TestServer) -> dict[str, Who]:
    return {
        "boss": add_user(srv, "boss@example.com", Role.ADMIN, "main", PASSWORD),
        "alice": add_user(srv, "alice@example.com", Role.MEMBER, "main", PASSWORD),
        "eve": add_user(srv, "eve@example.com", Role.ADMIN, "other", PASSWORD),
    }


def _confirm_form(html: str, action: str) -> str:
    form = html.split(f'method="post" action="{action}"')[1].split("</form>")[0]
    assert 'name="confirm" value="yes"' in form and 'name="csrf"' in form
    assert '<a href="' in form  # Cancel
    return form


def test_revoking_a_key_asks_first_and_only_the_confirmed_post_revokes(srv, team):
    browser = sign_in(srv, "alice@example.com")
    made = browser.post("/keys", data={"csrf": _csrf(browser.get("/keys").text), "label": XSS})
    secret = re.search(r'<pre class="secret-value">([^<]+)</pre>', made.text).group(1)
    api = {"Authorization": f"Bearer {secret}"}
    keys = browser.get("/keys").text
    key_id = re.search(r'<form method="get" action="/keys/([0-9a-f-]+)/revoke">', keys).group(1)
    assert f'method="post" action="/keys/{key_id}/revoke"' not in keys  # no one-click revoke
    ask = browser.get(f"/keys/{key_id}/revoke")
    assert ask.status_code == 200 and "<h1>Revoke API key</h1>" in ask.text
    assert "&lt;script&gt;" in ask.text and "<script>alert" not in ask.text  # the label
    _confirm_form(ask.text, f"/keys/{key_id}/revoke")
    assert srv.client.get("/v1/auth/me", headers=api).status_code == 200  # asking changed nothing
    # A post without the confirmation (an old page's form) asks instead of acting.
    token = _csrf(ask.text)
    again = browser.post(f"/keys/{key_id}/revoke", data={"csrf": token})
    assert again.status_code == 200 and "<h1>Revoke API key</h1>" in again.text
    assert srv.client.get("/v1/auth/me", headers=api).status_code == 200
    # Confirmed without the form's token: refused.
    forged = browser.post(f"/keys/{key_id}/revoke", data={"confirm": "yes"})
    assert forged.status_code == 403
    done = browser.post(
        f"/keys/{key_id}/revoke", data={"csrf": token, "confirm": "yes"}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == "/keys"
    assert srv.client.get("/v1/auth/me", headers=api).status_code == 401
    # A revoked key's confirmation page leads back to the list; another team's is not found.
    assert browser.get(f"/keys/{key_id}/revoke", follow_redirects=False).status_code == 303
    eve = sign_in(srv, "eve@example.com")
    assert eve.get(f"/keys/{key_id}/revoke").status_code == 404


def test_removing_a_member_asks_first_and_only_the_confirmed_post_removes(srv, team):
    boss = sign_in(srv, "boss@example.com")
    alice = team["alice"].user.id
    members = boss.get("/team").text
    assert f'<form class="inline" method="get" action="/team/{alice}/remove">' in members
    assert f'method="post" action="/team/{alice}/remove"' not in members
    ask = boss.get(f"/team/{alice}/remove")
    assert ask.status_code == 200 and "Remove alice@example.com from main?" in ask.text
    _confirm_form(ask.text, f"/team/{alice}/remove")
    assert not srv.accounts.get_user(alice).disabled
    token = _csrf(ask.text)
    again = boss.post(f"/team/{alice}/remove", data={"csrf": token})
    assert again.status_code == 200 and "<h1>Remove member</h1>" in again.text
    assert not srv.accounts.get_user(alice).disabled
    assert boss.post(f"/team/{alice}/remove", data={"confirm": "yes"}).status_code == 403
    assert not srv.accounts.get_user(alice).disabled
    done = boss.post(
        f"/team/{alice}/remove", data={"csrf": token, "confirm": "yes"}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == "/team"
    assert srv.accounts.get_user(alice).disabled
    # Restore needs no confirmation: it takes nothing away.
    assert boss.post(f"/team/{alice}/restore", data={"csrf": token}).status_code == 200
    assert not srv.accounts.get_user(alice).disabled


def test_the_remove_confirmation_keeps_the_fences(srv, team):
    alice = team["alice"].user.id
    owner = srv.accounts.user_by_email("admin@example.com").id
    boss = sign_in(srv, "boss@example.com")
    refused = boss.get(f"/team/{owner}/remove")
    assert refused.status_code == 403 and "only the server owner changes an owner" in refused.text
    mine = boss.get(f"/team/{team['boss'].user.id}/remove")
    assert mine.status_code == 403 and "you:" in mine.text
    assert boss.get("/team/not-an-id/remove").status_code == 404
    assert sign_in(srv, "eve@example.com").get(f"/team/{alice}/remove").status_code == 404
    member = sign_in(srv, "alice@example.com").get(f"/team/{alice}/remove")
    assert member.status_code == 403 and "only team admins" in member.text
