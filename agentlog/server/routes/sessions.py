"""`/v1/sessions`: create (upsert), list, read, update, delete (GDPR erasure), export, prune."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response, StreamingResponse

from agentlog.errors import Conflict
from agentlog.model import Session, SessionSummary, SessionUpdate, format_ts, utcnow
from agentlog.server.common import check_id, json_response, page_response, session_query
from agentlog.server.deps import AdminUser, CurrentUser, StateDep, StoreDep, WritableStoreDep
from agentlog.server.schemas import (
    ERROR_RESPONSES,
    BatchResult,
    CountOut,
    DeletedOut,
    PruneIn,
    PruneOut,
    SessionChangesOut,
    SessionPage,
    TreesIn,
    TreesOut,
)
from agentlog.storage.base import SessionQuery, Store
from agentlog.wire import ChangesParam

router = APIRouter(prefix="/v1", tags=["sessions"], responses=ERROR_RESPONSES)
QueryDep = Annotated[SessionQuery, Depends(session_query)]


@router.post(
    "/sessions", status_code=201, response_model=None, responses={201: {"model": SessionSummary}}
)
def create_session(session: Session, store: WritableStoreDep) -> Response:
    """Create a session, or update it if its id exists (idempotent upsert by client-made id)."""
    session = session.model_copy(update={"team_id": None, "created_by": None})
    store.write(sessions=[session])
    return json_response(store.get_session(session.id), 201)


@router.get("/sessions", response_model=SessionPage)
def list_sessions(store: StoreDep, query: QueryDep) -> Response:
    """Sessions of your team, filtered and cursor-paged (newest activity first by default)."""
    page = store.list_sessions(query)
    return page_response(page.items, page.next_cursor)


@router.get("/sessions:count", response_model=CountOut)
def count_sessions(store: StoreDep, query: QueryDep) -> Response:
    """How many sessions match the same filters as GET /v1/sessions."""
    return json_response({"count": store.count_sessions(query)})


@router.get("/sessions:changes", response_model=SessionChangesOut)
def changed_sessions(
    store: StoreDep,
    since: Annotated[
        str | None,
        Query(
            alias=ChangesParam.SINCE,
            description="token from the previous answer",
            max_length=32,
            json_schema_extra={"pattern": "^c[0-9]{1,19}$"},
        ),
    ] = None,
    limit: Annotated[int, Query(alias=ChangesParam.LIMIT, ge=1, le=1000)] = 200,
) -> Response:
    """Sessions changed since `since`, newest change first, and the token to ask with next.

    Without `since`: no sessions, only the token. A live view polls this once
    per refresh instead of reading each session it shows.
    """
    changes = store.changed_sessions(since, limit)
    return json_response({"items": changes.sessions, "token": changes.token, "more": changes.more})


@router.post("/sessions:trees", response_model=TreesOut)
def session_trees(body: TreesIn, store: StoreDep) -> Response:
    """Each session's tree summed: itself and every session below it (sub-agents, workers).

    One query for a whole page of sessions; ids this team does not hold are left out.
    """
    ids = [check_id(sid, "session") for sid in body.ids]
    trees = store.tree_totals(ids)
    return json_response({"trees": {sid: t.to_json_dict() for sid, t in trees.items()}})


@router.post("/sessions:prune", response_model=PruneOut)
def prune_sessions(
    body: PruneIn, store: StoreDep, principal: AdminUser, state: StateDep
) -> Response:
    """Erase your team's sessions whose last activity is before `before` (admins; audited)."""
    erased = store.prune(body.before)
    state.accounts.audit(
        "session.prune",
        principal.actor,
        team_id=principal.team_id,
        details={"before": format_ts(body.before), "sessions": erased},
    )
    return json_response({"sessions": erased})


@router.get(
    "/sessions/{session_id}", response_model=None, responses={200: {"model": SessionSummary}}
)
def get_session(session_id: str, store: StoreDep) -> Response:
    """One session with its aggregates (404 if missing or another team's)."""
    return json_response(store.get_session(check_id(session_id, "session")))


@router.put(
    "/sessions/{session_id}", response_model=None, responses={200: {"model": SessionSummary}}
)
def update_session(session_id: str, changes: SessionUpdate, store: WritableStoreDep) -> Response:
    """Change title, description, status, tags, metadata or ended_at."""
    return json_response(store.update_session(check_id(session_id, "session"), changes))


@router.delete(
    "/sessions/{session_id}",
    response_model=DeletedOut,
    responses={409: {"description": "The session has child sessions and `tree` was not given"}},
)
def delete_session(
    session_id: str,
    store: WritableStoreDep,
    principal: CurrentUser,
    state: StateDep,
    tree: Annotated[
        bool | None,
        Query(
            description="true also erases every session below it (its sub-agents' and "
            "workers' sessions, at any depth); false erases this session alone, leaving its "
            "children naming it as their parent (for writing it again in place). Required "
            "for a session with child sessions (409 without it)."
        ),
    ] = None,
) -> Response:
    """Erase a session (with `tree=true`, the sessions below it too) and their events (GDPR erasure; audited)."""
    sid = check_id(session_id, "session")
    if tree is None:
        # Neither way is assumed for a parent: a client from before trees were erased
        # means "this one alone" to rewrite it, a person deleting a run means all of it.
        children = store.list_sessions(SessionQuery(parent_session_id=sid, limit=1)).items
        if children:
            raise Conflict(
                f"session {sid} has child sessions (sub-agents, workers): add ?tree=true to"
                " erase them with it, or ?tree=false to erase it alone"
            )
    if tree:
        deleted = store.delete_session_tree(sid)
        erased, sessions = deleted.events, deleted.sessions
    else:
        erased, sessions = store.delete_session(sid), 1
    state.accounts.audit(
        "session.delete",
        principal.actor,
        team_id=principal.team_id,
        target=sid,
        details={"events": erased, "sessions": sessions},
    )
    return json_response({"deleted_events": erased, "deleted_sessions": sessions})


@router.post(
    "/sessions/{session_id}/events",
    response_model=BatchResult,
    responses={207: {"model": BatchResult, "description": "Some events were rejected"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/SessionEventsIn"}}
            },
        }
    },
)
async def add_session_events(session_id: str, request: Request) -> Response:
    """Add events to one session (same rules as POST /v1/events:batch)."""
    from agentlog.server.routes.events import handle_batch

    return await handle_batch(request, session_id=check_id(session_id, "session"))


def _export_lines(store: Store, session_id: str) -> Iterator[bytes]:
    from agentlog.transfer.export import Selection, export_chunks

    yield from export_chunks(store, Selection(session_ids=(session_id,)), "ndjson")


@router.post(
    "/sessions/{session_id}/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}, "description": "NDJSON lines"}},
)
def export_session(session_id: str, store: StoreDep, principal: CurrentUser) -> StreamingResponse:
    """The session as NDJSON (a header line, the session, then its events), streamed."""
    sid = check_id(session_id, "session")
    store.get_session(sid)  # 404 before the stream starts
    name = f"agentlog-{sid}-{utcnow().strftime('%Y%m%dT%H%M%SZ')}.ndjson"
    return StreamingResponse(
        _export_lines(store, sid),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
