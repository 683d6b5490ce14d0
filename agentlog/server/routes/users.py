"""`/v1/users`, `/v1/teams`, `/v1/audit`: account management for admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from agentlog.errors import UsageError
from agentlog.server import service
from agentlog.server.common import check_id, json_response
from agentlog.server.deps import AdminUser, CurrentUser, StateDep
from agentlog.server.passwords import hash_password
from agentlog.server.schemas import (
    ERROR_RESPONSES,
    AuditOut,
    TeamIn,
    TeamOut,
    UserCreatedOut,
    UserCreateIn,
    UserOut,
    UserUpdateIn,
)
from agentlog.storage.accounts import Role

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)
TeamName = Annotated[str | None, Query(max_length=200, description="Team name.")]


@router.get("/users", tags=["users"], response_model=list[UserOut])
def list_users(admin: AdminUser, state: StateDep, team: TeamName = None) -> Response:
    """Every user (or one team's)."""
    team_id = service.team_for(state.accounts, team, create=False).id if team else None
    return json_response([u.public() for u in state.accounts.list_users(team_id)])


@router.post("/users", tags=["users"], status_code=201, response_model=UserCreatedOut)
def create_user(body: UserCreateIn, admin: AdminUser, state: StateDep) -> Response:
    """A new user in a team (created if missing); without a password one is generated and shown once."""
    team = (
        service.team_for(state.accounts, body.team, create=True, actor=admin.actor)
        if body.team
        else state.accounts.get_team(admin.team_id)
    )
    new = service.create_user(
        state.accounts,
        body.email,
        password=body.password,
        role=Role.parse(body.role),
        team=team,
        actor=admin.actor,
    )
    return json_response({**new.user.public(), "generated_password": new.generated_password}, 201)


@router.get("/users/{user_id}", tags=["users"], response_model=UserOut)
def get_user(user_id: str, admin: AdminUser, state: StateDep) -> Response:
    return json_response(state.accounts.get_user(check_id(user_id, "user")).public())


@router.patch("/users/{user_id}", tags=["users"], response_model=UserOut)
def update_user(user_id: str, body: UserUpdateIn, admin: AdminUser, state: StateDep) -> Response:
    """Change a user's role, team or password, or disable them (their keys are revoked)."""
    uid = check_id(user_id, "user")
    if uid == admin.user_id and (
        body.disabled or (body.role and Role.parse(body.role) is not Role.ADMIN)
    ):
        raise UsageError("you cannot disable or demote yourself; ask another admin")
    team_id = service.team_for(state.accounts, body.team, create=False).id if body.team else None
    user = state.accounts.update_user(
        uid,
        role=Role.parse(body.role) if body.role else None,
        team_id=team_id,
        disabled=body.disabled,
        password_hash=hash_password(service.check_password(body.password))
        if body.password
        else None,
        actor=admin.actor,
    )
    state.auth.forget()
    return json_response(user.public())


@router.get("/teams", tags=["teams"], response_model=list[TeamOut])
def list_teams(principal: CurrentUser, state: StateDep) -> Response:
    """Every team (admins) or your own."""
    if principal.is_admin:
        return json_response([t.public() for t in state.accounts.list_teams()])
    return json_response([state.accounts.get_team(principal.team_id).public()])


@router.post("/teams", tags=["teams"], status_code=201, response_model=TeamOut)
def create_team(body: TeamIn, admin: AdminUser, state: StateDep) -> Response:
    return json_response(state.accounts.create_team(body.name, admin.actor).public(), 201)


@router.get("/audit", tags=["audit"], response_model=list[AuditOut])
def audit(
    admin: AdminUser,
    state: StateDep,
    team: TeamName = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    """The newest audit entries: erasures, key and user changes, logins."""
    team_id = service.team_for(state.accounts, team, create=False).id if team else None
    return json_response(
        [e.public() for e in state.accounts.list_audit(team_id=team_id, limit=limit)]
    )
