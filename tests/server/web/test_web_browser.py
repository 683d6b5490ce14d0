"""The web view in a real headless Chromium against a real `agentlog serve` with the demo data."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest
from typer.testing import CliRunner

from agentlog.cli.app import app
from agentlog.model import Event, Session
from agentlog.server.testing import free_port
from agentlog.wire import WEB_COOKIE
from tests.support.oidc import CLIENT_ID, CLIENT_SECRET, Person, RunningProvider, TestProvider

CHROMIUM = "/usr/bin/chromium"
AGENTLOG = str(Path(sys.executable).parent / "agentlog")
PASSWORD = "a long passphrase of my own 42"
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'

playwright_api = pytest.importorskip("playwright.sync_api")


@dataclass
class Served:
    url: str
    db: str
    hostile_id: str
    key: str
    idp: TestProvider


@pytest.fixture(scope="module")
def idp() -> Iterator[TestProvider]:
    """A small OpenID provider on loopback that the served app signs people in with."""
    with RunningProvider() as provider:
        yield provider


def _admin(db: str, *args: str, input: str | None = None) -> str:
    result = CliRunner().invoke(app, ["admin", *args, "--db", db], input=input)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, idp: TestProvider) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("web")
    db = str(tmp / "team.db")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [AGENTLOG, "serve", "--port", str(port), "--db", db],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "AGENTLOG_HOME": str(tmp / "home"),
            "AGENTLOG_OIDC_ISSUER": idp.url,
            "AGENTLOG_OIDC_CLIENT_ID": CLIENT_ID,
            "AGENTLOG_OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "AGENTLOG_OIDC_DOMAIN_TEAMS": "example.com=default",
            "AGENTLOG_OIDC_NAME": "Test IdP",
        },
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, "agentlog serve did not become ready"
            time.sleep(0.1)
        _admin(
            db, "create-user", "alice@example.com", "--admin", "--password-stdin", input=PASSWORD
        )
        _admin(db, "teams", "create", "other")
        _admin(
            db,
            "create-user",
            "eve@example.com",
            "--team",
            "other",
            "--password-stdin",
            input=PASSWORD,
        )
        key = orjson.loads(_admin(db, "keys", "create", "--label", "sdk", "--json"))["secret"]
        demo = CliRunner().invoke(app, ["demo", "--server", url, "--api-key", key])
        assert demo.exit_code == 0, demo.output
        hostile = Session(title=XSS, description=XSS, tags=[XSS], metadata={XSS: XSS})
        events = [
            Event(
                session_id=hostile.id,
                type="TOOL_CALL",
                name=XSS,
                agent_id=XSS,
                content=XSS,
                metadata={XSS: XSS},
            ),
            Event(session_id=hostile.id, type="ERROR", content=XSS, agent_id=XSS),
        ]
        r = httpx.post(
            f"{url}/v1/events:batch",
            json={
                "sessions": [hostile.to_json_dict()],
                "events": [e.to_json_dict() for e in events],
            },
            headers={"Authorization": f"Bearer {key}"},
        )
        assert r.status_code == 200, r.text
        yield Served(url, db, hostile.id, key, idp)
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


def _sign_in(page, url: str, email: str) -> None:
    page.goto(url + "/")
    assert "/login" in page.url
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/sessions")


@pytest.mark.slow
def test_a_lead_reads_last_nights_failure_in_the_browser(served, browser, tmp_path):
    dialogs: list[str] = []
    for width, height in ((1280, 800), (390, 844)):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        _sign_in(page, served.url, "alice@example.com")
        page.screenshot(path=str(tmp_path / f"sessions-{width}x{height}.png"), full_page=True)

        # Find the failing demo session through the filters, then open it.
        page.select_option("select[name=status]", "failed")
        page.click("form.filters button[type=submit]")
        page.wait_for_url("**status=failed**")
        rows = page.locator("table.sessions tbody tr")
        assert rows.count() >= 1 and "failed" in rows.first.inner_text()
        rows.first.locator("a").click()
        page.wait_for_url("**/s/**")
        assert page.locator("ol.timeline li.event").count() > 0
        page.screenshot(path=str(tmp_path / f"session-{width}x{height}.png"), full_page=True)

        # Only the errors; open one's metadata; its anchor link is stable.
        page.check("input[name=type][value=ERROR]")
        page.click("form[action^='/s/'] button[type=submit]")
        page.wait_for_url("**type=ERROR**")
        errors = page.locator("ol.timeline li.event")
        assert errors.count() >= 1
        assert all(
            "type-error" in (errors.nth(i).get_attribute("class") or "")
            for i in range(errors.count())
        )
        first = errors.first
        # The style sheet's colour for errors applies (its class names are lower case).
        border = first.evaluate("e => getComputedStyle(e).borderLeftColor")
        assert border == "rgb(192, 38, 45)", border
        event_id = first.get_attribute("id")
        first.locator("a.anchor").click()
        assert page.url.endswith("#" + str(event_id))
        details = first.locator("details")
        if details.count():
            details.locator("summary").click()
            assert details.first.get_attribute("open") is not None

        # Hostile content shows as text and runs nothing.
        page.goto(f"{served.url}/s/{served.hostile_id}")
        assert XSS in page.locator("h1").inner_text()
        assert XSS in page.locator("ol.timeline").inner_text()
        page.goto(f"{served.url}/sessions")
        assert XSS in page.locator("table.sessions").inner_text()
        context.close()
    assert dialogs == []
    assert {p.name for p in tmp_path.glob("*.png")} == {
        "sessions-1280x800.png",
        "session-1280x800.png",
        "sessions-390x844.png",
        "session-390x844.png",
    }


@pytest.mark.slow
def test_keys_sign_out_and_another_team(served, browser, tmp_path):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    _sign_in(page, served.url, "alice@example.com")
    # Compare last night's failed eval with a completed one, from the failed session's page.
    page.goto(f"{served.url}/sessions?q=Nightly+eval")
    failed = page.locator("tr.state-failed a").first.get_attribute("href")
    passed = page.locator("tr.state-completed a").first.get_attribute("href")
    assert failed and passed
    page.goto(served.url + failed)
    page.fill("input[name=b]", passed.removeprefix("/s/"))
    page.click("text=Compare")
    page.wait_for_url("**/compare?**")
    assert "First divergence at step" in page.locator("main").inner_text()
    assert page.locator("tr#divergence").count() == 1
    page.screenshot(path=str(tmp_path / "compare-1280x800.png"), full_page=True)

    page.click("text=API keys")
    page.fill("input[name=label]", "from the browser")
    page.click("text=Create key")
    secret = page.locator("pre.secret-value").inner_text().strip()
    headers = {"Authorization": f"Bearer {secret}"}
    assert httpx.get(f"{served.url}/v1/auth/me", headers=headers).status_code == 200
    page.screenshot(path=str(tmp_path / "keys-1280x800.png"), full_page=True)
    page.goto(f"{served.url}/keys")
    assert secret not in page.content()
    page.locator("tr", has_text="from the browser").locator("text=Revoke").click()
    page.wait_for_url(f"{served.url}/keys/*/revoke*")  # asks first
    page.click("text=Revoke key")
    page.wait_for_url(f"{served.url}/keys")
    assert "revoked" in page.locator("tr", has_text="from the browser").inner_text()
    deadline = time.monotonic() + 10  # the server trusts a checked key for key_cache_seconds
    while httpx.get(f"{served.url}/v1/auth/me", headers=headers).status_code != 401:
        assert time.monotonic() < deadline, "the revoked key still works"
        time.sleep(0.2)

    page.click("text=Sign out")
    page.wait_for_url(f"{served.url}/login")
    page.goto(f"{served.url}/s/{served.hostile_id}")
    assert "/login" in page.url
    context.close()

    other = browser.new_context(viewport={"width": 390, "height": 844})
    eve = other.new_page()
    _sign_in(eve, served.url, "eve@example.com")
    answer = eve.goto(f"{served.url}/s/{served.hostile_id}")
    assert answer is not None and answer.status == 404
    eve.goto(f"{served.url}/sessions")
    assert "No sessions match" in eve.content()
    other.close()


@pytest.mark.slow
def test_an_active_session_follows_live_while_a_writer_adds_events(served, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    _sign_in(page, served.url, "alice@example.com")
    with page.expect_response(lambda r: r.url.endswith("/live")):
        page.goto(f"{served.url}/s/{served.hostile_id}")
    before = page.locator("ol.timeline li.event").count()
    live = Event(session_id=served.hostile_id, type="LOG", content="live <b>line</b>")
    r = httpx.post(
        f"{served.url}/v1/events:batch",
        json={"events": [live.to_json_dict()]},
        headers={"Authorization": f"Bearer {served.key}"},
    )
    assert r.status_code == 200, r.text
    page.wait_for_selector(f"li[id='{live.id}']", timeout=10_000)
    assert page.locator("ol.timeline li.event").count() == before + 1
    assert "live <b>line</b>" in page.locator(f"li[id='{live.id}'] pre").inner_text()
    context.close()


def _fits(page, width: int) -> None:
    """The page never scrolls sideways: wide tables scroll inside their own box."""
    overflow = page.evaluate("document.scrollingElement.scrollWidth")
    assert overflow <= width, f"{page.url} is {overflow}px wide in a {width}px viewport"


@pytest.mark.slow
def test_team_pages_on_a_desktop_and_a_phone(served, browser, tmp_path):
    dialogs: list[str] = []
    console: list[str] = []
    for width, height in ((1280, 800), (390, 844)):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("console", lambda m: console.append(m.text))
        _sign_in(page, served.url, "alice@example.com")
        _fits(page, width)
        nav = page.locator("header nav a")
        assert [nav.nth(i).inner_text() for i in range(nav.count())] == [
            "Sessions",
            "Agents",
            "Usage",
            "API keys",
            "Members",
            "Audit log",
        ]
        for i in range(nav.count()):  # wrapped, never cut off
            box = nav.nth(i).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width

        page.click("header nav >> text=Agents")
        page.wait_for_url("**/agents")
        assert page.locator("table.agents tbody tr").count() >= 2
        assert XSS in page.locator("table.agents").inner_text()  # hostile agent id, as text
        _fits(page, width)
        page.screenshot(path=str(tmp_path / f"agents-{width}x{height}.png"), full_page=True)

        page.click("header nav >> text=Usage")
        page.wait_for_url("**/usage")
        assert page.locator("svg.chart").count() == 3
        assert page.locator("svg.chart rect.bar").count() == 3 * 30
        assert page.locator("svg.chart").first.bounding_box()["width"] <= width
        page.select_option("select[name=days]", "7")
        page.click("form.filters button[type=submit]")
        page.wait_for_url("**days=7**")
        assert page.locator("svg.chart rect.bar").count() == 3 * 7
        _fits(page, width)
        page.screenshot(path=str(tmp_path / f"usage-{width}x{height}.png"), full_page=True)

        page.click("header nav >> text=Members")
        page.wait_for_url("**/team")
        assert "eve@example.com" not in page.locator("main").inner_text()
        _fits(page, width)
        page.screenshot(path=str(tmp_path / f"members-{width}x{height}.png"), full_page=True)

        page.click("header nav >> text=Audit log")
        page.wait_for_url("**/audit")
        assert page.locator("table.audit tbody tr").count() >= 1
        assert "auth.login" in page.locator("table.audit").inner_text()
        _fits(page, width)
        page.screenshot(path=str(tmp_path / f"audit-{width}x{height}.png"), full_page=True)

        page.goto(f"{served.url}/sessions")
        _fits(page, width)
        context.close()
    assert dialogs == []
    assert not [m for m in console if "Content Security Policy" in m], console
    names = {p.name for p in tmp_path.glob("*.png")}
    for name in ("agents", "usage", "members", "audit"):
        assert {f"{name}-1280x800.png", f"{name}-390x844.png"} <= names


@pytest.mark.slow
def test_an_admin_changes_a_role_and_another_team_cannot(served, browser):
    _admin(served.db, "create-user", "bob@example.com", "--password-stdin", input=PASSWORD)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    _sign_in(page, served.url, "alice@example.com")
    page.goto(f"{served.url}/team")
    row = page.locator("tr", has_text="bob@example.com")
    row.locator("select[name=role]").select_option("viewer")
    row.locator("text=Change role").click()
    page.wait_for_url(f"{served.url}/team")
    assert page.locator("tr", has_text="bob@example.com").locator("select").input_value() == (
        "viewer"
    )
    action = page.locator("tr", has_text="bob@example.com").locator("form").first
    target = action.get_attribute("action")
    context.close()

    other = browser.new_context(viewport={"width": 1280, "height": 800})
    eve = other.new_page()
    _sign_in(eve, served.url, "eve@example.com")
    assert eve.goto(f"{served.url}/team").status == 403  # eve is a member of her team
    # A form aimed at another team's member answers like a missing one (or refuses a member).
    response = eve.request.post(f"{served.url}{target}", form={"csrf": "x", "role": "admin"})
    assert response.status in (403, 404)
    other.close()


@pytest.mark.slow
def test_single_sign_on_in_the_browser(served, browser, tmp_path):
    served.idp.person = Person(email="newcomer@example.com")
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{served.url}/login?next=/usage")
    page.screenshot(path=str(tmp_path / "login-sso-390x844.png"), full_page=True)
    page.click("text=Sign in with Test IdP")
    page.wait_for_url(f"{served.url}/usage")
    assert "newcomer@example.com" in page.locator("header").inner_text()
    cookies = {c["name"]: c for c in context.cookies()}
    assert cookies[WEB_COOKIE]["httpOnly"] and cookies[WEB_COOKIE]["sameSite"] == "Lax"

    served.idp.person = Person(email="stranger@evil.example")
    stranger = browser.new_context(viewport={"width": 1280, "height": 800})
    page = stranger.new_page()
    page.goto(f"{served.url}/login")
    page.click("text=Sign in with Test IdP")
    page.wait_for_load_state()
    assert "has no account on this server" in page.locator("main").inner_text()
    assert "/login/oidc/callback" in page.url
    stranger.close()
    context.close()


@pytest.mark.slow
def test_long_unbroken_strings_wrap_instead_of_widening_the_page(served, browser):
    """An 800-char description, a 126-char agent id and 300-char titles stay inside a phone."""
    agent = "agent-" + "x" * 120
    sessions = [
        Session(title="T" * 300, description="d" * 800),
        Session(title="U" * 300),
    ]
    events = [
        Event(session_id=s.id, type="TOOL_CALL", name="n" * 200, agent_id=agent, content="c" * 900)
        for s in sessions
    ]
    r = httpx.post(
        f"{served.url}/v1/events:batch",
        json={
            "sessions": [s.to_json_dict() for s in sessions],
            "events": [e.to_json_dict() for e in events],
        },
        headers={"Authorization": f"Bearer {served.key}"},
    )
    assert r.status_code == 200, r.text
    for width, height in ((390, 844), (1280, 800)):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        _sign_in(page, served.url, "alice@example.com")
        page.goto(f"{served.url}/s/{sessions[0].id}")
        assert agent in page.locator("p.meta").inner_text()
        _fits(page, width)
        page.goto(f"{served.url}/compare?a={sessions[0].id}&b={sessions[1].id}")
        assert "T" * 300 in page.locator("p.meta").inner_text()
        _fits(page, width)
        context.close()
