"""The team pages in-process: agents, usage charts, members (admins), audit log (admins), and their fences."""

from __future__ import annotations

import re

import pytest

from agentlog.model import Event, Session
from agentlog.server.testing import TestServer
from agentlog.storage.accounts import Role
from tests.server.web.test_web_pages import PASSWORD, XSS, _csrf, sign_in
from tests.support.server import Who, add_user

PAGES = ("/agents", "/usage", "/team", "/audit")


@pytest.fixture
def team(srv: TestServer) -> dict[str, Who]:
    return {
        "boss": add_user(srv, "boss@example.com", Role.ADMIN, "main", PASSWORD),
        "alice": add_user(srv, "alice@example.com", Role.MEMBER, "main", PASSWORD),
        "vic": add_user(srv, "vic@example.com", Role.VIEWER, "main", PASSWORD),
        "eve": add_user(srv, "eve@example.com", Role.ADMIN, "other", PASSWORD),
    }


def _record(srv: TestServer, who: Who, agent: str = XSS) -> Session:
    s = Session(title="usage run")
    events = [
        Event(
            session_id=s.id,
            type="LLM_CALL",
            agent_id=agent,
            name="model",
            input_tokens=1200,
            output_tokens=300,
            cost_usd=0.25,
        ),
        Event(session_id=s.id, type="ERROR", agent_id=agent, content="boom", status="error"),
    ]
    body = {"sessions": [s.to_json_dict()], "events": [e.to_json_dict() for e in events]}
    r = srv.client.post("/v1/events:batch", json=body, headers=who.h)
    assert r.status_code == 200, r.text
    return s


def test_every_new_page_needs_a_sign_in(srv, team):
    from starlette.testclient import TestClient

    from agentlog.server.testing import BASE_URL

    anonymous = TestClient(srv.app, base_url=BASE_URL)
    for path in PAGES:
        r = anonymous.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), path


def test_the_nav_links_the_new_pages_admin_ones_only_for_admins(srv, team):
    boss = sign_in(srv, "boss@example.com").get("/sessions").text
    for path in PAGES:
        assert f'href="{path}"' in boss
    alice = sign_in(srv, "alice@example.com").get("/sessions").text
    assert 'href="/agents"' in alice and 'href="/usage"' in alice
    assert 'href="/team"' not in alice and 'href="/audit"' not in alice


def test_agents_lists_the_teams_agents_as_text(srv, team):
    _record(srv, team["alice"])
    _record(srv, team["alice"], agent="planner")
    html = sign_in(srv, "alice@example.com").get("/agents")
    assert html.status_code == 200
    assert "&lt;script&gt;alert" in html.text and "<script>alert" not in html.text
    row = html.text.split("planner</a>")[1].split("</tr>")[0]
    numbers = re.findall(r'<td class="num[^"]*">([^<]+)</td>', row)
    assert numbers == ["1", "2", "1", "50.0%"]  # sessions, events, errors, error rate
    assert 'href="/sessions?agent=planner"' in html.text
    # Another team sees none of it.
    eve = sign_in(srv, "eve@example.com").get("/agents").text
    assert "planner" not in eve and "&lt;script&gt;" not in eve and "No agents yet" in eve


def test_usage_draws_tokens_cost_and_errors_per_day_as_svg(srv, team):
    _record(srv, team["alice"])
    browser = sign_in(srv, "alice@example.com")
    page = browser.get("/usage")
    assert page.status_code == 200
    html = page.text
    assert html.count('<svg class="chart') == 3 and "<script" not in html
    assert "style=" not in html  # the CSP allows no inline style: colours come from classes
    assert "1,500</span> tokens" in html and "$0.25</span> cost" in html
    assert re.search(r"<title>\d{4}-\d\d-\d\d: 1,500</title>", html)
    assert re.search(r"<title>\d{4}-\d\d-\d\d: \$0.2500</title>", html)
    assert "&lt;script&gt;alert" in html and "<script>alert" not in html
    assert html.count("<rect ") == 3 * 30
    assert browser.get("/usage", params={"days": "7"}).text.count("<rect ") == 3 * 7
    assert browser.get("/usage", params={"days": "junk"}).status_code == 400  # names 7, 30, 90
    eve = sign_in(srv, "eve@example.com").get("/usage").text
    assert "1,500</span>" not in eve and "0</span> events" in eve


def test_admin_pages_refuse_members_and_viewers(srv, team):
    for email in ("alice@example.com", "vic@example.com"):
        browser = sign_in(srv, email)
        for path in ("/team", "/audit"):
            r = browser.get(path)
            assert r.status_code == 403 and "only team admins" in r.text, (email, path)
        page = browser.get("/sessions").text
        target = team["alice"].user.id
        r = browser.post(f"/team/{target}/remove", data={"csrf": _csrf(page)})
        assert r.status_code == 403
    assert not srv.accounts.get_user(team["alice"].user.id).disabled


def test_members_lists_the_team_and_changes_a_role(srv, team):
    boss = sign_in(srv, "boss@example.com")
    page = boss.get("/team")
    assert page.status_code == 200
    assert "alice@example.com" in page.text and "vic@example.com" in page.text
    assert "eve@example.com" not in page.text  # another team
    assert '<option value="owner"' not in page.text.split("alice@example.com")[1].split("</tr>")[0]
    alice = team["alice"].user.id
    r = boss.post(
        f"/team/{alice}/role",
        data={"csrf": _csrf(page.text), "role": "viewer"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/team"
    assert srv.accounts.get_user(alice).role is Role.VIEWER
    # Without the form's token nothing changes.
    assert boss.post(f"/team/{alice}/role", data={"role": "admin"}).status_code == 403
    assert srv.accounts.get_user(alice).role is Role.VIEWER
    # The shared rules answer on the page: an admin may not make an owner, nor demote themself.
    token = _csrf(boss.get("/team").text)
    r = boss.post(f"/team/{alice}/role", data={"csrf": token, "role": "owner"})
    assert r.status_code == 403 and "only the server owner may make another owner" in r.text
    me = team["boss"].user.id
    r = boss.post(f"/team/{me}/role", data={"csrf": token, "role": "member"})
    assert r.status_code == 400 and "cannot disable or demote yourself" in r.text
    r = boss.post(f"/team/{alice}/role", data={"csrf": token, "role": XSS})
    assert r.status_code == 422 and "&lt;script&gt;" in r.text and "<script>alert" not in r.text


def test_removing_a_member_disables_them_and_restore_undoes_it(srv, team):
    alice_browser = sign_in(srv, "alice@example.com")
    boss = sign_in(srv, "boss@example.com")
    token = _csrf(boss.get("/team").text)
    alice = team["alice"].user.id
    removed = boss.post(f"/team/{alice}/remove", data={"csrf": token, "confirm": "yes"})
    assert removed.status_code == 200
    assert srv.accounts.get_user(alice).disabled
    assert "removed" in boss.get("/team").text
    # Signed out at once, and the key is revoked.
    assert alice_browser.get("/sessions", follow_redirects=False).status_code == 303
    assert srv.client.get("/v1/auth/me", headers=team["alice"].h).status_code == 401
    assert boss.post(f"/team/{alice}/restore", data={"csrf": token}).status_code == 200
    assert not srv.accounts.get_user(alice).disabled
    assert boss.post(f"/team/{alice}/explode", data={"csrf": token}).status_code == 404


def test_another_teams_admin_gets_404_for_this_teams_members(srv, team):
    eve = sign_in(srv, "eve@example.com")
    token = _csrf(eve.get("/team").text)
    alice = team["alice"].user.id
    for action, form in (("role", {"role": "viewer"}), ("remove", {}), ("restore", {})):
        r = eve.post(f"/team/{alice}/{action}", data={"csrf": token, **form})
        assert r.status_code == 404, action
    assert eve.post("/team/not-an-id/remove", data={"csrf": token}).status_code == 404
    user = srv.accounts.get_user(alice)
    assert user.role is Role.MEMBER and not user.disabled
    audit = eve.get("/audit").text
    assert "alice@example.com" not in audit and "boss@example.com" not in audit


def test_audit_log_pages_back_through_the_teams_entries(srv, team, monkeypatch):
    from agentlog.server.web import team as web_team

    monkeypatch.setattr(web_team, "AUDIT_PAGE", 3)
    boss = sign_in(srv, "boss@example.com")
    main = srv.team.id
    expected = [e.id for e in srv.accounts.list_audit(team_id=main, limit=1000)]
    assert len(expected) > 7
    seen: list[str] = []
    path = "/audit"
    pages = 0
    while path:
        page = boss.get(path)
        assert page.status_code == 200
        seen += re.findall(r'<tr data-id="([^"]+)"', page.text)
        more = re.search(r'<a href="(/audit\?before=[^"]+)">Older', page.text)
        path = more.group(1).replace("&amp;", "&") if more else ""
        pages += 1
    assert pages >= 3
    assert seen == expected  # every entry once, newest first, nothing skipped
    assert "auth.login" in boss.get("/audit").text
    # Recorded text in an entry's details is shown as text.
    boss.post("/keys", data={"csrf": _csrf(boss.get("/keys").text), "label": XSS})
    audit = boss.get("/audit").text
    assert "key.create" in audit and "&lt;script&gt;" in audit and "<script>alert" not in audit
    assert boss.get("/audit", params={"before": "junk"}).status_code == 400
