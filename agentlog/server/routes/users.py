"""`/v1/users`, `/v1/teams`, `/v1/audit`, `/v1/retention`: account management, erasure, retention.

The server owner manages every team; a team admin manages its own team only:
another team's users answer 404 like missing ones, and it can neither make an
owner, move a user to another team, nor change an owner.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.responses import Response

from agentlog.errors import Forbidden, InvalidCursor, NotFound, UsageError
from agentlog.model import from_us, to_us
from agentlog.server import service
from agentlog.server.auth import Principal
from agentlog.server.common import check_id, json_response
from agentlog.server.deps import AdminUser, CurrentUser, OwnerUser, StateDep
from agentlog.server.passwords import hash_password
from agentlog.server.schemas import (
    ERROR_RESPONSES,
    AuditOut,
    RetentionOut,
    TeamIn,
    TeamOut,
    TeamUpdateIn,
    UserCreatedOut,
    UserCreateIn,
    UserErasedOut,
    UserEraseIn,
    UserOut,
    UserUpdateIn,
)
from agentlog.server.state import ServerState
from agentlog.storage.accounts import Role, User
from agentlog.storage.base import decode_cursor, encode_cursor
from agentlog.wire import NEXT_CURSOR_HEADER

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)
TeamName = Annotated[str | None, Query(max_length=200, description="Team name.")]


def _team_scope(state: ServerState, admin: Principal, team: str | None) -> str | None:
    """The team a list is limited to: the owner's choice (None = all), a team admin's own team."""
    if admin.is_owner:
        return service.team_for(state.accounts, team, create=False).id if team else None
    if team and not _is_own_team(state, admin, team):
        raise Forbidden("team admins see only their own team; drop ?team=")
    return admin.team_id


def _is_own_team(state: ServerState, admin: Principal, team: str) -> bool:
    return service.is_team(state.accounts, admin.team_id, team)


def _managed_user(state: ServerState, admin: Principal, user_id: str) -> User:
    """A user the caller administers; another team's answers 404 exactly like a missing one."""
    uid = check_id(user_id, "user")
    try:
        user = state.accounts.get_user(uid)
    except NotFound:
        raise NotFound(f"no user with id {uid}") from None
    if not admin.manages(user.team_id):
        raise NotFound(f"no user with id {uid}")
    return user


def _check_role_grant(admin: Principal, role: Role) -> None:
    if role is Role.OWNER and not admin.is_owner:
        raise Forbidden("only the server owner may make another owner")


@router.get("/users", tags=["users"], response_model=list[UserOut])
def list_users(admin: AdminUser, state: StateDep, team: TeamName = None) -> Response:
    """Every user (the owner; or one team's), or your own team's (team admins)."""
    team_id = _team_scope(state, admin, team)
    return json_response([u.public() for u in state.accounts.list_users(team_id)])


@router.post(
    "/users",
    tags=["users"],
    status_code=201,
    response_model=UserCreatedOut,
    responses={409: {"description": "A user with this email already exists"}},
)
def create_user(body: UserCreateIn, admin: AdminUser, state: StateDep) -> Response:
    """A new user; the owner may name any team (created if missing), a team admin only its own.

    Without a password one is generated and shown once.
    """
    role = Role.parse(body.role)
    _check_role_grant(admin, role)
    if body.team and not admin.is_owner and not _is_own_team(state, admin, body.team):
        raise Forbidden("team admins add users to their own team only; drop team")
    team = (
        service.team_for(state.accounts, body.team, create=True, actor=admin.actor)
        if body.team and admin.is_owner
        else state.accounts.get_team(admin.team_id)
    )
    new = service.create_user(
        state.accounts,
        body.email,
        password=body.password,
        role=role,
        team=team,
        actor=admin.actor,
    )
    return json_response({**new.user.public(), "generated_password": new.generated_password}, 201)


@router.get("/users/{user_id}", tags=["users"], response_model=UserOut)
def get_user(user_id: str, admin: AdminUser, state: StateDep) -> Response:
    return json_response(_managed_user(state, admin, user_id).public())


@router.patch("/users/{user_id}", tags=["users"], response_model=UserOut)
def update_user(user_id: str, body: UserUpdateIn, admin: AdminUser, state: StateDep) -> Response:
    """Change a user's role, team or password, or disable them (their keys are revoked).

    A password, role or team change, or disabling, signs the user out everywhere.
    """
    return json_response(change_user(state, admin, user_id, body).public())


def unchangeable(admin: Principal, target: User) -> str | None:
    """Why `admin` can change neither the role nor the state of `target` (None: they can);
    the web's members page shows it instead of buttons that `change_user` would refuse."""
    if target.id == admin.user_id:
        return "you: another admin changes your role or removes you"
    if target.role is Role.OWNER and not admin.is_owner:
        return "owner: only the server owner changes an owner"
    return None


def change_user(state: ServerState, admin: Principal, user_id: str, body: UserUpdateIn) -> User:
    """The rules of a user change (shared by `PATCH /v1/users/{id}` and the web's members page).

    Another team's user answers 404; nobody disables or demotes themself; only the owner
    makes or changes an owner; a team admin moves nobody to another team.
    """
    target = _managed_user(state, admin, user_id)
    uid = target.id
    role = Role.parse(body.role) if body.role else None
    if uid == admin.user_id and (body.disabled or (role is not None and role is not admin.role)):
        raise UsageError("you cannot disable or demote yourself; ask another admin")
    if role is not None:
        _check_role_grant(admin, role)
    if target.role is Role.OWNER and not admin.is_owner:
        raise Forbidden("only the server owner may change an owner")
    team_id = None
    if body.team:
        if not admin.is_owner and not _is_own_team(state, admin, body.team):
            raise Forbidden("team admins cannot move users to another team")
        team_id = service.team_for(state.accounts, body.team, create=False).id
    user = state.accounts.update_user(
        uid,
        role=role,
        team_id=team_id,
        disabled=body.disabled,
        password_hash=hash_password(service.check_password(body.password, email=target.email))
        if body.password
        else None,
        actor=admin.actor,
    )
    state.auth.forget()
    return user


@router.post("/users/{user_id}:erase", tags=["users"], response_model=UserErasedOut)
def erase_user(user_id: str, body: UserEraseIn, admin: AdminUser, state: StateDep) -> Response:
    """Erase a user (GDPR): their sessions deleted or transferred to the team, their API keys
    deleted, their audit entries pseudonymised; the erasure is audited under the pseudonym."""
    target = _managed_user(state, admin, user_id)
    if target.id == admin.user_id:
        raise UsageError("you cannot erase yourself; ask another admin")
    if target.role is Role.OWNER and not admin.is_owner:
        raise Forbidden("only the server owner may erase an owner")
    # The owner's erasure reaches every team the user ever wrote into (a user may have
    # moved); a team admin's, its own team's sessions.
    view = state.store if admin.is_owner else state.store.scoped(target.team_id, admin.user_id)
    result = service.erase_user(view, state.accounts, target, body.sessions, admin.actor)
    state.auth.forget()
    return json_response(result)


@router.get("/teams", tags=["teams"], response_model=list[TeamOut])
def list_teams(principal: CurrentUser, state: StateDep) -> Response:
    """Every team (the server owner) or your own."""
    if principal.is_owner:
        return json_response([t.public() for t in state.accounts.list_teams()])
    return json_response([state.accounts.get_team(principal.team_id).public()])


@router.post(
    "/teams",
    tags=["teams"],
    status_code=201,
    response_model=TeamOut,
    responses={409: {"description": "A team with this name already exists"}},
)
def create_team(body: TeamIn, owner: OwnerUser, state: StateDep) -> Response:
    """A new team (the server owner only)."""
    return json_response(state.accounts.create_team(body.name, owner.actor).public(), 201)


@router.patch("/teams/{team_id}", tags=["teams"], response_model=TeamOut)
def update_team(team_id: str, body: TeamUpdateIn, admin: AdminUser, state: StateDep) -> Response:
    """Set how long the team keeps its sessions (`retention_days`; null: for ever).

    The server owner sets any team's, a team admin its own. The server erases sessions idle
    for longer on its next retention run (`serve.retention_interval_seconds`).
    """
    tid = check_id(team_id, "team")
    if not admin.manages(tid):
        raise NotFound(f"no team with id {tid}")
    team = state.accounts.set_team_retention(tid, body.retention_days, admin.actor)
    return json_response(team.public())


@router.post("/retention:apply", tags=["teams"], response_model=RetentionOut)
def apply_retention(owner: OwnerUser, state: StateDep) -> Response:
    """Apply every team's retention now (the server also does it periodically): erase sessions
    idle past their team's horizon, drop whole months of events past every team's (PostgreSQL)."""
    from pathlib import Path

    from agentlog.server.retention import apply_retention as run

    folder = state.settings.retention_archive_dir
    report = run(
        state.store,
        state.accounts,
        archive_dir=Path(folder) if folder else None,
        actor=owner.actor,
    )
    return json_response(report.public())


@router.get("/audit", tags=["audit"], response_model=list[AuditOut])
def audit(
    admin: AdminUser,
    state: StateDep,
    team: TeamName = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[
        str | None,
        Query(description="The previous page's `X-Next-Cursor` header: the entries older than it."),
    ] = None,
) -> Response:
    """The newest audit entries: erasures, key and user changes, logins (team admins: their team's).

    Newest first. When older entries remain, the answer's `X-Next-Cursor` header is the
    `cursor` that pages on (the body stays a plain array)."""
    team_id = _team_scope(state, admin, team)
    fingerprint = f"audit:{team_id or ''}"
    before = None if cursor is None else _audit_position(decode_cursor(cursor, fingerprint))
    entries = state.accounts.list_audit(team_id=team_id, limit=limit + 1, before=before)
    response = json_response([e.public() for e in entries[:limit]])
    if len(entries) > limit:
        last = entries[limit - 1]
        response.headers[NEXT_CURSOR_HEADER] = encode_cursor(fingerprint, [to_us(last.at), last.id])
    return response


def _audit_position(key: list[Any]) -> tuple[datetime, str]:
    """(time, id) of the last entry a cursor's page showed, or InvalidCursor."""
    if len(key) == 2 and type(key[0]) is int and isinstance(key[1], str):
        try:
            return from_us(key[0]), key[1]
        except (OverflowError, ValueError, OSError):
            pass
    raise InvalidCursor(
        "the cursor is not valid; use the X-Next-Cursor header of the previous page"
    )
