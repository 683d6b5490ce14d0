"""Live follow for the web view: a session's new events as server-rendered, escaped HTML over SSE.

htmx's SSE extension appends each message to the timeline. The fragments are
rendered here with the page's own template (autoescaped), so the browser never
turns recorded JSON into markup.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from agentlog.errors import NotFound
from agentlog.model import Event, normalize_id
from agentlog.server.recheck import Recheck
from agentlog.server.routes.stream import KEEPALIVE_SECONDS, missed_since
from agentlog.server.web.render import HEADERS, env
from agentlog.server.web.routes import _not_found, _principal, _state

router = APIRouter(include_in_schema=False)


def fragment(event: Event) -> bytes:
    """One SSE message whose data is the event's <li> (each line its own `data:` line)."""
    html = env.get_template("_event.html").render(e=event, q="")
    lines = "".join(f"data: {line}\n" for line in html.strip().splitlines())
    return f"id: {event.id}\nevent: event\n{lines}\n".encode()


@router.get("/s/{session_id}/live")
async def live(
    request: Request,
    session_id: str,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=64)] = None,
) -> Response:
    """The session's new events; a browser reconnecting with Last-Event-ID first gets what it missed."""
    principal = await run_in_threadpool(_principal, request)
    if principal is None:
        return Response(status_code=401)
    state = _state(request)
    store = state.store.scoped(principal.team_id, principal.user_id)
    try:
        sid = normalize_id(session_id, "session")
        await run_in_threadpool(store.get_session, sid)
    except (NotFound, ValueError):
        return _not_found(request, principal, "no such session in your team")
    sub = await state.broker.subscribe(principal.team_id)
    missed = (
        await run_in_threadpool(missed_since, store, sid, last_event_id) if last_event_id else []
    )

    # The cookie is checked again while the page stays open: signing out, or being removed
    # from the team, ends the stream (it once kept sending new events to that tab).
    recheck = Recheck(principal, lambda: _principal(request))

    async def body() -> AsyncIterator[bytes]:
        state.metrics.stream_clients.inc()
        sent = {e["id"] for e in missed}
        try:
            yield b"retry: 2000\n\n"
            if missed:
                yield b"".join(fragment(Event.model_validate(e)) for e in missed)
            while not sub.overflowed:
                try:
                    batch = await asyncio.wait_for(sub.queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    if await request.is_disconnected() or not await recheck.allowed():
                        return
                    yield b": keepalive\n\n"
                    continue
                chunk = b"".join(
                    fragment(Event.model_validate(e))
                    for e in batch
                    if e.get("session_id") == sid and e["id"] not in sent
                )
                if chunk:
                    if not await recheck.allowed():
                        return
                    yield chunk
        finally:
            state.broker.unsubscribe(sub)
            state.metrics.stream_clients.dec()

    headers = {**HEADERS, "X-Accel-Buffering": "no", "Cache-Control": "no-cache"}
    return StreamingResponse(body(), media_type="text/event-stream", headers=headers)
