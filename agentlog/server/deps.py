"""FastAPI dependencies as `Annotated` aliases: who is calling, their team, their scoped store."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from agentlog.errors import AuthError, RateLimited
from agentlog.server.auth import Principal
from agentlog.server.ratelimit import check
from agentlog.server.state import ServerState
from agentlog.storage.accounts import AccountStore
from agentlog.storage.base import Store

# Declared for the OpenAPI document (the Authorize button in /docs); the header is parsed below.
_bearer = HTTPBearer(auto_error=False, description="An API key (al_…) or a JWT access token.")


def get_state(request: Request) -> ServerState:
    return request.app.state.agentlog


StateDep = Annotated[ServerState, Depends(get_state)]


def get_principal(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None,
) -> Principal:
    state: ServerState = request.app.state.agentlog
    client = request.client.host if request.client else None
    try:
        principal = state.auth.authenticate(request.headers.get("authorization"), client)
    except AuthError:
        state.metrics.auth_failures.inc()
        raise
    try:
        check(state.limiter, "p:" + principal.subject, state.settings.rate_limit_per_minute, "requests")
    except RateLimited:
        state.metrics.rate_limited.inc()
        raise
    request.state.principal = principal
    if state.usage.due():
        state.usage.flush()  # sync dependency: runs in the thread pool, not on the event loop
    return principal


CurrentUser = Annotated[Principal, Depends(get_principal)]


def get_team(principal: CurrentUser) -> str:
    return principal.team_id


TeamDep = Annotated[str, Depends(get_team)]


def get_store(principal: CurrentUser, state: StateDep) -> Store:
    return state.store.scoped(principal.team_id, principal.user_id)


StoreDep = Annotated[Store, Depends(get_store)]


def get_writable_store(principal: CurrentUser, state: StateDep) -> Store:
    principal.require_write()
    return state.store.scoped(principal.team_id, principal.user_id)


WritableStoreDep = Annotated[Store, Depends(get_writable_store)]


def require_admin(principal: CurrentUser) -> Principal:
    principal.require_admin()
    return principal


AdminUser = Annotated[Principal, Depends(require_admin)]


def get_accounts(state: StateDep) -> AccountStore:
    return state.accounts


AccountsDep = Annotated[AccountStore, Depends(get_accounts)]
