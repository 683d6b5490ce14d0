"""The web pages: sign in and out, sessions, one session's timeline; every page reads without JS."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, RedirectResponse, Response

from agentlog.errors import AgentLogError, AuthError, InvalidInput, NotFound, RateLimited
from agentlog.model import EventType, SessionStatus, normalize_id, utcnow
from agentlog.server import service
from agentlog.server.auth import Principal
from agentlog.server.state import ServerState
from agentlog.server.web import signin
from agentlog.server.web.render import HEADERS, STATIC, page
from agentlog.storage.base import EventQuery, SessionQuery, Store, event_cursor, redact_url
from agentlog.wire import WEB_COOKIE

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
EVENT_PAGE = 100  # bench/bench_web.py: the first page of a 100k timeline stays < 200 KB
Text = Annotated[str | None, Query(max_length=1000)]


def _state(request: Request) -> ServerState:
    return request.app.state.agentlog


def _principal(request: Request) -> Principal | None:
    cookie = request.cookies.get(WEB_COOKIE)
    if not cookie:
        return None
    try:
        return _state(request).auth.from_web_cookie(cookie)
    except (AuthError, NotFound):
        return None


def _to_login(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    response = RedirectResponse("/login?" + urlencode({"next": target}), 303)
    signin.clear_session(response)
    return response


async def _form(request: Request) -> dict[str, str]:
    body = (await request.body()).decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}


def _local(target: str | None) -> str:
    """Only a path on this server (never //elsewhere or a scheme): no open redirect."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/sessions"


def unknown_choice(name: str, value: str, choices: list[str]) -> str:
    """The message for a filter value outside its fixed set: what was wrong and the valid ones."""
    return f"unknown {name} {value!r}; use one of {', '.join(choices)}"


def _context(request: Request, principal: Principal, **extra: Any) -> dict[str, Any]:
    return {
        "me": principal,
        "csrf": signin.session_csrf(_state(request), principal),
        **extra,
    }


def _not_found(request: Request, principal: Principal | None, what: str) -> Response:
    ctx: dict[str, Any] = _context(request, principal) if principal else {"me": None, "csrf": ""}
    return page("error.html", 404, title="Not found", message=what, **ctx)


def web_not_found(request: Request, what: str) -> Response:
    """The web 404 page for any path, signed in (with the nav) or not."""
    return _not_found(request, _principal(request), what)


def _sso(request: Request, next: str) -> tuple[str, str] | None:
    """(button text, link) of OpenID Connect sign-in for the sign-in page, or None when off."""
    config = _state(request).settings.oidc
    if not config.enabled:
        return None
    return f"Sign in with {config.label}", "/login/oidc?" + urlencode({"next": next})


# ---------------------------------------------------------------- sign in / out
@router.get("/favicon.ico")
def favicon() -> Response:
    """Browsers ask every page for it; a tiny SVG answers instead of a 404 in the console."""
    return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")


@router.get("/")
def home(request: Request) -> Response:
    return RedirectResponse("/sessions" if _principal(request) else "/login", 303)


@router.get("/login")
def login_page(request: Request, next: Text = None) -> Response:
    token = signin.login_csrf(request)
    target = _local(next)
    response = page(
        "login.html",
        csrf=token,
        next=target,
        error=None,
        email="",
        me=None,
        sso=_sso(request, target),
    )
    signin.set_login_csrf(response, request, _state(request), token)
    return response


@router.post("/login")
async def login(request: Request) -> Response:
    state = _state(request)
    form = await _form(request)
    token = request.cookies.get(signin.CSRF_COOKIE)
    if not signin.same(token, form.get("csrf")):
        return page(
            "error.html",
            403,
            title="Refused",
            me=None,
            csrf="",
            message="the sign-in form expired or came from another site; reload it and try again",
        )
    email, password = form.get("email", "").strip(), form.get("password", "")
    address = request.client.host if request.client else "unknown"
    try:
        cookie = await run_in_threadpool(signin.sign_in, state, email, password, address)
    except (AuthError, RateLimited, InvalidInput) as exc:
        status = 429 if isinstance(exc, RateLimited) else 401
        response = page(
            "login.html",
            status,
            csrf=token,
            next=_local(form.get("next")),
            error=exc.message,
            email=email,
            me=None,
            sso=_sso(request, _local(form.get("next"))),
        )
        retry = (exc.details or {}).get("retry_after") if isinstance(exc, RateLimited) else None
        if isinstance(retry, int):
            response.headers["Retry-After"] = str(retry)  # as every rate-limited API answer
        return response
    done = RedirectResponse(_local(form.get("next")), 303)
    done.headers.update(HEADERS)
    signin.set_session(done, request, state, cookie)
    done.delete_cookie(signin.CSRF_COOKIE)
    return done


@router.post("/logout")
async def logout(request: Request) -> Response:
    principal = _principal(request)
    if principal is None:
        return _to_login(request)
    form = await _form(request)
    if not signin.same(form.get("csrf"), signin.session_csrf(_state(request), principal)):
        return page(
            "error.html",
            403,
            title="Refused",
            message="the form expired; reload the page",
            **_context(request, principal),
        )
    await run_in_threadpool(_state(request).auth.logout, principal)
    response = RedirectResponse("/login", 303)
    signin.clear_session(response)
    return response


# ---------------------------------------------------------------- sessions
@router.get("/sessions")
def sessions_page(
    request: Request, q: Text = None, status: Text = None, agent: Text = None, cursor: Text = None
) -> Response:
    principal = _principal(request)
    if principal is None:
        return _to_login(request)
    store = _state(request).store.scoped(principal.team_id, principal.user_id)
    statuses = [s.value for s in SessionStatus]
    error, code = None, 200
    try:
        if status and status not in statuses:
            code = 400
            raise InvalidInput(unknown_choice("status", status, statuses))
        chosen = SessionStatus(status) if status else None
        result = store.list_sessions(
            SessionQuery(
                status=chosen,
                text=q or None,
                agent=agent or None,
                limit=PAGE_SIZE,
                cursor=cursor or None,
            )
        )
        items, next_cursor = result.items, result.next_cursor
    except (AgentLogError, ValueError) as exc:
        items, next_cursor, error = [], None, getattr(exc, "message", str(exc))
    from agentlog import present

    now = utcnow()
    rows = [(s, present.session_state(s, now)) for s in items]
    filters = {k: v for k, v in {"q": q, "status": status, "agent": agent}.items() if v}
    teamless = None
    if not rows and not filters and not cursor and principal.is_admin:
        teamless = _teamless_hint(request, principal)
    more = "/sessions?" + urlencode({**filters, "cursor": next_cursor}) if next_cursor else None
    return page(
        "sessions.html",
        code,
        rows=rows,
        q=q or "",
        status=status or "",
        agent=agent or "",
        statuses=statuses,
        more=more,
        error=error,
        teamless=teamless,
        **_context(request, principal),
    )


def _teamless_hint(request: Request, principal: Principal) -> str | None:
    """For an admin's empty list: the sessions of this store that no team holds, and how to
    bring them in (the line `agentlog serve` printed at start); None when there are none."""
    state = _state(request)
    count = service.teamless_sessions(state.store)
    if not count:
        return None
    # The store's address is the server's business: only the owner sees it.
    db = redact_url(state.settings.db) if principal.is_owner else "<the store it serves>"
    return service.teamless_hint(count, db, str(request.base_url).rstrip("/"))


def _page_holding(store: Store, query: EventQuery, event_id: str) -> str | None:
    """The cursor of the page of `query` that holds `event_id` (None: the first page).

    The same key-set cursors "Next events →" follows, so the page starts where paging
    from the top would start it. An id not in the (filtered) timeline opens page one.
    """
    keys = store.event_keys(query)
    index = next((i for i, (_, key_id) in enumerate(keys) if key_id == event_id), None)
    start = (index // query.limit) * query.limit if index is not None else 0
    return event_cursor(query, *keys[start - 1]) if start else None


@router.get("/s/{session_id}")
def session_page(
    request: Request,
    session_id: str,
    type: Annotated[list[str] | None, Query()] = None,
    agent: Text = None,
    q: Text = None,
    cursor: Text = None,
    at: Text = None,
) -> Response:
    principal = _principal(request)
    if principal is None:
        return _to_login(request)
    store = _state(request).store.scoped(principal.team_id, principal.user_id)
    try:
        sid = normalize_id(session_id, "session")
        session = store.get_session(sid)
    except (NotFound, ValueError):
        return _not_found(request, principal, "no such session in your team")
    names = [e.value for e in EventType]
    types = [EventType(t) for t in (type or []) if t in names]
    wrong = [t for t in (type or []) if t not in names]
    error, code = None, 200
    try:
        if wrong:
            code = 400
            raise InvalidInput(unknown_choice("event type", wrong[0], names))
        query = EventQuery(
            session_id=sid,
            types=types or None,
            agents=[agent] if agent else None,
            text=q or None,
            limit=EVENT_PAGE,
        )
        if at and not cursor:
            cursor = _page_holding(store, query, at)
        result = store.list_events(replace(query, cursor=cursor or None))
        events, next_cursor = result.items, result.next_cursor
    except (AgentLogError, ValueError) as exc:
        events, next_cursor, error = [], None, getattr(exc, "message", str(exc))
    children = store.list_sessions(SessionQuery(parent_session_id=sid, limit=100)).items
    parent = None
    if session.parent_session_id:
        try:
            parent = store.get_session(session.parent_session_id)
        except NotFound:
            parent = None
    filters: dict[str, object] = {k: v for k, v in {"agent": agent, "q": q}.items() if v}
    if types:
        filters["type"] = [t.value for t in types]
    more = (
        f"/s/{sid}?" + urlencode({**filters, "cursor": next_cursor}, doseq=True)
        if next_cursor
        else None
    )
    live = session.status is SessionStatus.ACTIVE and not filters and not more and not cursor
    first_page = f"/s/{sid}?" + urlencode(filters, doseq=True) if cursor else None
    return page(
        "session.html",
        code,
        live=live,
        session=session,
        events=events,
        children=children,
        parent=parent,
        types=[e.value for e in EventType],
        chosen=[t.value for t in types],
        agent=agent or "",
        q=q or "",
        more=more,
        first_page=first_page,
        error=error,
        **_context(request, principal),
    )
