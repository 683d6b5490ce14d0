"""Operation ids are explicit, unique and stable: generated clients keep their method names."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, FastAPI

from agentlog.server.operations import OPERATION_IDS, check_operation_ids, operation_id

# Released ids: a change here breaks every generated client. Add new ones; never edit these.
RELEASED = {
    "GET /healthz": "health",
    "GET /readyz": "ready",
    "GET /metrics": "metrics",
    "GET /v1/info": "get_info",
    "GET /v1/agents": "list_agents",
    "GET /v1/analytics/usage": "get_usage",
    "POST /v1/auth/login": "login",
    "POST /v1/auth/refresh": "refresh_tokens",
    "POST /v1/auth/logout": "logout",
    "GET /v1/auth/me": "get_me",
    "GET /v1/sessions": "list_sessions",
    "POST /v1/sessions": "create_session",
    "GET /v1/sessions:count": "count_sessions",
    "GET /v1/sessions:changes": "changed_sessions",
    "POST /v1/sessions:prune": "prune_sessions",
    "POST /v1/sessions:trees": "session_trees",
    "GET /v1/sessions/{session_id}": "get_session",
    "PUT /v1/sessions/{session_id}": "update_session",
    "DELETE /v1/sessions/{session_id}": "delete_session",
    "GET /v1/sessions/{session_id}/events": "list_session_events",
    "POST /v1/sessions/{session_id}/events": "add_session_events",
    "POST /v1/sessions/{session_id}/export": "export_session",
    "GET /v1/events": "list_events",
    "POST /v1/events:batch": "write_batch",
    "GET /v1/events:count": "count_events",
    "GET /v1/events:facets": "event_facets",
    "GET /v1/events:keys": "event_keys",
    "GET /v1/events:stats": "event_stats",
    "GET /v1/events/search": "search_events",
    "GET /v1/events/stream": "stream_events",
    "GET /v1/events/{event_id}": "get_event",
    "POST /v1/traces": "ingest_traces",
    "GET /v1/api-keys": "list_keys",
    "POST /v1/api-keys": "create_key",
    "DELETE /v1/api-keys/{key_id}": "revoke_key",
    "POST /v1/api-keys/{key_id}/rotate": "rotate_key",
    "GET /v1/users": "list_users",
    "POST /v1/users": "create_user",
    "GET /v1/users/{user_id}": "get_user",
    "PATCH /v1/users/{user_id}": "update_user",
    "GET /v1/teams": "list_teams",
    "POST /v1/teams": "create_team",
    "GET /v1/audit": "list_audit",
}


def test_every_operation_has_its_released_id_and_ids_are_unique(world) -> None:
    spec = world.client.get("/openapi.json").json()
    ids = {
        f"{method.upper()} {path}": op["operationId"]
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
    }
    for operation, released in RELEASED.items():
        assert ids.get(operation) == released, operation
    assert len(set(ids.values())) == len(ids)  # unique
    assert len(set(OPERATION_IDS.values())) == len(OPERATION_IDS)


def test_a_route_without_an_id_stops_the_app_being_built() -> None:
    router = APIRouter()

    @router.get("/v1/new-thing")
    def new_thing() -> dict:
        return {}

    app = FastAPI(generate_unique_id_function=operation_id)
    with pytest.raises(RuntimeError, match="GET /v1/new-thing has no operation id"):
        app.include_router(router)  # older FastAPI makes ids here; newer ones lazily, so
        check_operation_ids([router, app.router])  # create_app checks its routers too
