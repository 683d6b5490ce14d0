"""Common and trivial passwords are refused with the reason; passphrases pass (issue 9, item 12)."""

from __future__ import annotations

import pytest

from agentlog.server.password_policy import common_passwords, weak_reason

WEAK = [
    "password",
    "Password123!",
    "12345678",
    "        ",
    "aaaaaaaa",
    "abababab",
    "qwertyuiop",
    "87654321",
    "abcdefghij",
    "P@ssw0rd",
    "iloveyou",
    "short",
]


@pytest.mark.parametrize("password", WEAK)
def test_weak_passwords_are_refused(password):
    assert weak_reason(password) is not None


@pytest.mark.parametrize(
    "password", ["correct horse 1", "s3cret-password", "tangerine velvet kayak", "Xk9#mQ2$vL"]
)
def test_passphrases_pass(password):
    assert weak_reason(password) is None


def test_the_accounts_email_is_not_a_password():
    assert weak_reason("ana.lopez2024", email="ana.lopez@example.com") is not None
    assert weak_reason("tangerine velvet kayak", email="ana.lopez@example.com") is None


def test_the_list_is_loaded_from_the_package():
    assert "password" in common_passwords() and len(common_passwords()) > 50


@pytest.mark.parametrize("password", ["password", "12345678", "        "])
def test_the_api_refuses_them_on_create_and_change(world, password):
    r = world.client.post(
        "/v1/users", json={"email": "new@example.com", "password": password}, headers=world.admin.h
    )
    assert r.status_code == 422, r.text
    assert "password" in r.json()["error"]["message"]
    r = world.client.patch(
        f"/v1/users/{world.member.user.id}", json={"password": password}, headers=world.admin.h
    )
    assert r.status_code == 422, r.text
