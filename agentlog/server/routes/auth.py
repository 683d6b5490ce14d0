"""`/v1/auth`: log in with email and password for JWTs, refresh them, and ask who you are."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from agentlog.errors import RateLimited
from agentlog.server.common import json_response
from agentlog.server.deps import CurrentUser, StateDep
from agentlog.server.ratelimit import check
from agentlog.server.schemas import ERROR_RESPONSES, LoginIn, MeOut, RefreshIn, TokensOut

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
    try:
        return json_response(state.auth.login(body.email, body.password))
    except Exception:
        state.metrics.auth_failures.inc()
        raise


@router.post("/refresh", response_model=TokensOut)
def refresh(body: RefreshIn, request: Request, state: StateDep) -> Response:
    """A refresh token → a new access token and refresh token."""
    _limit_logins(request, state)
    return json_response(state.auth.refresh(body.refresh_token))


@router.get("/me", response_model=MeOut)
def me(principal: CurrentUser) -> Response:
    """Who these credentials belong to: user, team, role, and the key used."""
    return json_response(principal.public())
