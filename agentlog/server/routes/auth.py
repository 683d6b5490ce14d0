"""`/v1/auth`: log in with email and password for JWTs, refresh them, sign out, and ask who you are."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from agentlog.errors import RateLimited
from agentlog.server.common import json_response
from agentlog.server.deps import CurrentUser, StateDep
from agentlog.server.ratelimit import check
from agentlog.server.schemas import (
    ERROR_RESPONSES,
    LoginIn,
    LogoutIn,
    MeOut,
    RefreshIn,
    TokensOut,
)

router = APIRouter(prefix="/v1/auth", tags=["auth"], responses=ERROR_RESPONSES)


def _limit_logins(request: Request, state: StateDep) -> None:
    client = request.client.host if request.client else "unknown"
    try:
        check(
            state.limiter,
            "login:" + client,
            state.settings.login_limit_per_minute,
            "login attempts",
        )
    except RateLimited:
        state.metrics.rate_limited.inc()
        raise


@router.post("/login", response_model=TokensOut)
def login(body: LoginIn, request: Request, state: StateDep) -> Response:
    """Email + password → a short-lived access token and a refresh token."""
    _limit_logins(request, state)
    address = request.client.host if request.client else "unknown"
    try:
        return json_response(state.auth.login(body.email, body.password, address))
    except Exception:
        state.metrics.auth_failures.inc()
        raise


@router.post("/refresh", response_model=TokensOut)
def refresh(body: RefreshIn, request: Request, state: StateDep) -> Response:
    """A refresh token → a new access token and refresh token; the one sent stops working.

    Sending a refresh token a second time ends its sign-in everywhere (it may have been stolen).
    """
    _limit_logins(request, state)
    return json_response(state.auth.refresh(body.refresh_token))


@router.post("/logout", status_code=204, response_class=Response)
def logout(principal: CurrentUser, state: StateDep, body: LogoutIn | None = None) -> Response:
    """Sign out: this sign-in's access and refresh tokens stop working (`everywhere`: all of them).

    With an API key, only `everywhere` does something (it ends the key owner's
    sign-ins; revoke the key itself with DELETE /v1/api-keys/{id}).
    """
    state.auth.logout(principal, everywhere=(body or LogoutIn()).everywhere)
    return Response(status_code=204)


@router.get("/me", response_model=MeOut)
def me(principal: CurrentUser) -> Response:
    """Who these credentials belong to: user, team, role, and the key used."""
    return json_response(principal.public())
