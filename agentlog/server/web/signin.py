"""Web sign-in: a password login becomes an HttpOnly cookie session; CSRF tokens for every form.

The cookie holds a signed JWT of type "web" in its own token family (the same
family a `/v1/auth/login` starts), so signing out ends it server-side exactly
like an API logout, and a password or role change ends it too.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from agentlog.server.auth import Principal
from agentlog.server.state import ServerState
from agentlog.wire import WEB_COOKIE

CSRF_COOKIE = "agentlog_csrf"  # the sign-in form's token before there is a session
WEB_TTL_SECONDS = 12 * 3600


def sign_in(state: ServerState, email: str, password: str, address: str) -> str:
    """The cookie value for a good email + password (AuthError / RateLimited otherwise)."""
    return web_cookie(state, state.auth.login(email, password, address))


def web_cookie(state: ServerState, tokens: dict[str, Any]) -> str:
    """The session cookie of a sign-in's token pair (password or OpenID Connect alike)."""
    claims = state.keyring.verify(tokens["refresh_token"], "refresh")
    web = {"sub": claims["sub"], "ver": claims["ver"], "fam": claims["fam"], "typ": "web"}
    return state.keyring.issue(web, WEB_TTL_SECONDS)


def secure(request: Request, state: ServerState) -> bool:
    """Cookies are Secure behind TLS, or always when the operator says so."""
    configured = state.settings.cookie_secure
    return request.url.scheme == "https" if configured is None else configured


def set_session(response: Response, request: Request, state: ServerState, value: str) -> None:
    response.set_cookie(
        WEB_COOKIE,
        value,
        max_age=WEB_TTL_SECONDS,
        httponly=True,
        secure=secure(request, state),
        samesite="lax",
        path="/",
    )


def clear_session(response: Response) -> None:
    response.delete_cookie(WEB_COOKIE, path="/", httponly=True, samesite="lax")


def session_csrf(state: ServerState, principal: Principal) -> str:
    """The CSRF token of one sign-in: bound to its family, so it dies with the session."""
    key = state.keyring.signing_key.secret.encode()
    return hmac.new(key, b"csrf:" + (principal.family or "").encode(), hashlib.sha256).hexdigest()


def login_csrf(request: Request) -> str:
    """The sign-in form's token: the pre-session cookie's, or a new one."""
    return request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)


def set_login_csrf(response: Response, request: Request, state: ServerState, token: str) -> None:
    response.set_cookie(
        CSRF_COOKIE, token, httponly=True, secure=secure(request, state), samesite="strict"
    )


def same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))
