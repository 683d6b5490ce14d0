"""OpenID Connect sign-in for the web view: authorization code + PKCE, ID token checked on the JWKS.

`/login/oidc` sends the browser to the provider with a fresh state, nonce and
PKCE challenge, kept in a short-lived signed HttpOnly cookie; the provider
sends it back to `/login/oidc/callback`, where the code is exchanged (with the
verifier) at the token endpoint and the ID token is verified: signature
against the provider's JWKS, `iss`, `aud`, `exp` and the nonce (authlib's
`CodeIDToken` rules, with the audience and issuer pinned). A verified e-mail
of a known user signs that user in; an unknown one joins the team its domain
is mapped to (`oidc.domain_teams`) or is refused. The session cookie is the
same as a password sign-in's.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from typing import TYPE_CHECKING, Any

import httpx
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from agentlog.errors import AuthError, ConfigError, NotFound
from agentlog.model import new_id
from agentlog.server.settings import OIDCSettings
from agentlog.server.state import ServerState
from agentlog.server.web import signin
from agentlog.server.web.render import HEADERS, page
from agentlog.server.web.routes import Text, _local, _state
from agentlog.storage.accounts import Actor, Role, User

if TYPE_CHECKING:
    from joserfc.jwk import KeySet

log = logging.getLogger("agentlog.server.oidc")
router = APIRouter(include_in_schema=False)

FLOW_COOKIE = "agentlog_oidc"  # state, nonce and PKCE verifier of one sign-in in progress
FLOW_SECONDS = 600
CACHE_SECONDS = 3600  # discovery document and keys; an unknown kid re-reads the keys sooner
TIMEOUT = httpx.Timeout(10.0)
# Asymmetric signatures only: the keys come from the JWKS, never the client secret.
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
LEEWAY_SECONDS = 60
SCOPE = "openid email profile"


class ProviderError(Exception):
    """The provider could not be reached or answered something unusable (a 502 page)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Provider:
    """One configured issuer: its discovery document and signing keys (cached), the code exchange."""

    def __init__(self, config: OIDCSettings) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._metadata: tuple[float, dict[str, Any]] | None = None
        self._keys: tuple[float, KeySet] | None = None

    def _get(self, url: str) -> dict[str, Any]:
        try:
            r = httpx.get(url, timeout=TIMEOUT, headers={"Accept": "application/json"})
            r.raise_for_status()
            body = r.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ProviderError(f"the sign-in provider did not answer {url} ({exc})") from None
        if not isinstance(body, dict):
            raise ProviderError(f"the sign-in provider's {url} is not a JSON object")
        return body

    def metadata(self) -> dict[str, Any]:
        with self._lock:
            if self._metadata and self._metadata[0] > time.monotonic():
                return self._metadata[1]
        meta = self._get(self.config.discovery)
        for name in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(meta.get(name), str):
                raise ProviderError(f"the provider's discovery document has no {name}")
        expected = self.config.issuer_url
        if expected and meta["issuer"].rstrip("/") != expected:
            raise ProviderError(
                f"the discovery document names issuer {meta['issuer']!r}, not {expected!r}"
            )
        with self._lock:
            self._metadata = (time.monotonic() + CACHE_SECONDS, meta)
        return meta

    def keys(self, *, fresh: bool = False) -> KeySet:
        from joserfc.errors import JoseError
        from joserfc.jwk import KeySet

        with self._lock:
            if not fresh and self._keys and self._keys[0] > time.monotonic():
                return self._keys[1]
        try:
            keys = KeySet.import_key_set(self._get(self.metadata()["jwks_uri"]))  # type: ignore[arg-type]  # checked to be a JSON object
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise ProviderError(f"the provider's keys cannot be read ({exc})") from None
        with self._lock:
            self._keys = (time.monotonic() + CACHE_SECONDS, keys)
        return keys

    def authorize_url(self, redirect_uri: str, state: str, nonce: str, verifier: str) -> str:
        from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
        from authlib.oauth2.rfc7636 import create_s256_code_challenge

        return str(
            prepare_grant_uri(
                self.metadata()["authorization_endpoint"],
                client_id=self.config.client_id,
                response_type="code",
                redirect_uri=redirect_uri,
                scope=SCOPE,
                state=state,
                nonce=nonce,
                code_challenge=create_s256_code_challenge(verifier),
                code_challenge_method="S256",
            )
        )

    def exchange(self, code: str, redirect_uri: str, verifier: str) -> dict[str, Any]:
        """The token endpoint's answer for `code` (client_secret_basic, or _post if that is all)."""
        meta = self.metadata()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        }
        methods = meta.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        auth: tuple[str, str] | None = None
        if "client_secret_basic" in methods or "client_secret_post" not in methods:
            auth = (self.config.client_id, self.config.client_secret)
        else:
            form |= {"client_id": self.config.client_id, "client_secret": self.config.client_secret}
        try:
            r = httpx.post(
                meta["token_endpoint"],
                data=form,
                auth=auth,
                timeout=TIMEOUT,
                headers={"Accept": "application/json"},
            )
            body = r.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ProviderError(f"the provider's token endpoint failed ({exc})") from None
        if r.status_code != 200 or not isinstance(body, dict) or "error" in body:
            what = (
                body.get("error_description") or body.get("error") if isinstance(body, dict) else ""
            )
            raise AuthError(f"the provider refused the sign-in code ({what or r.status_code})")
        if not isinstance(body.get("id_token"), str):
            raise AuthError("the provider's answer has no ID token; is the openid scope allowed?")
        return body

    def verify(self, id_token: str, nonce: str, access_token: str | None) -> dict[str, Any]:
        """The ID token's claims once its signature, iss, aud, exp and nonce check out."""
        from authlib.oidc.core import CodeIDToken
        from joserfc import jwt
        from joserfc.errors import InvalidKeyIdError, JoseError

        meta = self.metadata()
        try:
            try:
                token = jwt.decode(id_token, self.keys(), algorithms=ALGORITHMS)
            except InvalidKeyIdError:  # the provider rotated its keys since we read them
                token = jwt.decode(id_token, self.keys(fresh=True), algorithms=ALGORITHMS)
            claims = CodeIDToken(
                token.claims,
                token.header,
                {
                    "iss": {"essential": True, "value": meta["issuer"]},
                    "aud": {"essential": True, "value": self.config.client_id},
                    "exp": {"essential": True},
                    "nonce": {"essential": True, "value": nonce},
                },
                {"nonce": nonce, "client_id": self.config.client_id, "access_token": access_token},
            )
            claims.validate(leeway=LEEWAY_SECONDS)
        except JoseError as exc:
            raise AuthError(f"the provider's ID token did not check out ({exc})") from None
        except ValueError as exc:  # not a JWT at all
            raise AuthError(f"the provider's ID token cannot be read ({exc})") from None
        return dict(claims)


def provider(state: ServerState) -> Provider | None:
    """This app's provider client, made on first use; None when OIDC sign-in is off."""
    if not state.settings.oidc.enabled:
        return None
    check_installed()
    with _made:
        if state.oidc is None:
            state.oidc = Provider(state.settings.oidc)
    client: Provider = state.oidc
    return client


_made = threading.Lock()


def check_installed() -> None:
    """OIDC sign-in needs authlib (the [team] extra): say so at start, not at the first sign-in."""
    try:
        import authlib.oidc.core  # noqa: F401
        import joserfc.jwt  # noqa: F401
    except ImportError:
        raise ConfigError(
            "OpenID Connect sign-in (oidc.issuer) needs authlib: pip install 'agentlog[team]'"
        ) from None


def _redirect_uri(request: Request, config: OIDCSettings) -> str:
    return config.redirect_url or str(request.url_for("oidc_callback"))


def _refused(request: Request, status: int, title: str, message: str) -> Response:
    response = page("error.html", status, title=title, message=message, me=None, csrf="")
    response.delete_cookie(FLOW_COOKIE, path="/login/oidc")
    return response


@router.get("/login/oidc")
def start(request: Request, next: Text = None) -> Response:
    state = _state(request)
    client = provider(state)
    if client is None:
        return _refused(request, 404, "Not found", "single sign-on is not set up on this server")
    nonce, verifier, flow_state = (secrets.token_urlsafe(n) for n in (32, 48, 32))
    redirect_uri = _redirect_uri(request, client.config)
    try:
        target = client.authorize_url(redirect_uri, flow_state, nonce, verifier)
    except ProviderError as exc:
        log.warning("OIDC: %s", exc.message)
        return _refused(request, 502, "Sign-in unavailable", exc.message)
    flow = {
        "sub": "oidc",
        "typ": "oidc",
        "st": flow_state,
        "nonce": nonce,
        "cv": verifier,
        "next": _local(next),
    }
    response = RedirectResponse(target, 303)
    response.headers.update(HEADERS)
    response.set_cookie(
        FLOW_COOKIE,
        state.keyring.issue(flow, FLOW_SECONDS),
        max_age=FLOW_SECONDS,
        httponly=True,
        secure=signin.secure(request, state),
        samesite="lax",  # the provider's redirect back is a top-level GET: Lax sends it
        path="/login/oidc",
    )
    return response


@router.get("/login/oidc/callback", name="oidc_callback")
async def callback(
    request: Request,
    state: Text = None,
    code: Text = None,
    error: Text = None,
    error_description: Text = None,
) -> Response:
    app = _state(request)
    client = provider(app)
    if client is None:
        return _refused(request, 404, "Not found", "single sign-on is not set up on this server")
    try:
        flow = app.keyring.verify(request.cookies.get(FLOW_COOKIE) or "", "oidc")
    except AuthError:
        flow = {}
    if not flow or not signin.same(state, flow.get("st")):
        return _refused(
            request,
            400,
            "Sign-in failed",
            "this sign-in did not start here or took longer than 10 minutes; start again",
        )
    if error or not code:
        why = error_description or error or "no code came back"
        return _refused(request, 401, "Sign-in refused", f"{client.config.label} said: {why}")
    try:
        user = await run_in_threadpool(_finish, app, client, request, code, flow)
    except ProviderError as exc:
        log.warning("OIDC: %s", exc.message)
        return _refused(request, 502, "Sign-in unavailable", exc.message)
    except AuthError as exc:
        log.warning("OIDC sign-in refused: %s", exc.message)
        return _refused(request, 401, "Sign-in refused", exc.message)
    if isinstance(user, str):  # a person the server does not let in: say why
        return _refused(request, 403, "Not allowed", user)
    tokens = await run_in_threadpool(app.auth.tokens_for, user, new_id())
    done = RedirectResponse(_local(str(flow.get("next") or "")), 303)
    done.headers.update(HEADERS)
    signin.set_session(done, request, app, signin.web_cookie(app, tokens))
    done.delete_cookie(FLOW_COOKIE, path="/login/oidc")
    return done


def _finish(
    app: ServerState, client: Provider, request: Request, code: str, flow: dict[str, Any]
) -> User | str:
    """The user the provider vouches for, or the sentence saying why they may not come in."""
    answer = client.exchange(code, _redirect_uri(request, client.config), str(flow["cv"]))
    access = answer.get("access_token")
    claims = client.verify(
        answer["id_token"], str(flow["nonce"]), access if isinstance(access, str) else None
    )
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        return f"{client.config.label} did not share an e-mail address; allow the email scope"
    if claims.get("email_verified") not in (True, "true"):  # some providers send a string
        return f"{client.config.label} has not verified {email}; verify it there and try again"
    accounts = app.accounts
    try:
        user = accounts.user_by_email(email)
    except NotFound:
        team_name = client.config.team_of(email)
        domain = email.rpartition("@")[2].lower()
        if team_name is None:
            return (
                f"{email} has no account on this server, and people from {domain} do not "
                "join a team by signing in; ask a team admin to add you"
            )
        try:
            team = accounts.team_by_name(team_name)
        except NotFound:
            return (
                f"{domain} is meant to join team {team_name}, which does not exist on this "
                "server; ask the server's owner to create it"
            )
        user = accounts.create_user(email, None, Role.parse(client.config.new_user_role), team.id)
        log.info("OIDC: %s joined team %s", email, team.name)
    if user.disabled:
        return f"{email} is disabled on this server; ask a team admin"
    accounts.audit(
        "auth.login",
        Actor(user.id),
        team_id=user.team_id,
        target=user.id,
        details={"method": "oidc", "issuer": claims.get("iss"), "subject": claims.get("sub")},
    )
    return user
