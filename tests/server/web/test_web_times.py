"""Every time on a web page names its zone: UTC, in a <time datetime="…Z"> element."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from agentlog.model import Event, Session
from agentlog.server.testing import TestServer
from agentlog.server.web.render import when
from agentlog.storage.accounts import Role
from tests.server.web.test_web_pages import PASSWORD, _csrf, sign_in
from tests.support.server import add_user

TIME = re.compile(r'<time datetime="(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)">([^<]+)</time>')


def test_when_renders_utc_with_the_zone_named_whatever_zone_it_was_given():
    at = datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=UTC)
    expected = '<time datetime="2026-03-01T12:30:05.123456Z">2026-03-01 12:30:05 UTC</time>'
    assert str(when(at)) == expected
    assert str(when(at.astimezone(timezone(timedelta(hours=-5))))) == expected
    assert str(when(at.replace(tzinfo=None))) == expected  # a stored time without zone is UTC
    assert when(None) == "—"


def test_every_page_with_times_names_the_zone(srv: TestServer):
    boss = add_user(srv, "boss@example.com", Role.ADMIN, "main", PASSWORD)
    s = Session(title="timed")
    at = datetime(2026, 3, 1, 12, 30, 5, tzinfo=UTC)
    body = {
        "sessions": [s.to_json_dict()],
        "events": [
            Event(
                session_id=s.id, type="LOG", content="x", agent_id="a", timestamp=at
            ).to_json_dict()
        ],
    }
    assert srv.client.post("/v1/events:batch", json=body, headers=boss.h).status_code == 200
    browser = sign_in(srv, "boss@example.com")
    browser.post("/keys", data={"csrf": _csrf(browser.get("/keys").text), "label": "ci"})
    for path in ("/sessions", f"/s/{s.id}", "/agents", "/keys", "/team", "/audit"):
        html = browser.get(path).text
        shown = TIME.findall(html)
        assert shown, path
        assert all(text.endswith(" UTC") for _, text in shown), (path, shown)
        bare = re.sub(r"<time [^>]+>[^<]+</time>", "", html)
        assert not re.search(r"\d\d:\d\d:\d\d", bare), path  # no time outside a <time>
    page = browser.get(f"/s/{s.id}").text
    assert '<time datetime="2026-03-01T12:30:05.000000Z">2026-03-01 12:30:05 UTC</time>' in page
    assert "Day (UTC)" in browser.get("/usage").text
