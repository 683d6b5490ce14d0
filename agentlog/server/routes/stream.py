"""`GET /v1/events/stream`: Server-Sent Events of new events, per session or team-wide.

Each SSE message is one event (`id:` is the event id, `event: event`, `data:`
its JSON). A client that reconnects with `Last-Event-ID` first gets what it
missed from the store (events after that one in (timestamp, id) order, up to
`REPLAY_LIMIT`), then the live feed. A comment line every 15 s keeps proxies
from closing an idle stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

from agentlog.errors import NotFound
from agentlog.model import normalize_id, to_us
from agentlog.server.auth import Principal
from agentlog.server.common import UUID_PARAM, check_id
from agentlog.server.deps import CurrentUser, StateDep, StoreDep
from agentlog.server.recheck import Recheck
from agentlog.server.schemas import ERROR_RESPONSES
from agentlog.storage.base import EventQuery, Store, event_cursor
from agentlog.wire import WEB_COOKIE

router = APIRouter(prefix="/v1", tags=["events"], responses=ERROR_RESPONSES)
KEEPALIVE_SECONDS = 15.0
REPLAY_LIMIT = 10_000


_ENDED = b'event: reset\ndata: {"reason": "credentials no longer valid; sign in again"}\n\n'


def _caller(request: Request, state: Any) -> Principal | None:
    """The stream's caller from its own credentials again (header, else the web cookie)."""
    header = request.headers.get("authorization")
    cookie = request.cookies.get(WEB_COOKIE)
    if header is None and cookie:
        return state.auth.from_web_cookie(cookie)
    client = request.client.host if request.client else None
    return state.auth.authenticate(header, client)


def _message(event: dict[str, Any]) -> bytes:
    return (
        b"id: " + event["id"].encode() + b"\nevent: event\ndata: " + orjson.dumps(event) + b"\n\n"
    )


def missed_since(store: Store, session_id: str | None, last_id: str) -> list[dict[str, Any]]:
    """The events after `last_id` in (timestamp, id) order, up to REPLAY_LIMIT, for a reconnecting client.

    An unknown or foreign id gives nothing (the live feed resumes). Events stored while the
    client was away but stamped before `last_id` (a long timed call) are not among them: the
    live feed delivers every event when it is stored, so only such an event stored during
    the disconnection is missed; `agentlog tail`'s Follower catches those by polling.
    """
    try:
        last = store.get_event(normalize_id(last_id, "Last-Event-ID"))
    except (NotFound, ValueError):
        return []
    query = EventQuery(session_id=session_id, order="asc", limit=1000)
    query = EventQuery(
        session_id=session_id,
        order="asc",
        limit=1000,
        cursor=event_cursor(query, to_us(last.timestamp), last.id),
    )
    out: list[dict[str, Any]] = []
    while len(out) < REPLAY_LIMIT:
        page = store.list_events(query)
        out.extend(e.to_json_dict() for e in page.items)
        if not page.next_cursor:
            break
        query = EventQuery(session_id=session_id, order="asc", limit=1000, cursor=page.next_cursor)
    return out


@router.get(
    "/events/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "SSE stream"}},
)
async def stream(
    request: Request,
    principal: CurrentUser,
    state: StateDep,
    store: StoreDep,
    session_id: Annotated[
        str | None,
        Query(
            max_length=64,
            description="Only this session's events.",
            json_schema_extra=UUID_PARAM,
        ),
    ] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=64)] = None,
) -> StreamingResponse:
    """Live events as Server-Sent Events; reconnect with Last-Event-ID to resume."""
    sid = check_id(session_id, "session") if session_id else None
    if sid:
        await run_in_threadpool(store.get_session, sid)  # 404 for a missing or foreign session
    team_id = store.team_id or principal.team_id
    sub = await state.broker.subscribe(team_id)
    replay = (
        await run_in_threadpool(missed_since, store, sid, last_event_id) if last_event_id else []
    )

    # The caller's credentials are checked again while the stream runs: a revoked key, a
    # signed-out token or a removed person ends it (within the key cache's time for keys).
    recheck = Recheck(principal, lambda: _caller(request, state))

    async def body() -> AsyncIterator[bytes]:
        sent: set[str] = set()
        state.metrics.stream_clients.inc()
        try:
            yield b"retry: 2000\n\n"
            for event in replay:
                sent.add(event["id"])
                yield _message(event)
            while True:
                if sub.overflowed:
                    yield b'event: reset\ndata: {"reason": "client too slow; reconnect"}\n\n'
                    return
                try:
                    batch = await asyncio.wait_for(sub.queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    if await request.is_disconnected():
                        return
                    if not await recheck.allowed():
                        yield _ENDED
                        return
                    yield b": keepalive\n\n"
                    continue
                chunk = b"".join(
                    _message(e)
                    for e in batch
                    if (sid is None or e.get("session_id") == sid) and e["id"] not in sent
                )
                if len(sent) > 100_000:
                    sent.clear()
                if chunk:
                    if not await recheck.allowed():
                        yield _ENDED
                        return
                    yield chunk
        finally:
            state.broker.unsubscribe(sub)
            state.metrics.stream_clients.dec()

    return StreamingResponse(
        body(),
        media_type="text/event-stream",
        headers={"X-Accel-Buffering": "no", "Cache-Control": "no-cache"},
    )
