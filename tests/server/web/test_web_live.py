"""The web view's live follow (`/s/{id}/live`) over a real uvicorn: it ends when its person signs out."""

from __future__ import annotations

import queue
import threading
import time
from typing import TYPE_CHECKING

import httpx

from agentlog.model import Event, Session
from agentlog.server.recheck import RECHECK_SECONDS
from agentlog.server.testing import LiveServer
from agentlog.storage.accounts import Role
from agentlog.wire import WEB_COOKIE
from tests.server.web.test_web_pages import PASSWORD, _csrf, sign_in
from tests.support.server import add_user

if TYPE_CHECKING:
    from agentlog.server.testing import TestServer


def _follow(url: str, cookie: str, out: queue.Queue) -> None:
    try:
        with (
            httpx.Client(timeout=httpx.Timeout(20, read=20), cookies={WEB_COOKIE: cookie}) as c,
            c.stream("GET", url) as r,
        ):
            out.put(("status", r.status_code))
            for line in r.iter_lines():
                out.put(("line", line))
    except httpx.HTTPError:
        pass
    out.put(("closed", None))


def test_signing_out_ends_an_open_live_page(srv: TestServer) -> None:
    """The stream checked the cookie once: a tab left open after signing out (or after the
    person was removed from the team) kept receiving every new event of the session."""
    alice = add_user(srv, "alice@example.com", Role.MEMBER, "main", PASSWORD)
    session = Session(title="followed")
    headers = {"Authorization": f"Bearer {alice.key}"}
    assert srv.client.post("/v1/sessions", json=session.to_json_dict(), headers=headers).is_success
    browser = sign_in(srv, "alice@example.com")
    with LiveServer(srv.app) as live:
        out: queue.Queue = queue.Queue()
        url = f"{live.url}/s/{session.id}/live"
        threading.Thread(
            target=_follow, args=(url, browser.cookies[WEB_COOKIE], out), daemon=True
        ).start()
        assert out.get(timeout=10) == ("status", 200)

        def send(text: str) -> None:
            event = Event(session_id=session.id, type="LOG", content=text)
            r = srv.client.post(
                f"/v1/sessions/{session.id}/events", json=[event.to_json_dict()], headers=headers
            )
            assert r.is_success, r.text

        send("before sign-out")
        lines: list[str] = []
        deadline = time.monotonic() + 10
        while not any("before sign-out" in line for line in lines) and time.monotonic() < deadline:
            kind, value = out.get(timeout=10)
            if kind == "line":
                lines.append(value)
        assert any("before sign-out" in line for line in lines)

        page = browser.get("/sessions")
        assert browser.post("/logout", data={"csrf": _csrf(page.text)}).status_code < 400
        time.sleep(RECHECK_SECONDS + 0.2)
        send("after sign-out")
        later: list[tuple[str, object]] = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                later.append(out.get(timeout=0.5))
            except queue.Empty:
                continue
            if later[-1][0] == "closed":
                break
        assert not any(kind == "line" and "after sign-out" in str(v) for kind, v in later)
        assert ("closed", None) in later  # the stream ended


def test_the_sign_in_pages_429_says_when_to_retry(srv: TestServer) -> None:
    """docs/security.md: rate-limited answers carry Retry-After; the sign-in page's did not."""
    from starlette.testclient import TestClient

    from agentlog.server.testing import BASE_URL
    from tests.server.web.test_web_pages import _csrf

    add_user(srv, "bob@example.com", Role.MEMBER, "main", PASSWORD)
    browser = TestClient(srv.app, base_url=BASE_URL)
    statuses = []
    for _ in range(8):
        form = browser.get("/login")
        r = browser.post(
            "/login", data={"csrf": _csrf(form.text), "email": "bob@example.com", "password": "no"}
        )
        statuses.append(r.status_code)
        if r.status_code == 429:
            assert int(r.headers["retry-after"]) >= 1
            assert "retry in" in r.text
            break
    assert statuses[-1] == 429, statuses
