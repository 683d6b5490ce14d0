"""The web view's API keys page: your keys, a new one (its secret shown once), rotate, revoke.

Creating and rotating answer with a 303 to `GET /keys` (Post/Redirect/Get), so a reload
neither makes a second key nor re-posts a rotation of a key that is now revoked. The new
secret crosses the redirect in a flash cookie: encrypted with a key derived from the
signing key, HttpOnly, SameSite=Strict, scoped to /keys, bound to the sign-in that made
it, good for a few minutes and deleted by the page that shows it. A cookie rather than
server memory because `serve --workers` may answer the GET from another process; never a
URL, which lands in access logs and history.
"""

from __future__ import annotations

import base64
import hashlib

import orjson
from cryptography.fernet import Fernet, InvalidToken
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from agentlog.errors import NotFound
from agentlog.server import service
from agentlog.server.auth import Principal
from agentlog.server.routes.keys import _visible_key
from agentlog.server.web import signin
from agentlog.server.web.render import page
from agentlog.server.web.routes import _context, _form, _not_found, _principal, _state, _to_login
from agentlog.storage.accounts import ApiKey

router = APIRouter(include_in_schema=False)
MAX_LABEL = 200
FLASH_COOKIE = "agentlog_new_key"
FLASH_SECONDS = 300


def _fernet(request: Request) -> Fernet:
    secret = _state(request).keyring.signing_key.secret.encode()
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"key-flash:" + secret).digest()))


def _shown_once(request: Request, new: service.NewKey, rotated: bool) -> Response:
    """The 303 to the keys page, carrying the new secret in the sealed flash cookie."""
    principal = _principal(request)
    assert principal is not None
    flash = {
        "fam": principal.family,
        "secret": new.secret,
        "label": new.key.label,
        "rotated": rotated,
    }
    response = RedirectResponse("/keys", 303)
    response.set_cookie(
        FLASH_COOKIE,
        _fernet(request).encrypt(orjson.dumps(flash)).decode(),
        max_age=FLASH_SECONDS,
        path="/keys",
        httponly=True,
        secure=signin.secure(request, _state(request)),
        samesite="strict",
    )
    return response


def _take_flash(request: Request) -> dict[str, object] | None:
    """The flash of this sign-in's last new key, or None (absent, expired, another sign-in's)."""
    sealed = request.cookies.get(FLASH_COOKIE)
    principal = _principal(request)
    if not sealed or principal is None:
        return None
    try:
        flash = orjson.loads(_fernet(request).decrypt(sealed.encode(), ttl=FLASH_SECONDS))
    except (InvalidToken, orjson.JSONDecodeError):
        return None
    if not isinstance(flash, dict) or flash.get("fam") != principal.family:
        return None
    return flash


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
    flash = _take_flash(request)
    if flash is None:
        response = _keys_page(request)
    else:
        response = _keys_page(
            request,
            secret=flash["secret"],
            created={"label": flash["label"]},
            rotated=bool(flash["rotated"]),
        )
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE, path="/keys", httponly=True, samesite="strict")
    return response


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
    return _shown_once(request, new, rotated=False)


def _confirm_revoke(request: Request, principal: Principal, key: ApiKey) -> Response:
    """The page that asks before a key is revoked: its form posts again with confirm=yes."""
    return page(
        "confirm.html",
        title="Revoke API key",
        question=f"Revoke the key {key.label} ({key.prefix}…)?",
        consequence="Every program using it is refused from then on. This cannot be undone; "
        "rotating instead gives the key a new secret.",
        action=f"/keys/{key.id}/revoke",
        button="Revoke key",
        back="/keys",
        **_context(request, principal),
    )


@router.get("/keys/{key_id}/revoke")
def revoke_key_page(request: Request, key_id: str) -> Response:
    """Revoke asks first: this page changes nothing (a link or a reload may land here)."""
    principal = _principal(request)
    if principal is None:
        return _to_login(request)
    try:
        key = _visible_key(_state(request), principal, key_id)
    except NotFound:
        return _not_found(request, principal, "no such API key")
    if key.revoked_at:
        return RedirectResponse("/keys", 303)
    return _confirm_revoke(request, principal, key)


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
    if form.get("confirm") != "yes":  # a form from before the confirmation step
        return _confirm_revoke(request, principal, key)
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
    return _shown_once(request, new, rotated=True)
