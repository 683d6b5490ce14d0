"""`/v1/analytics/usage`: the team's usage report (`agentlog.usage`) and the server's own request counts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from agentlog.model import utcnow
from agentlog.server.common import TIME_PARAM, json_response, time_param
from agentlog.server.deps import CurrentUser, StateDep, StoreDep
from agentlog.server.schemas import ERROR_RESPONSES, UsageOut
from agentlog.usage import usage_range, usage_report

router = APIRouter(prefix="/v1/analytics", tags=["analytics"], responses=ERROR_RESPONSES)


@router.get("/usage", response_model=UsageOut)
def usage(
    store: StoreDep,
    principal: CurrentUser,
    state: StateDep,
    since: Annotated[
        str | None,
        Query(
            max_length=64,
            description="Start (ISO 8601); default 30 days ago.",
            json_schema_extra=TIME_PARAM,
        ),
    ] = None,
    until: Annotated[
        str | None,
        Query(
            max_length=64,
            description="End, exclusive (ISO 8601); default now.",
            json_schema_extra=TIME_PARAM,
        ),
    ] = None,
) -> Response:
    """Events, sessions, tokens, cost and errors per user, agent, type, integration and day; API calls per endpoint."""
    start, end = usage_range(time_param(since, "since"), time_param(until, "until"), utcnow())
    emails = {u.id: u.email for u in state.accounts.list_users(principal.team_id)}
    report = usage_report(store, start, end, emails)
    state.usage.flush()
    report["per_endpoint"] = state.accounts.usage(
        principal.team_id, start.strftime("%Y-%m-%d"), end.strftime("%Y-%m-%d")
    )
    return json_response(report)
