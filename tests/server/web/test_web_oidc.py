"""OpenID Connect sign-in against a small provider on loopback: the whole code flow and its refusals."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc.jwk import RSAKey
from starlette.testclient import TestClient

from agentlog.errors import ConfigError, NotFound
from agentlog.server.settings import OIDCSettings, ServerSettings, parse_domain_teams
from agentlog.server.testing import BASE_URL, TestServer, start_test_server
from agentlog.server.web.oidc import FLOW_COOKIE
from agentlog.storage.accounts import Role
from agentlog.wire import WEB_COOKIE
from tests.support.oidc import CLIENT_ID, CLIENT_SECRET, Person, RunningProvider, TestProvider
from tests.support.server import add_user

XSS = '<script>alert("x")</script>'


@pytest.fixture(scope="module")
def provider() -> Iterator[TestProvider]:
    with RunningProvider() as running:
        yield running


@pytest.fixture
def idp(provider: TestProvider) -> TestProvider:
    """The module's provider, reset to vouch for a verified newcomer@example.com."""
    provider.person = Person()
    provider.tamper = {}
    provider.sign_with = provider.key
    provider.grants.clear()
    provider.token_requests.clear()
    return provider


@pytest.fixture
def sso(tmp_path: Path, idp: TestProvider) -> Iterator[TestServer]:
    config = OIDCSettings(
        issuer=idp.url,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        domain_teams=(("example.com", "main"), ("ghost.example", "no-such-team")),
    )
    server = start_test_server(tmp_path / "sso", oidc=config)
    yield server
    server.close()


def _start(browser: TestClient, next: str = "/sessions") -> httpx.Response:
    """The server's redirect to the provider's authorization endpoint."""
    r = browser.get("/login/oidc", params={"next": next}, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert urlsplit(r.headers["location"]).path == "/authorize"
    return r


def _authorize(start: httpx.Response) -> str:
    """The provider approves at once: the callback URL it sends the browser back to."""
    answer = httpx.get(start.headers["location"], follow_redirects=False)
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def _sign_in(browser: TestClient, next: str = "/sessions") -> httpx.Response:
    return browser.get(_authorize(_start(browser, next)), follow_redirects=False)


def test_the_sign_in_page_offers_the_provider_only_when_configured(srv, sso):
    assert "/login/oidc" not in TestClient(srv.app, base_url=BASE_URL).get("/login").text
    assert TestClient(srv.app, base_url=BASE_URL).get("/login/oidc").status_code == 404
    page = TestClient(sso.app, base_url=BASE_URL).get("/login", params={"next": "/agents"})
    assert 'href="/login/oidc?next=%2Fagents"' in page.text
    assert "Sign in with 127.0.0.1" in page.text


def test_the_authorization_request_carries_state_nonce_and_pkce(sso, idp):
    browser = TestClient(sso.app, base_url=BASE_URL)
    r = _start(browser)
    assert r.headers["location"].startswith(f"{idp.url}/authorize?")
    q = {k: v[0] for k, v in parse_qs(urlsplit(r.headers["location"]).query).items()}
    assert q["client_id"] == CLIENT_ID and q["response_type"] == "code"
    assert q["redirect_uri"] == f"{BASE_URL}/login/oidc/callback"
    assert "openid" in q["scope"].split() and "email" in q["scope"].split()
    assert len(q["state"]) >= 32 and len(q["nonce"]) >= 32
    assert q["code_challenge_method"] == "S256" and len(q["code_challenge"]) == 43
    flow = next(c for c in r.headers.get_list("set-cookie") if c.startswith(FLOW_COOKIE))
    assert "HttpOnly" in flow and "SameSite=lax" in flow and "Path=/login/oidc" in flow


def test_a_newcomer_from_a_mapped_domain_joins_its_team_and_gets_the_same_cookie(sso, idp):
    browser = TestClient(sso.app, base_url=BASE_URL)
    done = _sign_in(browser, next="/keys")
    assert done.status_code == 303 and done.headers["location"] == "/keys"
    cookie = next(c for c in done.headers.get_list("set-cookie") if c.startswith(WEB_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "newcomer@example.com" in browser.get("/sessions").text
    user = sso.accounts.user_by_email("newcomer@example.com")
    assert user.team_id == sso.team.id and user.role is Role.MEMBER
    assert user.password_hash is None  # no password: it signs in through the provider only
    logins = [e for e in sso.accounts.list_audit(team_id=sso.team.id) if e.action == "auth.login"]
    assert logins[0].details["method"] == "oidc" and logins[0].details["issuer"] == idp.url
    # Signing out ends the OIDC sign-in on the server like a password one.
    page = browser.get("/sessions").text
    csrf = page.split('name="csrf" value="')[1].split('"')[0]
    stolen = browser.cookies[WEB_COOKIE]
    assert browser.post("/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    replay = TestClient(sso.app, base_url=BASE_URL, cookies={WEB_COOKIE: stolen})
    assert replay.get("/sessions", follow_redirects=False).status_code == 303


def test_a_known_user_signs_in_as_themself_whatever_their_domain(sso, idp):
    other = add_user(sso, "lead@elsewhere.example", Role.ADMIN, "other")
    idp.person = Person(email="Lead@Elsewhere.example")
    browser = TestClient(sso.app, base_url=BASE_URL)
    assert _sign_in(browser).status_code == 303
    me = browser.get("/sessions").text
    assert "lead@elsewhere.example" in me
    assert sso.accounts.user_by_email("lead@elsewhere.example").id == other.user.id


def test_an_unmapped_domain_is_refused_with_a_clear_page(sso, idp):
    idp.person = Person(email="stranger@evil.example")
    r = _sign_in(TestClient(sso.app, base_url=BASE_URL))
    assert r.status_code == 403
    assert "stranger@evil.example has no account on this server" in r.text
    assert "ask a team admin to add you" in r.text
    assert WEB_COOKIE not in r.headers.get("set-cookie", "")
    with pytest.raises(NotFound):
        sso.accounts.user_by_email("stranger@evil.example")


def test_a_domain_mapped_to_a_missing_team_is_refused(sso, idp):
    idp.person = Person(email="ghost@ghost.example")
    r = _sign_in(TestClient(sso.app, base_url=BASE_URL))
    assert r.status_code == 403 and "team no-such-team, which does not exist" in r.text


def test_an_unverified_email_is_refused(sso, idp):
    idp.person = Person(email="newcomer@example.com", email_verified=False)
    r = _sign_in(TestClient(sso.app, base_url=BASE_URL))
    assert r.status_code == 403 and "has not verified newcomer@example.com" in r.text


def test_a_disabled_user_is_refused(sso, idp):
    who = add_user(sso, "gone@example.com", Role.MEMBER, "main")
    sso.accounts.update_user(who.user.id, disabled=True)
    idp.person = Person(email="gone@example.com")
    r = _sign_in(TestClient(sso.app, base_url=BASE_URL))
    assert r.status_code == 403 and "disabled" in r.text


@pytest.mark.parametrize(
    ("tamper", "why"),
    [
        ({"nonce": "a nonce from another sign-in"}, "nonce"),
        ({"aud": "some-other-client"}, "aud"),
        ({"aud": ["some-other-client"], "azp": CLIENT_ID}, "aud"),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "expired"),
        ({"iss": "https://impostor.example"}, "iss"),
    ],
    ids=["wrong-nonce", "wrong-audience", "wrong-audience-with-azp", "expired", "wrong-issuer"],
)
def test_an_id_token_that_does_not_check_out_is_refused(sso, idp, tamper, why):
    idp.tamper = tamper
    browser = TestClient(sso.app, base_url=BASE_URL)
    r = _sign_in(browser)
    assert r.status_code == 401, r.text
    assert "Sign-in refused" in r.text and "did not check out" in r.text
    assert why in r.text
    assert WEB_COOKIE not in browser.cookies
    with pytest.raises(NotFound):
        sso.accounts.user_by_email("newcomer@example.com")


def test_an_id_token_signed_by_another_key_is_refused(sso, idp):
    idp.sign_with = RSAKey.generate_key(2048, parameters={"kid": idp.key.kid})
    r = _sign_in(TestClient(sso.app, base_url=BASE_URL))
    assert r.status_code == 401 and "did not check out" in r.text


def test_a_bad_or_missing_state_is_400(sso, idp):
    browser = TestClient(sso.app, base_url=BASE_URL)
    callback = _authorize(_start(browser))
    forged = callback.replace("state=", "state=x")
    assert browser.get(forged, follow_redirects=False).status_code == 400
    # Without the flow cookie (another browser: a login CSRF attempt) it is 400 too.
    stranger = TestClient(sso.app, base_url=BASE_URL)
    r = stranger.get(callback, follow_redirects=False)
    assert r.status_code == 400 and "did not start here" in r.text
    assert idp.token_requests == []  # nothing was exchanged


def test_the_provider_saying_no_is_shown_escaped(sso, idp):
    browser = TestClient(sso.app, base_url=BASE_URL)
    start = _start(browser)
    state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
    r = browser.get(
        "/login/oidc/callback",
        params={"state": state, "error": "access_denied", "error_description": XSS},
    )
    assert r.status_code == 401 and "&lt;script&gt;" in r.text and "<script>alert" not in r.text


def test_a_code_is_spent_once(sso, idp):
    browser = TestClient(sso.app, base_url=BASE_URL)
    start = _start(browser)
    callback = _authorize(start)
    assert browser.get(callback, follow_redirects=False).status_code == 303
    # The flow cookie is gone; a replayed callback carrying it again still fails at the provider.
    again = TestClient(sso.app, base_url=BASE_URL)
    flow = next(c for c in start.headers.get_list("set-cookie") if c.startswith(FLOW_COOKIE))
    again.cookies.set(FLOW_COOKIE, flow.split(";")[0].split("=", 1)[1], path="/login/oidc")
    r = again.get(callback, follow_redirects=False)
    assert r.status_code == 401 and "refused the sign-in code" in r.text


def test_an_unreachable_provider_is_a_502_page(tmp_path):
    from agentlog.server.testing import free_port

    config = OIDCSettings(issuer=f"http://127.0.0.1:{free_port()}", client_id="x")
    server = start_test_server(tmp_path / "down", oidc=config)
    try:
        r = TestClient(server.app, base_url=BASE_URL).get("/login/oidc")
        assert r.status_code == 502 and "did not answer" in r.text
    finally:
        server.close()


def test_settings_come_from_agentlog_oidc_variables(monkeypatch):
    monkeypatch.setenv("AGENTLOG_OIDC_ISSUER", "google")
    monkeypatch.setenv("AGENTLOG_OIDC_CLIENT_ID", "123.apps.googleusercontent.com")
    monkeypatch.setenv("AGENTLOG_OIDC_CLIENT_SECRET", "shh")
    monkeypatch.setenv("AGENTLOG_OIDC_DOMAIN_TEAMS", "Example.com=acme, lab.example.org=research")
    monkeypatch.setenv("AGENTLOG_OIDC_NEW_USER_ROLE", "viewer")
    oidc = ServerSettings.load(db="x.db").oidc
    assert oidc.enabled and oidc.label == "Google"
    assert oidc.discovery == "https://accounts.google.com/.well-known/openid-configuration"
    assert oidc.client_secret == "shh" and "shh" not in repr(oidc)
    assert oidc.team_of("a@EXAMPLE.com") == "acme" and oidc.team_of("a@other.example") is None
    assert oidc.new_user_role == "viewer"


def test_bad_oidc_settings_are_refused_at_start():
    with pytest.raises(ConfigError, match="DOMAIN=TEAM"):
        parse_domain_teams("example.com")
    with pytest.raises(ConfigError, match="client_id is empty"):
        OIDCSettings(issuer="google")
    with pytest.raises(ConfigError, match="https://"):
        OIDCSettings(issuer="http://idp.example", client_id="x")
    assert not OIDCSettings().enabled
