"""The web view's compare page takes what people paste: a prefix, `latest`, spaces around an id."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentlog.storage.accounts import Role
from tests.server.web.test_web_pages import PASSWORD, sign_in
from tests.support.server import add_user

if TYPE_CHECKING:
    from agentlog.server.testing import TestServer


def _session(srv: TestServer, key: str, title: str) -> str:
    from agentlog.model import Event, Session

    s = Session(title=title)
    body = {
        "sessions": [s.to_json_dict()],
        "events": [Event(session_id=s.id, type="LOG", content=title).to_json_dict()],
    }
    r = srv.client.post("/v1/events:batch", json=body, headers={"Authorization": f"Bearer {key}"})
    assert r.is_success, r.text
    return s.id


def test_compare_takes_a_prefix_and_spaces(srv: TestServer) -> None:
    """Only the exact full id worked: a prefix, or an id pasted with spaces, was 'Not found'."""
    alice = add_user(srv, "alice@example.com", Role.MEMBER, "main", PASSWORD)
    a = _session(srv, alice.key, "first run")
    b = _session(srv, alice.key, "second run")
    browser = sign_in(srv, "alice@example.com")
    r = browser.get("/compare", params={"a": f"  {a} ", "b": b[:13]})
    assert r.status_code == 200, r.text
    assert "first run" in r.text and "second run" in r.text
    missing = browser.get("/compare", params={"a": "ffff", "b": b})
    assert missing.status_code == 404 and "no such session" in missing.text
    nonsense = browser.get("/compare", params={"a": "not an id", "b": b})
    assert nonsense.status_code == 404 and "is not a session id" in nonsense.text
