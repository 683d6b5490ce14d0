"""The web view's compare page: two sessions' steps aligned as the TUI aligns them, first divergence marked."""

from __future__ import annotations

from itertools import islice

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from agentlog.cli.resolve import resolve_session_id
from agentlog.compare import align
from agentlog.errors import NotFound, UsageError
from agentlog.server.web.render import page
from agentlog.server.web.routes import Text, _context, _not_found, _principal, _state, _to_login
from agentlog.storage.base import EventQuery, SessionQuery, iter_events

router = APIRouter(include_in_schema=False)
MAX_STEPS = 2000  # steps aligned per side, as the TUI's compare screen (no Textual import here)


@router.get("/compare")
def compare_page(
    request: Request,
    a: Text = None,
    b: Text = None,
    id: list[str] | None = Query(None),
) -> Response:
    principal = _principal(request)
    if principal is None:
        return _to_login(request)
    picked = [x for x in (a, b, *(id or [])) if x][:2]
    store = _state(request).store.scoped(principal.team_id, principal.user_id)
    # What people paste: a full id, a prefix of one, `latest`, spaces around it.
    try:
        picked = [resolve_session_id(store, x) for x in picked]
    except (NotFound, ValueError):
        return _not_found(request, principal, "no such session in your team")
    except UsageError as exc:  # not an id at all, or a prefix of several
        return _not_found(request, principal, exc.message)
    if len(picked) == 1:  # one session: compare it with its newest replay, if it has one
        original = picked[0]
        replays = store.list_sessions(SessionQuery(replay_of=original, sort="created_at", limit=1))
        picked += [r.id for r in replays.items]
    if len(picked) < 2:
        return page(
            "error.html",
            422,
            title="Compare",
            message="pick two sessions to compare (one alone is compared with its newest replay,"
            " and this one has none)",
            **_context(request, principal),
        )
    try:
        sessions = [store.get_session(x) for x in picked]
    except NotFound:
        return _not_found(request, principal, "no such session in your team")
    sides = [
        list(islice(iter_events(store, EventQuery(session_id=s.id, order="asc")), MAX_STEPS))
        for s in sessions
    ]
    rows, first = align(sides[0], sides[1])
    cut = any(s.event_count > MAX_STEPS for s in sessions)
    return page(
        "compare.html",
        left=sessions[0],
        right=sessions[1],
        rows=rows,
        first=first,
        cut=cut,
        max_steps=MAX_STEPS,
        **_context(request, principal),
    )
