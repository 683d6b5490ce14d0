"""The web view's smaller promises in a real headless Chromium: a session's facts, times, confirmations."""

from __future__ import annotations

import httpx
import pytest

from agentlog.model import Event, Session
from tests.server.web import test_web_browser as base
from tests.server.web.test_web_browser import XSS, Served, _fits, _sign_in

# The real server with the demo data and the browser, shared with the main browser tests.
idp, served, browser = base.idp, base.served, base.browser


def _post(served: Served, *sessions: Session) -> None:
    r = httpx.post(
        f"{served.url}/v1/events:batch",
        json={
            "sessions": [s.to_json_dict() for s in sessions],
            "events": [
                Event(session_id=s.id, type="LOG", content="x").to_json_dict() for s in sessions
            ],
        },
        headers={"Authorization": f"Bearer {served.key}"},
    )
    assert r.status_code == 200, r.text


@pytest.mark.slow
def test_a_sessions_facts_wrap_on_a_phone_and_open_in_full(served, browser):
    long = "https://example.com/" + "x" * 600
    s = Session(
        title="graph run",
        tags=["prod", XSS],
        metadata={"thread_id": "thread-42", "source": long, "k" * 200: 1, XSS: XSS},
    )
    _post(served, s)
    dialogs: list[str] = []
    for width, height in ((390, 844), (1280, 800)):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        _sign_in(page, served.url, "alice@example.com")
        page.goto(f"{served.url}/s/{s.id}")
        facts = page.locator("dl.facts").first.inner_text()
        assert s.id in facts and "UTC" in facts and XSS in facts  # the tag, as text
        metadata = page.locator("dl.facts.metadata")
        assert "thread-42" in metadata.inner_text() and XSS in metadata.inner_text()
        # Above the timeline.
        top = metadata.bounding_box()
        assert top is not None
        assert top["y"] < page.locator("ol.timeline").bounding_box()["y"]
        _fits(page, width)
        entry = metadata.locator("div", has_text="source")
        full = entry.locator("details pre")
        assert not full.is_visible()
        entry.locator("summary").click()
        assert full.is_visible() and full.inner_text() == long
        _fits(page, width)
        context.close()
    assert dialogs == []
