"""The OpenAPI operation id of every route, written out once so generated clients keep their names.

FastAPI would derive an id from the function name, path and method
(`list_sessions_v1_sessions_get`), so renaming a Python function or moving a
route would rename a client's method. Here each (method, path) has its id by
hand; a route in the schema without one stops `create_app` (check_operation_ids), and
`tests/server/test_operation_ids.py` holds the ids that must never change.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter
from fastapi.routing import APIRoute

OPERATION_IDS: dict[tuple[str, str], str] = {
    ("GET", "/healthz"): "health",
    ("GET", "/readyz"): "ready",
    ("GET", "/metrics"): "metrics",
    ("GET", "/v1/info"): "get_info",
    ("GET", "/v1/agents"): "list_agents",
    ("GET", "/v1/analytics/usage"): "get_usage",
    ("POST", "/v1/auth/login"): "login",
    ("POST", "/v1/auth/refresh"): "refresh_tokens",
    ("POST", "/v1/auth/logout"): "logout",
    ("GET", "/v1/auth/me"): "get_me",
    ("GET", "/v1/sessions"): "list_sessions",
    ("POST", "/v1/sessions"): "create_session",
    ("GET", "/v1/sessions:count"): "count_sessions",
    ("GET", "/v1/sessions:changes"): "changed_sessions",
    ("POST", "/v1/sessions:prune"): "prune_sessions",
    ("POST", "/v1/sessions:trees"): "session_trees",
    ("GET", "/v1/sessions/{session_id}"): "get_session",
    ("PUT", "/v1/sessions/{session_id}"): "update_session",
    ("DELETE", "/v1/sessions/{session_id}"): "delete_session",
    ("GET", "/v1/sessions/{session_id}/events"): "list_session_events",
    ("POST", "/v1/sessions/{session_id}/events"): "add_session_events",
    ("POST", "/v1/sessions/{session_id}/export"): "export_session",
    ("GET", "/v1/events"): "list_events",
    ("POST", "/v1/events:batch"): "write_batch",
    ("GET", "/v1/events:count"): "count_events",
    ("GET", "/v1/events:facets"): "event_facets",
    ("GET", "/v1/events:keys"): "event_keys",
    ("GET", "/v1/events:stats"): "event_stats",
    ("GET", "/v1/events/search"): "search_events",
    ("GET", "/v1/events/stream"): "stream_events",
    ("GET", "/v1/events/{event_id}"): "get_event",
    ("POST", "/v1/traces"): "ingest_traces",
    ("GET", "/v1/api-keys"): "list_keys",
    ("POST", "/v1/api-keys"): "create_key",
    ("DELETE", "/v1/api-keys/{key_id}"): "revoke_key",
    ("POST", "/v1/api-keys/{key_id}/rotate"): "rotate_key",
    ("GET", "/v1/users"): "list_users",
    ("POST", "/v1/users"): "create_user",
    ("GET", "/v1/users/{user_id}"): "get_user",
    ("PATCH", "/v1/users/{user_id}"): "update_user",
    ("POST", "/v1/users/{user_id}:erase"): "erase_user",
    ("GET", "/v1/teams"): "list_teams",
    ("POST", "/v1/teams"): "create_team",
    ("PATCH", "/v1/teams/{team_id}"): "update_team",
    ("POST", "/v1/retention:apply"): "apply_retention",
    ("GET", "/v1/audit"): "list_audit",
}


def operation_id(route: APIRoute) -> str:
    """The route's id from OPERATION_IDS (FastAPI's `generate_unique_id_function`)."""
    if not route.include_in_schema:
        return route.name  # not in the document: no client sees it
    methods = sorted(route.methods or ())
    found = OPERATION_IDS.get((methods[0], route.path_format)) if len(methods) == 1 else None
    if found is None:
        raise RuntimeError(
            f"{'/'.join(methods)} {route.path_format} has no operation id; add it to "
            "OPERATION_IDS in agentlog/server/operations.py (ids never change once released)"
        )
    return found


def check_operation_ids(routers: Iterable[APIRouter]) -> None:
    """Fail while the app is built, not when /openapi.json is first asked for (FastAPI computes
    ids lazily): every route of these routers, before or after inclusion, must have its id."""
    for router in routers:
        for route in router.routes:
            if isinstance(route, APIRoute):
                operation_id(route)
