"""`/v1/events`: batch writes, listing and full-text search, counts, facets, keys, stats."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from agentlog.errors import InvalidInput
from agentlog.model import StatsReport
from agentlog.server.common import check_id, json_response, page_response
from agentlog.server.common import event_query as _event_query
from agentlog.server.deps import StoreDep, get_principal, resolve_scope
from agentlog.server.ingest import parse_batch, store_batch
from agentlog.server.schemas import ERROR_RESPONSES, BatchResult, CountOut, EventPage
from agentlog.server.state import ServerState
from agentlog.storage.base import EventQuery

router = APIRouter(prefix="/v1", tags=["events"], responses=ERROR_RESPONSES)
QueryDep = Annotated[EventQuery, Depends(_event_query)]


async def _authorize_write(request: Request) -> tuple[ServerState, tuple[str | None, str | None]]:
    principal = await get_principal(request)
    principal.require_write()
    return request.app.state.agentlog, await resolve_scope(request, principal)


async def handle_batch(request: Request, *, session_id: str | None = None) -> Response:
    # Credentials first: an anonymous caller gets 401 without us reading its body.
    state, (team_id, user_id) = await _authorize_write(request)
    try:
        body = await request.body()
    except ClientDisconnect:
        return Response(
            status_code=400
        )  # the client went away mid-body; nothing was parsed or stored

    def work() -> Response:
        sessions, session_errors, raw_events = parse_batch(body, session_id=session_id)
        store = state.store.scoped(team_id, user_id)
        result = store_batch(
            state,
            store,
            team_id,
            sessions,
            raw_events,
            session_id=session_id,
            session_errors=session_errors,
        )
        return json_response(result, 207 if result.errors else 200)

    return await run_in_threadpool(work)


@router.post(
    "/events:batch",
    response_model=BatchResult,
    responses={207: {"model": BatchResult, "description": "Some records were rejected"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BatchIn"}}},
        }
    },
)
async def write_batch(request: Request) -> Response:
    """Upsert sessions and insert up to 1,000 events (10 MiB); idempotent on ids.

    Good records are stored even when others are rejected: the answer is 207
    with `errors` listing each rejected record's kind (`event` or `session`),
    its index in that list of the request, and why. An event whose session
    record was rejected is rejected too, unless the session exists already.
    """
    return await handle_batch(request)


@router.get("/events", response_model=EventPage)
def list_events(store: StoreDep, query: QueryDep) -> Response:
    """Events of your team in (timestamp, id) order, filtered and cursor-paged."""
    page = store.list_events(query)
    return page_response(page.items, page.next_cursor)


@router.get("/events/search", response_model=EventPage)
def search_events(store: StoreDep, query: QueryDep) -> Response:
    """Full-text search (`q`) across your team's sessions, with the same filters; newest first by default."""
    if not query.text:
        raise InvalidInput("q: give the text to search for (e.g. ?q=timeout)")
    page = store.list_events(query)
    return page_response(page.items, page.next_cursor)


@router.get("/events:count", response_model=CountOut)
def count_events(store: StoreDep, query: QueryDep) -> Response:
    """How many events match (the same filters as GET /v1/events)."""
    return json_response({"count": store.count_events(query)})


@router.get("/events:facets", response_model=dict[str, dict[str, int]])
def facets(store: StoreDep, query: QueryDep) -> Response:
    """Counts of the matching events by type, agent and status."""
    return json_response(store.facets(query))


KEYS_SCHEMA = {
    "type": "array",
    "items": {
        "type": "array",
        "description": "[timestamp_us, event id]",
        "items": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
        "minItems": 2,
        "maxItems": 2,
    },
}


@router.get(
    "/events:keys",
    response_model=None,
    responses={200: {"content": {"application/json": {"schema": KEYS_SCHEMA}}}},
)
def event_keys(store: StoreDep, query: QueryDep) -> Response:
    """Every matching (timestamp_us, id) in order: cheap ordering keys for virtualised views."""
    return json_response(store.event_keys(query))


@router.get("/events:stats", response_model=StatsReport)
def stats(store: StoreDep, query: QueryDep) -> Response:
    """Performance profile of the matching events: tools, models, tokens, cost, slowest."""
    return json_response(store.stats(query))


@router.get("/sessions/{session_id}/events", response_model=EventPage, tags=["sessions"])
def session_events(session_id: str, store: StoreDep, query: QueryDep) -> Response:
    """A session's events (type, agent, status, time range, cursor)."""
    from dataclasses import replace

    sid = check_id(session_id, "session")
    store.get_session(sid)  # another team's session is 404, not an empty page
    page = store.list_events(replace(query, session_id=sid))
    return page_response(page.items, page.next_cursor)


def register_event_by_id(router_: APIRouter) -> None:
    """GET /v1/events/{id} goes last so /v1/events/search and /stream match first."""

    @router_.get(
        "/v1/events/{event_id}", response_model=None, tags=["events"], responses=ERROR_RESPONSES
    )
    def get_event(event_id: str, store: StoreDep) -> Response:
        """One event by id (404 if missing or another team's)."""
        return json_response(store.get_event(check_id(event_id, "event")))
