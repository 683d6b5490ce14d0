"""Web filters that take a fixed set of values: an unknown one is a 400 naming the valid ones, on a usable page."""

from __future__ import annotations

import pytest

from agentlog.model import Event, Session
from agentlog.server.testing import TestServer
from agentlog.storage.accounts import Role
from tests.server.web.test_web_pages import PASSWORD, XSS, sign_in
from tests.support.server import Who, add_user


@pytest.fixture
def alice(srv: TestServer) -> Who:
    return add_user(srv, "alice@example.com", Role.MEMBER, "main", PASSWORD)


def _recorded(srv: TestServer, who: Who) -> Session:
    s = Session(title="one run")
    body = {
        "sessions": [s.to_json_dict()],
        "events": [Event(session_id=s.id, type="LOG", content="hi").to_json_dict()],
    }
    assert srv.client.post("/v1/events:batch", json=body, headers=who.h).status_code == 200
    return s


def test_an_unknown_status_names_the_valid_ones_and_keeps_the_form(srv, alice):
    _recorded(srv, alice)
    browser = sign_in(srv, "alice@example.com")
    r = browser.get("/sessions", params={"status": "bogus"})
    assert r.status_code == 400
    assert "SessionStatus" not in r.text
    assert "unknown status &#39;bogus&#39;; use one of active, completed, failed" in r.text
    assert '<form class="filters" method="get" action="/sessions">' in r.text
    assert "one run" not in r.text and "No sessions match" not in r.text
    hostile = browser.get("/sessions", params={"status": XSS})
    assert hostile.status_code == 400 and "<script>alert" not in hostile.text
    assert "one run" in browser.get("/sessions", params={"status": "active"}).text


def test_an_unknown_event_type_names_the_valid_ones(srv, alice):
    s = _recorded(srv, alice)
    browser = sign_in(srv, "alice@example.com")
    r = browser.get(f"/s/{s.id}", params={"type": ["LOG", "bogus"]})
    assert r.status_code == 400
    assert "unknown event type &#39;bogus&#39;; use one of USER_INPUT, AGENT_OUTPUT" in r.text
    assert "<h1>one run</h1>" in r.text and '<fieldset class="types">' in r.text
    assert browser.get(f"/s/{s.id}", params={"type": "LOG"}).status_code == 200


def test_an_unknown_usage_period_names_the_valid_ones(srv, alice):
    browser = sign_in(srv, "alice@example.com")
    r = browser.get("/usage", params={"days": "junk"})
    assert r.status_code == 400 and "use one of 7, 30, 90" in r.text
    assert r.text.count("<rect ") == 3 * 30  # the page still shows the default period
    assert browser.get("/usage", params={"days": "7"}).status_code == 200
