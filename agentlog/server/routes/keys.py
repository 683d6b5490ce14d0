"""`/v1/api-keys`: create (secret shown once), list, rotate and revoke API keys.

Anyone may manage their own keys; a team admin manages its team's keys (and
makes keys for its team's users); the server owner manages every key and may
make keys for any team. A key the caller may not manage answers 404, like a
missing one.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from agentlog.errors import Forbidden, NotFound
from agentlog.server import service
from agentlog.server.auth import Principal
from agentlog.server.common import check_id, json_response
from agentlog.server.deps import CurrentUser, StateDep
from agentlog.server.schemas import ERROR_RESPONSES, KeyCreateIn, KeyOut, KeyRotateIn, KeySecretOut
from agentlog.server.state import ServerState
from agentlog.storage.accounts import ApiKey

router = APIRouter(prefix="/v1/api-keys", tags=["api-keys"], responses=ERROR_RESPONSES)


def _visible_key(state: ServerState, principal: Principal, key_id: str) -> ApiKey:
    kid = check_id(key_id, "API key")
    try:
        key = state.accounts.get_key(kid)
    except NotFound:
        raise NotFound(f"no API key with id {kid}") from None
    if key.user_id != principal.user_id and not principal.manages(key.team_id):
        raise NotFound(f"no API key with id {kid}")
    return key


@router.post("", status_code=201, response_model=KeySecretOut)
def create_key(body: KeyCreateIn, principal: CurrentUser, state: StateDep) -> Response:
    """A new API key for you (team admins: for their team's users; the owner: any). Shown only here."""
    accounts = state.accounts
    if (body.team or body.user_id) and not principal.is_admin:
        raise Forbidden("only admins may create keys for another user or team")
    team = (
        service.team_for(accounts, body.team, create=False)
        if body.team and principal.is_owner
        else accounts.get_team(principal.team_id)
    )
    if body.team and not principal.is_owner and not service.is_team(accounts, team.id, body.team):
        raise Forbidden("team admins create keys for their own team only; drop team")
    if body.user_id:
        try:
            user = accounts.get_user(body.user_id)
        except NotFound:
            user = None
        if user is None or not principal.manages(user.team_id):
            raise NotFound(f"no user with id {body.user_id}")
    else:
        user = accounts.get_user(principal.user_id)
    new = service.create_key(accounts, user, team, body.label, principal.actor)
    return json_response(new.public(), 201)


@router.get("", response_model=list[KeyOut])
def list_keys(
    principal: CurrentUser,
    state: StateDep,
    team: Annotated[str | None, Query(max_length=200, description="Team name (admins).")] = None,
) -> Response:
    """Your keys (team admins: your team's; the owner: every key, or one team's), never secrets."""
    if principal.is_owner:
        team_id = service.team_for(state.accounts, team, create=False).id if team else None
        keys = state.accounts.list_keys(team_id=team_id)
    elif principal.is_admin:
        if team and not service.is_team(state.accounts, principal.team_id, team):
            raise Forbidden("team admins see only their own team's keys; drop ?team=")
        keys = state.accounts.list_keys(team_id=principal.team_id)
    else:
        keys = state.accounts.list_keys(user_id=principal.user_id)
    return json_response([k.public() for k in keys])


@router.post("/{key_id}/rotate", response_model=KeySecretOut)
def rotate_key(
    key_id: str, principal: CurrentUser, state: StateDep, body: KeyRotateIn | None = None
) -> Response:
    """A new secret for the key's owner and team; the old one stops working (after `grace_seconds`)."""
    key = _visible_key(state, principal, key_id)
    new = service.rotate_key(
        state.accounts, key.id, (body or KeyRotateIn()).grace_seconds, principal.actor
    )
    state.auth.forget()
    return json_response(new.public())


@router.delete("/{key_id}", response_model=KeyOut)
def revoke_key(key_id: str, principal: CurrentUser, state: StateDep) -> Response:
    """Revoke a key at once."""
    key = _visible_key(state, principal, key_id)
    revoked = state.accounts.revoke_key(key.id, actor=principal.actor)
    state.auth.forget()
    return json_response(revoked.public())
