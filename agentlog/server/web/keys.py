"""The web view's API keys page: your keys, a new one (its secret shown once), rotate, revoke."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from agentlog.errors import NotFound
from agentlog.server import service
from agentlog.server.routes.keys import _visible_key
from agentlog.server.web import signin
from agentlog.server.web.render import page
from agentlog.server.web.routes import _context, _form, _not_found, _principal, _state, _to_login

router = APIRouter(include_in_schema=False)
MAX_LABEL = 200


def _keys_page(request: Request, code: int = 200, **extra: object) -> Response:
    principal = _principal(request)
    assert principal is not None
    keys = _state(request).accounts.list_keys(user_id=principal.user_id)
    keys.sort(key=lambda k: k.created_at, reverse=True)
    extra.setdefault("secret", None)
    extra.setdefault("error", None)
    extra.setdefault("rotated", False)
    return page("keys.html", code, keys=keys, **_context(request, principal, **extra))


@router.get("/keys")
def keys_page(request: Request) -> Response:
    if _principal(request) is None:
        return _to_login(request)
    return _keys_page(request)


def _refused(request: Request) -> Response:
    return _keys_page(request, 403, error="the form expired; reload the page and try again")


@router.post("/keys")
async def create_key(request: Request) -> Response:
    principal = _principal(request)
    if principal is None:
        return _to_login(request)
    form = await _form(request)
    state = _state(request)
    if not signin.same(form.get("csrf"), signin.session_csrf(state, principal)):
        return _refused(request)
    label = form.get("label", "").strip()
    if not label or len(label) > MAX_LABEL:
        return _keys_page(
            request, 422, error=f"give the key a label of 1 to {MAX_LABEL} characters"
        )

    def make() -> service.NewKey:
        accounts = state.accounts
        user = accounts.get_user(principal.user_id)
        return service.create_key(
            accounts, user, accounts.get_team(principal.team_id), label, principal.actor
        )

    new = await run_in_threadpool(make)
    return _keys_page(request, 201, secret=new.secret, created=new.key)


@router.post("/keys/{key_id}/revoke")
async def revoke_key(request: Request, key_id: str) -> Response:
    principal = _principal(request)
    if principal is None:
        return _to_login(request)
    form = await _form(request)
    state = _state(request)
    if not signin.same(form.get("csrf"), signin.session_csrf(state, principal)):
        return _refused(request)
    try:
        key = _visible_key(state, principal, key_id)
    except NotFound:
        return _not_found(request, principal, "no such API key")
    await run_in_threadpool(state.accounts.revoke_key, key.id, actor=principal.actor)
    state.auth.forget()
    return RedirectResponse("/keys", 303)


@router.post("/keys/{key_id}/rotate")
async def rotate_key(request: Request, key_id: str) -> Response:
    """A new secret for the key, shown once; the old secret stops working at once."""
    principal = _principal(request)
    if principal is None:
        return _to_login(request)
    form = await _form(request)
    state = _state(request)
    if not signin.same(form.get("csrf"), signin.session_csrf(state, principal)):
        return _refused(request)
    try:
        key = _visible_key(state, principal, key_id)
    except NotFound:
        return _not_found(request, principal, "no such API key")
    new = await run_in_threadpool(service.rotate_key, state.accounts, key.id, 0, principal.actor)
    state.auth.forget()
    return _keys_page(request, 200, secret=new.secret, created=new.key, rotated=True)
