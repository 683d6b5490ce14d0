"""FastAPI dependencies as `Annotated` aliases: who is calling, their team, their scoped store."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from agentlog.errors import AuthError, Forbidden, NotFound, RateLimited
from agentlog.server import service
from agentlog.server.auth import Principal
from agentlog.server.ratelimit import MemoryLimiter, check
from agentlog.server.state import ServerState
from agentlog.storage.accounts import AccountStore
from agentlog.storage.base import Store
from agentlog.wire import TEAM_HEADER, USER_HEADER, WEB_COOKIE

# Declared for the OpenAPI document (the Authorize button in /docs); the header is parsed below.
_bearer = HTTPBearer(auto_error=False, description="An API key (al_…) or a JWT access token.")


async def get_state(request: Request) -> ServerState:
    return request.app.state.agentlog


StateDep = Annotated[ServerState, Depends(get_state)]


# Dependencies are `async def` when they do no I/O, so a request makes one trip to the
# thread pool (the route itself) instead of one per dependency; anything that may touch
# a database or Redis is sent to the thread pool explicitly.
async def get_principal(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None,
) -> Principal:
    state: ServerState = request.app.state.agentlog
    client = request.client.host if request.client else None
    header = request.headers.get("authorization")
    cookie = request.cookies.get(WEB_COOKIE) if request.method in ("GET", "HEAD") else None
    try:
        principal: Principal | None
        if header is None and cookie:
            # A signed-in browser (the web view; EventSource cannot send a header). Reads only:
            # a write needs a header, so a cookie alone can never change anything (no CSRF).
            principal = await run_in_threadpool(state.auth.from_web_cookie, cookie)
        else:
            principal = state.auth.peek(header, client)
        if principal is None:
            principal = await run_in_threadpool(state.auth.authenticate, header, client)
    except AuthError:
        state.metrics.auth_failures.inc()
        raise
    limit = state.settings.rate_limit_per_minute
    try:
        if isinstance(state.limiter, MemoryLimiter):
            check(state.limiter, "p:" + principal.subject, limit, "requests")
        else:
            await run_in_threadpool(
                check, state.limiter, "p:" + principal.subject, limit, "requests"
            )
    except RateLimited:
        state.metrics.rate_limited.inc()
        raise
    request.state.principal = principal
    if state.usage.due():
        await run_in_threadpool(state.usage.flush)
    return principal


CurrentUser = Annotated[Principal, Depends(get_principal)]


async def get_team(principal: CurrentUser) -> str:
    return principal.team_id


TeamDep = Annotated[str, Depends(get_team)]


def scope_for(request: Request, principal: Principal) -> tuple[str | None, str | None]:
    """The (team, user) a request's store is scoped to.

    Normally the caller's own team. The server owner may act for another team
    with `X-AgentLog-Team: <team id or name>` (`*` = every team, for
    migrations and backups) and record another author with `X-AgentLog-User`.
    A team admin may send them only for its own team and its own team's users
    (anything else is 403, whether or not that team or user exists); anyone
    else sending these headers gets 403.
    """
    team = request.headers.get(TEAM_HEADER)
    user = request.headers.get(USER_HEADER)
    if team is None and user is None:
        return principal.team_id, principal.user_id
    if not principal.is_admin:
        raise Forbidden(f"only admins may send {TEAM_HEADER} or {USER_HEADER}")
    state: ServerState = request.app.state.agentlog
    if principal.is_owner:
        if team == "*":
            team_id: str | None = None
        elif team:
            try:
                team_id = state.accounts.team_by_name(team).id
            except NotFound:
                team_id = team
        else:
            team_id = principal.team_id
        return team_id, user or principal.user_id
    # A team admin: only its own team, by id or name.
    if team and not service.is_team(state.accounts, principal.team_id, team):
        raise Forbidden(f"team admins act only for their own team; drop {TEAM_HEADER}")
    if user and user != principal.user_id:
        try:
            author = state.accounts.get_user(user)
        except (NotFound, ValueError):
            author = None
        if author is None or author.team_id != principal.team_id:
            raise Forbidden(f"{USER_HEADER} must name a user of your own team")
    return principal.team_id, user or principal.user_id


async def resolve_scope(request: Request, principal: Principal) -> tuple[str | None, str | None]:
    """`scope_for`, sent to the thread pool only when a team name must be looked up."""
    if request.headers.get(TEAM_HEADER) in (None, "*") and (
        principal.is_owner or request.headers.get(USER_HEADER) is None
    ):
        return scope_for(request, principal)
    return await run_in_threadpool(scope_for, request, principal)


async def get_store(request: Request, principal: CurrentUser, state: StateDep) -> Store:
    return state.store.scoped(*await resolve_scope(request, principal))


StoreDep = Annotated[Store, Depends(get_store)]


async def get_writable_store(request: Request, principal: CurrentUser, state: StateDep) -> Store:
    principal.require_write()
    return state.store.scoped(*await resolve_scope(request, principal))


WritableStoreDep = Annotated[Store, Depends(get_writable_store)]


async def require_admin(principal: CurrentUser) -> Principal:
    principal.require_admin()
    return principal


AdminUser = Annotated[Principal, Depends(require_admin)]


async def require_owner(principal: CurrentUser) -> Principal:
    principal.require_owner()
    return principal


OwnerUser = Annotated[Principal, Depends(require_owner)]


async def get_accounts(state: StateDep) -> AccountStore:
    return state.accounts


AccountsDep = Annotated[AccountStore, Depends(get_accounts)]
