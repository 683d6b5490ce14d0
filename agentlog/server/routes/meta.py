"""Health, readiness, Prometheus metrics, store info and agents."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from agentlog.model import AgentSummary
from agentlog.server.common import TIME_PARAM, json_response, time_param
from agentlog.server.deps import OwnerUser, StateDep, StoreDep
from agentlog.server.errors import RETRY_AFTER_UNAVAILABLE
from agentlog.server.schemas import ERROR_RESPONSES, InfoOut
from agentlog.wire import AGENTS_ACTIVE_SINCE

router = APIRouter(responses=ERROR_RESPONSES)


@router.get("/healthz", tags=["health"])
def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/readyz", tags=["health"], responses={503: {"description": "Store unreachable"}})
def readyz(state: StateDep) -> Response:
    """Readiness: the store and the account tables answer (503 while they do not).

    `redis` is "off" (not configured), "ok", or "degraded" while a hung or
    down Redis is skipped (limits and fan-out are then per process).
    """
    try:
        state.accounts.ping()
        info = state.store.info()
    except Exception as exc:
        return json_response(
            {
                "error": {
                    "code": "store_error",
                    "message": f"the store is not reachable: {exc}",
                    "details": None,
                }
            },
            503,
            {"Retry-After": RETRY_AFTER_UNAVAILABLE},
        )
    return json_response(
        {
            "status": "ready",
            "backend": info.backend,
            "schema_version": info.schema_version,
            # A PING, not the breaker's last word: it stayed "ok" for a Redis never reached.
            # Redis is optional (in-process fallback), so "degraded" leaves the server ready.
            "redis": state.redis.check(),
        }
    )


@router.get("/metrics", tags=["health"], response_class=Response)
def metrics(state: StateDep, _owner: OwnerUser) -> Response:
    """Prometheus metrics of the whole server (the owner; scrape with an owner's API key)."""
    state.metrics.stream_clients.set(state.broker.subscribers)
    return Response(state.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")


@router.get("/v1/info", tags=["meta"], response_model=InfoOut)
def info(store: StoreDep) -> Response:
    """Counts and schema version of your team's part of the store."""
    i = store.info()
    return json_response(
        {
            "backend": i.backend,
            "schema_version": i.schema_version,
            "sessions": i.sessions,
            "events": i.events,
            "oldest_event_at": i.oldest_event_at,
            "newest_event_at": i.newest_event_at,
            "team_id": store.team_id,
        }
    )


@router.get("/v1/agents", tags=["agents"], response_model=list[AgentSummary])
def agents(
    store: StoreDep,
    active_since: Annotated[
        str | None,
        Query(
            alias=AGENTS_ACTIVE_SINCE,
            max_length=64,
            description="Only agents seen since (ISO 8601).",
            json_schema_extra=TIME_PARAM,
        ),
    ] = None,
) -> Response:
    """Agents with first/last seen, sessions, events, errors and error rate."""
    rows = store.agents(time_param(active_since, AGENTS_ACTIVE_SINCE))
    return json_response([a.to_json_dict() for a in rows])
