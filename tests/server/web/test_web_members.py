"""The Members page offers only the changes that can succeed, and says why for the rest."""

from __future__ import annotations

import re

from agentlog.server.passwords import hash_password
from agentlog.server.testing import TestServer
from agentlog.storage.accounts import Role
from tests.server.web.test_web_pages import PASSWORD, sign_in
from tests.support.server import add_user


def _row(html: str, email: str) -> str:
    return html.split(f"<td>{email}")[1].split("</tr>")[0]


def _forms(row: str) -> list[str]:
    return re.findall(r'<form[^>]*action="(/team/[^"]+)"', row)


def test_an_admin_gets_no_buttons_on_the_owners_row_or_their_own(srv: TestServer):
    boss = add_user(srv, "boss@example.com", Role.ADMIN, "main", PASSWORD)
    add_user(srv, "alice@example.com", Role.MEMBER, "main", PASSWORD)
    html = sign_in(srv, "boss@example.com").get("/team").text
    owner = _row(html, "admin@example.com")
    assert _forms(owner) == [] and "owner: only the server owner changes an owner" in owner
    mine = _row(html, "boss@example.com")
    assert _forms(mine) == [] and "you: another admin changes your role" in mine
    assert ">admin<" in mine.replace("\n", "").replace(" ", "")  # the role, as text
    alice = _row(html, "alice@example.com")
    assert len(_forms(alice)) == 2  # role and remove
    assert boss.user.role is Role.ADMIN


def test_the_owner_may_change_another_owner_but_not_themself(srv: TestServer):
    srv.accounts.update_user(
        srv.accounts.user_by_email("admin@example.com").id,
        password_hash=hash_password(PASSWORD),
    )
    add_user(srv, "second@example.com", Role.OWNER, "main", PASSWORD)
    html = sign_in(srv, "admin@example.com").get("/team").text
    assert len(_forms(_row(html, "second@example.com"))) == 2
    mine = _row(html, "admin@example.com")
    assert _forms(mine) == [] and "you:" in mine
