"""The web view in-process: sign-in cookie and CSRF, escaping of hostile content, team isolation."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from agentlog.model import Event, Session
from agentlog.server.testing import BASE_URL, TestServer, start_test_server
from agentlog.server.web.signin import CSRF_COOKIE
from agentlog.storage.accounts import Role
from agentlog.wire import WEB_COOKIE
from tests.support.server import Who, add_user

PASSWORD = "a long passphrase of my own 42"
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def sign_in(srv: TestServer, email: str, password: str = PASSWORD) -> TestClient:
    """A fresh browser-like client signed in through the form."""
    browser = TestClient(srv.app, base_url=BASE_URL)
    form = browser.get("/login")
    r = browser.post(
        "/login",
        data={"csrf": _csrf(form.text), "email": email, "password": password},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return browser


@pytest.fixture
def people(srv: TestServer) -> dict[str, Who]:
    return {
        "alice": add_user(srv, "alice@example.com", Role.MEMBER, "main", PASSWORD),
        "eve": add_user(srv, "eve@example.com", Role.MEMBER, "other", PASSWORD),
    }


def _hostile_session(srv: TestServer, who: Who) -> Session:
    s = Session(title=XSS, description=XSS, tags=[XSS], metadata={XSS: XSS})
    events = [
        Event(
            session_id=s.id,
            type="TOOL_CALL",
            name=XSS,
            agent_id=XSS,
            content=XSS,
            metadata={XSS: XSS},
        ),
        Event(session_id=s.id, type="LOG", content="find the needle here", agent_id="bot"),
    ]
    body = {"sessions": [s.to_json_dict()], "events": [e.to_json_dict() for e in events]}
    r = srv.client.post(
        "/v1/events:batch", json=body, headers={"Authorization": f"Bearer {who.key}"}
    )
    assert r.status_code == 200, r.text
    return s


def test_sign_in_sets_an_httponly_lax_cookie_and_pages_carry_a_strict_csp(srv, people):
    browser = TestClient(srv.app, base_url=BASE_URL)
    assert (
        browser.get("/sessions", follow_redirects=False)
        .headers["location"]
        .startswith("/login?next=%2Fsessions")
    )
    form = browser.get("/login")
    assert "script-src 'self'" in form.headers["content-security-policy"]
    assert "'unsafe-inline'" not in form.headers["content-security-policy"]
    r = browser.post(
        "/login",
        data={"csrf": _csrf(form.text), "email": "alice@example.com", "password": PASSWORD},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/sessions"
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith(WEB_COOKIE + "="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http on loopback
    page = browser.get("/sessions")
    assert page.status_code == 200 and "alice@example.com" in page.text


def test_cookie_is_secure_when_configured(tmp_path: Path):
    srv = start_test_server(tmp_path / "secure", cookie_secure=True)
    try:
        add_user(srv, "alice@example.com", Role.MEMBER, "main", PASSWORD)
        browser = TestClient(srv.app, base_url=BASE_URL)  # plain http: TLS ends at a proxy
        form = browser.get("/login")
        assert "Secure" in form.headers["set-cookie"]
        token = _csrf(form.text)
        r = browser.post(
            "/login",
            data={"csrf": token, "email": "alice@example.com", "password": PASSWORD},
            headers={"Cookie": f"{CSRF_COOKIE}={token}"},
            follow_redirects=False,
        )
        session = next(c for c in r.headers.get_list("set-cookie") if c.startswith(WEB_COOKIE))
        assert "Secure" in session and "HttpOnly" in session
    finally:
        srv.close()


def test_cookie_is_secure_over_https_by_default(srv, people):
    browser = TestClient(srv.app, base_url="https://testserver")
    assert "Secure" in browser.get("/login").headers["set-cookie"]


def test_forms_without_the_csrf_token_are_refused(srv, people):
    browser = TestClient(srv.app, base_url=BASE_URL)
    browser.get("/login")
    r = browser.post(
        "/login", data={"csrf": "forged", "email": "alice@example.com", "password": PASSWORD}
    )
    assert r.status_code == 403 and WEB_COOKIE not in r.headers.get("set-cookie", "")
    signed_in = sign_in(srv, "alice@example.com")
    assert signed_in.post("/logout", data={}).status_code == 403
    assert signed_in.get("/sessions").status_code == 200  # still signed in


def test_a_wrong_password_says_so_on_the_page(srv, people):
    browser = TestClient(srv.app, base_url=BASE_URL)
    form = browser.get("/login")
    r = browser.post(
        "/login", data={"csrf": _csrf(form.text), "email": "alice@example.com", "password": "nope"}
    )
    assert r.status_code == 401 and "wrong email or password" in r.text


def test_sign_out_ends_the_session_on_the_server(srv, people):
    browser = sign_in(srv, "alice@example.com")
    stolen = browser.cookies[WEB_COOKIE]
    page = browser.get("/sessions")
    r = browser.post("/logout", data={"csrf": _csrf(page.text)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    replayed = TestClient(srv.app, base_url=BASE_URL, cookies={WEB_COOKIE: stolen})
    assert replayed.get("/sessions", follow_redirects=False).status_code == 303
    assert replayed.get("/v1/sessions").status_code == 401


def test_hostile_content_renders_as_text_everywhere(srv, people):
    s = _hostile_session(srv, people["alice"])
    browser = sign_in(srv, "alice@example.com")
    for path in ("/sessions", f"/s/{s.id}"):
        html = browser.get(path).text
        assert "<script>alert" not in html and "<img src=x" not in html, path
        assert "&lt;script&gt;alert(" in html, path


def test_timeline_filters_search_highlights_and_anchors(srv, people):
    s = _hostile_session(srv, people["alice"])
    browser = sign_in(srv, "alice@example.com")
    html = browser.get(f"/s/{s.id}", params={"q": "needle"}).text
    assert "find the <mark>needle</mark> here" in html
    logs = browser.get(f"/s/{s.id}", params={"type": "LOG"}).text
    timeline = logs.split('<ol class="timeline">')[1]
    assert "needle" in timeline and "&lt;script&gt;" not in timeline
    assert re.search(r'<li id="[0-9a-f-]{36}" class="event type-log', timeline)
    assert "<details><summary>metadata</summary>" in browser.get(f"/s/{s.id}").text


def test_an_events_own_link_opens_the_page_that_holds_it(srv, people):
    """Fragments never reach the server: `?at=<id>` does, past the first page of 100 too."""
    s = Session(title="long")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    events = [
        Event(
            session_id=s.id, type="LOG", content=f"line {i}", timestamp=start + timedelta(seconds=i)
        )
        for i in range(250)
    ]
    body = {"sessions": [s.to_json_dict()], "events": [e.to_json_dict() for e in events]}
    headers = {"Authorization": f"Bearer {people['alice'].key}"}
    assert srv.client.post("/v1/events:batch", json=body, headers=headers).status_code == 200
    browser = sign_in(srv, "alice@example.com")
    first = browser.get(f"/s/{s.id}").text
    link = f'href="/s/{s.id}?at={events[0].id}#{events[0].id}"'
    assert link in first and "First events" not in first
    for i in (99, 100, 180, 249):
        target = events[i]
        html = browser.get(f"/s/{s.id}", params={"at": target.id}).text
        ids = re.findall(r'<li id="([0-9a-f-]{36})"', html)
        page = i // 100
        assert ids == [e.id for e in events[page * 100 : page * 100 + 100]], i
        assert ("First events" in html) == (page > 0)
    # Filtered, the page is the one in the filtered timeline; an unknown id opens page 1.
    html = browser.get(f"/s/{s.id}", params={"at": events[150].id, "q": "line"}).text
    assert events[150].id in re.findall(r'<li id="([0-9a-f-]{36})"', html)
    html = browser.get(f"/s/{s.id}", params={"at": "nope"}).text
    assert re.findall(r'<li id="([0-9a-f-]{36})"', html)[0] == events[0].id


def test_another_teams_session_is_404(srv, people):
    s = _hostile_session(srv, people["alice"])
    eve = sign_in(srv, "eve@example.com")
    r = eve.get(f"/s/{s.id}")
    assert r.status_code == 404 and "&lt;script&gt;" not in r.text
    assert "&lt;script&gt;" not in eve.get("/sessions").text
    assert eve.get(f"/s/{'0' * 8}").status_code == 404


def test_the_event_stream_accepts_the_cookie_for_reads_only(srv, people):
    s = _hostile_session(srv, people["alice"])
    browser = sign_in(srv, "alice@example.com")
    with browser.stream("GET", "/v1/events/stream", params={"session_id": s.id}) as r:
        assert r.status_code == 200
        assert next(r.iter_bytes()).startswith(b"retry:")
    # A write with only the cookie is not authenticated: no cross-site request can change data.
    assert browser.post("/v1/sessions", json=Session(title="x").to_json_dict()).status_code == 401


def test_next_never_leaves_the_server(srv, people):
    browser = TestClient(srv.app, base_url=BASE_URL)
    form = browser.get("/login", params={"next": "//evil.example/"})
    assert 'value="/sessions"' in form.text


def test_a_new_key_is_shown_once_works_and_revoking_it_ends_it(srv, people):
    browser = sign_in(srv, "alice@example.com")
    page = browser.get("/keys")
    r = browser.post("/keys", data={"csrf": _csrf(page.text), "label": XSS})
    assert r.status_code == 200 and "&lt;script&gt;" in r.text and "<script>alert" not in r.text
    secret = re.search(r'<pre class="secret-value">([^<]+)</pre>', r.text).group(1)
    api = {"Authorization": f"Bearer {secret}"}
    assert srv.client.get("/v1/auth/me", headers=api).json()["email"] == "alice@example.com"
    again = browser.get("/keys").text
    assert secret not in again  # shown only once
    key_id = re.search(r'action="/keys/([0-9a-f-]+)/revoke"', again).group(1)
    assert browser.post(f"/keys/{key_id}/revoke", data={}).status_code == 403
    done = browser.post(f"/keys/{key_id}/revoke", data={"csrf": _csrf(again), "confirm": "yes"})
    assert done.status_code == 200 and "revoked" in done.text
    assert srv.client.get("/v1/auth/me", headers=api).status_code == 401


def test_rotating_a_key_shows_the_new_secret_once_and_ends_the_old(srv, people):
    browser = sign_in(srv, "alice@example.com")
    made = browser.post("/keys", data={"csrf": _csrf(browser.get("/keys").text), "label": "ci"})
    old = re.search(r'<pre class="secret-value">([^<]+)</pre>', made.text).group(1)
    page = browser.get("/keys").text
    key_id = re.search(r'action="/keys/([0-9a-f-]+)/rotate"', page).group(1)
    assert browser.post(f"/keys/{key_id}/rotate", data={}).status_code == 403  # no CSRF token
    r = browser.post(f"/keys/{key_id}/rotate", data={"csrf": _csrf(page)})
    assert r.status_code == 200 and "the old one no longer works" in r.text
    new = re.search(r'<pre class="secret-value">([^<]+)</pre>', r.text).group(1)
    assert new != old and new not in browser.get("/keys").text  # shown only once
    me = "/v1/auth/me"
    assert srv.client.get(me, headers={"Authorization": f"Bearer {new}"}).status_code == 200
    assert srv.client.get(me, headers={"Authorization": f"Bearer {old}"}).status_code == 401
    eve = sign_in(srv, "eve@example.com")
    theirs = eve.post(f"/keys/{key_id}/rotate", data={"csrf": _csrf(eve.get("/keys").text)})
    assert theirs.status_code == 404


def _secret(html: str) -> str | None:
    match = re.search(r'<pre class="secret-value">([^<]+)</pre>', html)
    return match.group(1) if match else None


def test_creating_a_key_redirects_and_a_reload_creates_nothing(srv, people):
    """Post/Redirect/Get: the secret shows once on the GET; a reload neither repeats it nor re-posts."""
    browser = sign_in(srv, "alice@example.com")
    before = browser.get("/keys").text
    csrf = _csrf(before)
    r = browser.post("/keys", data={"csrf": csrf, "label": "ci"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/keys"
    shown = browser.get("/keys")
    secret = _secret(shown.text)
    assert secret and "New key <strong>ci</strong>" in shown.text
    assert shown.headers["cache-control"] == "no-store"
    assert all(secret not in v for v in [r.headers["location"], *browser.cookies.values()])
    reload = browser.get("/keys").text
    rows = reload.count("/revoke") - before.count("/revoke")
    assert _secret(reload) is None and rows == 1  # the one new key; the reload made none
    # Another person handed the flash cookie sees nothing of it.
    eve = sign_in(srv, "eve@example.com")
    made = browser.post("/keys", data={"csrf": csrf, "label": "two"}, follow_redirects=False)
    eve.cookies.update({k: v for k, v in made.cookies.items() if k != WEB_COOKIE})
    assert _secret(eve.get("/keys").text) is None


def test_rotating_a_key_redirects_and_a_reload_rotates_nothing(srv, people):
    browser = sign_in(srv, "alice@example.com")
    made = browser.post("/keys", data={"csrf": _csrf(browser.get("/keys").text), "label": "ci"})
    old = _secret(made.text)
    page = browser.get("/keys").text
    key_id = re.search(r'action="/keys/([0-9a-f-]+)/rotate"', page).group(1)
    r = browser.post(f"/keys/{key_id}/rotate", data={"csrf": _csrf(page)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/keys"
    shown = browser.get("/keys").text
    new = _secret(shown)
    assert new and new != old and "the old one no longer works" in shown
    reload = browser.get("/keys")
    assert reload.status_code == 200 and _secret(reload.text) is None
    me = "/v1/auth/me"
    assert srv.client.get(me, headers={"Authorization": f"Bearer {new}"}).status_code == 200


def test_another_teams_key_cannot_be_revoked(srv, people):
    alice = sign_in(srv, "alice@example.com")
    page = alice.get("/keys")
    alice.post("/keys", data={"csrf": _csrf(page.text), "label": "mine"})
    key_id = re.search(r'action="/keys/([0-9a-f-]+)/revoke"', alice.get("/keys").text).group(1)
    eve = sign_in(srv, "eve@example.com")
    r = eve.post(f"/keys/{key_id}/revoke", data={"csrf": _csrf(eve.get("/keys").text)})
    assert r.status_code == 404
    assert "revoked" not in alice.get("/keys").text


def test_compare_aligns_two_runs_and_marks_the_first_divergence(srv, people):
    from agentlog.compare import align

    sessions = []
    for outcome in ("ok", "error"):
        s = Session(title=f"run {outcome}")
        events = [
            Event(session_id=s.id, type="USER_INPUT", content="go"),
            Event(session_id=s.id, type="TOOL_CALL", name="fetch", status=outcome),
            Event(session_id=s.id, type="AGENT_OUTPUT", content="done"),
        ]
        body = {"sessions": [s.to_json_dict()], "events": [e.to_json_dict() for e in events]}
        headers = {"Authorization": f"Bearer {people['alice'].key}"}
        assert srv.client.post("/v1/events:batch", json=body, headers=headers).status_code == 200
        sessions.append((s, events))
    (a, ea), (b, eb) = sessions
    _rows, first = align(ea, eb)
    browser = sign_in(srv, "alice@example.com")
    html = browser.get("/compare", params={"a": a.id, "b": b.id}).text
    assert f"First divergence at step {first + 1}" in html
    divergence = html.split('id="divergence"')[1].split("</tr>")[0]
    assert "fetch" in divergence and "error" in divergence
    eve = sign_in(srv, "eve@example.com")
    assert eve.get("/compare", params={"a": a.id, "b": b.id}).status_code == 404


def test_live_fragments_are_escaped_html():
    from agentlog.server.web.live import fragment

    event = Event(session_id=Session().id, type="LOG", content=XSS, agent_id=XSS)
    message = fragment(event).decode()
    assert message.startswith(f"id: {event.id}\nevent: event\ndata: <li id=")
    assert "<script>" not in message and "&lt;script&gt;" in message
    assert message.endswith("\n\n")


def test_share_link_prints_the_sessions_web_address(srv, people):
    from typer.testing import CliRunner

    from agentlog.cli.app import app
    from agentlog.server.testing import LiveServer

    s = _hostile_session(srv, people["alice"])
    with LiveServer(srv.app) as live:
        args = ["--server", live.url, "--api-key", people["alice"].key, "share", s.id, "--link"]
        result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"{live.url}/s/{s.id}"
    local = CliRunner().invoke(
        app, ["share", s.id, "--link", "--db", str(srv.app.state.agentlog.settings.db)]
    )
    assert local.exit_code != 0 and "--link needs a server" in local.output


def test_live_view_resumes_after_last_event_id(srv, people):
    """A browser's EventSource reconnects with Last-Event-ID: it first gets what it missed."""
    import httpx

    from agentlog.server.testing import LiveServer
    from agentlog.storage.base import EventQuery

    s = _hostile_session(srv, people["alice"])
    store = srv.app.state.agentlog.store
    first, second = store.list_events(EventQuery(session_id=s.id, order="asc")).items
    cookie = sign_in(srv, "alice@example.com").cookies.get(WEB_COOKIE)
    with LiveServer(srv.app) as live:
        headers = {"Cookie": f"{WEB_COOKIE}={cookie}", "Last-Event-ID": first.id}
        seen = ""
        with httpx.stream("GET", f"{live.url}/s/{s.id}/live", headers=headers, timeout=10) as r:
            assert r.status_code == 200
            for chunk in r.iter_text():
                seen += chunk
                if f"id: {second.id}" in seen:
                    break
    assert f"id: {second.id}" in seen and f"id: {first.id}\n" not in seen
    assert "<script>" not in seen


def test_session_page_shows_tokens_with_their_cache_and_reasoning_parts(srv, people):
    s = Session(title="cached run")
    call = Event(
        session_id=s.id,
        type="LLM_CALL",
        input_tokens=1000,
        output_tokens=400,
        cache_read_tokens=900,
        reasoning_tokens=256,
        cost_usd=0.0123,
    )
    body = {"sessions": [s.to_json_dict()], "events": [call.to_json_dict()]}
    key = {"Authorization": f"Bearer {people['alice'].key}"}
    assert srv.client.post("/v1/events:batch", json=body, headers=key).status_code == 200
    page = sign_in(srv, "alice@example.com").get(f"/s/{s.id}")
    assert page.status_code == 200
    text = " ".join(page.text.split())
    assert "tokens 1,000 in (900 cached) / 400 out (256 reasoning)" in text
    assert "$0.0123" in text


def test_compare_with_one_session_uses_its_newest_replay(srv, people):
    original = Session(title="original")
    replay = Session(title="its replay", metadata={"replay_of": original.id})
    lonely = Session(title="never replayed")
    body = {
        "sessions": [x.to_json_dict() for x in (original, replay, lonely)],
        "events": [
            Event(session_id=x.id, type="LOG", content="step").to_json_dict()
            for x in (original, replay, lonely)
        ],
    }
    key = {"Authorization": f"Bearer {people['alice'].key}"}
    assert srv.client.post("/v1/events:batch", json=body, headers=key).status_code == 200
    browser = sign_in(srv, "alice@example.com")
    page = browser.get("/compare", params={"a": original.id})
    assert page.status_code == 200 and "its replay" in page.text
    none = browser.get("/compare", params={"a": lonely.id})
    assert none.status_code == 422 and "newest replay" in none.text


def test_session_header_wording(srv, people):
    s = Session(title="one")
    e = Event(session_id=s.id, type="LOG", content="hi", agent_id="coder", input_tokens=3)
    body = {"sessions": [s.to_json_dict()], "events": [e.to_json_dict()]}
    headers = {"Authorization": f"Bearer {people['alice'].key}"}
    assert srv.client.post("/v1/events:batch", json=body, headers=headers).status_code == 200
    html = sign_in(srv, "alice@example.com").get(f"/s/{s.id}").text
    meta = " ".join(html.split('<p class="meta">')[1].split("</p>")[0].split())
    assert "1 event ·" in meta and "1 events" not in meta and "0 errors" in meta
    assert "agents: coder · tokens" in meta and "coder·" not in meta


def test_unknown_web_paths_show_the_web_not_found_page(srv, people):
    browser = sign_in(srv, "alice@example.com")
    html = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    for path in ("/s/", "/nope"):
        r = browser.get(path, headers=html)
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html"), path
        assert "<h1>Not found</h1>" in r.text and 'href="/keys"' in r.text  # signed-in nav
    anonymous = TestClient(srv.app, base_url=BASE_URL).get("/nope", headers=html)
    assert anonymous.status_code == 404 and "<h1>Not found</h1>" in anonymous.text
    # API clients still get the JSON error.
    api = browser.get("/v1/nope")
    assert api.status_code == 404 and api.json()["error"]["code"]
    assert browser.get("/nope", headers={"Accept": "application/json"}).json()["error"]


def test_every_page_has_a_favicon_the_csp_allows(srv, people):
    browser = sign_in(srv, "alice@example.com")
    icon = browser.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in icon.text
    page = browser.get("/sessions")
    assert '<link rel="icon" href="/favicon.ico"' in page.text
    assert "img-src 'self'" in page.headers["content-security-policy"]
