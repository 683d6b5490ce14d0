"""`/v1/analytics/usage`: a team's events, sessions, tokens, cost and errors, sliced several ways.

Built only from Store protocol calls, so it works on every backend: totals,
per type and per agent from `stats()`; per day from one `stats()` per day
(the range is capped at 92 days); per user and per SDK/integration from the
sessions' summary rows (sessions active in the range); per endpoint from the
server's own request counts.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.responses import Response

from agentlog.errors import InvalidInput
from agentlog.model import format_ts, utcnow
from agentlog.server.common import TIME_PARAM, json_response, time_param
from agentlog.server.deps import CurrentUser, StateDep, StoreDep
from agentlog.server.schemas import ERROR_RESPONSES, UsageOut
from agentlog.storage.base import EventQuery, SessionQuery, iter_sessions

router = APIRouter(prefix="/v1/analytics", tags=["analytics"], responses=ERROR_RESPONSES)
MAX_DAYS = 92


def _integration(metadata: dict[str, Any]) -> str:
    info = metadata.get("agentlog") if isinstance(metadata, dict) else None
    if isinstance(info, dict):
        return str(info.get("integration") or info.get("sdk") or "unknown")
    return "unknown"


def _day_start(dt: datetime) -> datetime:
    return dt.replace(hour=0, minute=0, second=0, microsecond=0)


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
    end = time_param(until, "until") or utcnow()
    start = time_param(since, "since") or _day_start(end - timedelta(days=30))
    if start >= end:
        raise InvalidInput("since must be before until")
    if end - start > timedelta(days=MAX_DAYS):
        raise InvalidInput(f"the range is over {MAX_DAYS} days; ask for a shorter one")
    report = store.stats(EventQuery(since=start, until=end, limit=1))
    agents = {a.agent_id: a for a in store.agents(start)}
    per_agent = [
        {
            "agent_id": name,
            "events": count,
            "sessions": agents[name].sessions if name in agents else None,
            "errors": agents[name].errors if name in agents else None,
            "last_seen": agents[name].last_seen if name in agents else None,
        }
        for name, count in sorted(report.by_agent.items(), key=lambda kv: -kv[1])
    ]
    per_type = [
        {"type": t, "events": n} for t, n in sorted(report.by_type.items(), key=lambda kv: -kv[1])
    ]

    per_day: list[dict[str, Any]] = []
    day = _day_start(start)
    while day < end:
        nxt = day + timedelta(days=1)
        s = store.stats(EventQuery(since=max(day, start), until=min(nxt, end), limit=1))
        per_day.append(
            {
                "day": day.strftime("%Y-%m-%d"),
                "events": s.events,
                "errors": s.errors,
                "sessions": None,
                "input_tokens": s.input_tokens,
                "output_tokens": s.output_tokens,
                "cost_usd": s.cost_usd,
            }
        )
        day = nxt

    users: dict[str, dict[str, Any]] = defaultdict(lambda: defaultdict(float))
    integrations: dict[str, dict[str, Any]] = defaultdict(lambda: defaultdict(float))
    sessions = 0
    by_day_sessions: dict[str, int] = defaultdict(int)
    for summary in iter_sessions(store, SessionQuery(since=start, until=end, sort="created_at")):
        sessions += 1
        by_day_sessions[summary.created_at.strftime("%Y-%m-%d")] += 1
        for bucket in (
            users[summary.created_by or "unknown"],
            integrations[_integration(summary.metadata)],
        ):
            bucket["sessions"] += 1
            bucket["events"] += summary.event_count
            bucket["errors"] += summary.error_count
            bucket["input_tokens"] += summary.input_tokens
            bucket["output_tokens"] += summary.output_tokens
            bucket["cost_usd"] += summary.cost_usd
    for row in per_day:
        row["sessions"] = by_day_sessions.get(row["day"], 0)

    emails = {u.id: u.email for u in state.accounts.list_users(principal.team_id)}

    def rows(groups: dict[str, dict[str, Any]], key: str) -> list[dict[str, Any]]:
        out = []
        for name, v in sorted(groups.items(), key=lambda kv: -kv[1]["events"]):
            row: dict[str, Any] = {key: name}
            if key == "user_id":
                row["email"] = emails.get(name)
            for field in ("sessions", "events", "errors", "input_tokens", "output_tokens"):
                row[field] = int(v[field])
            row["cost_usd"] = round(float(v["cost_usd"]), 10)
            out.append(row)
        return out

    state.usage.flush()
    per_endpoint = state.accounts.usage(
        principal.team_id, start.strftime("%Y-%m-%d"), end.strftime("%Y-%m-%d")
    )
    return json_response(
        {
            "since": format_ts(start),
            "until": format_ts(end),
            "totals": {
                "events": report.events,
                "sessions": sessions,
                "errors": report.errors,
                "input_tokens": report.input_tokens,
                "output_tokens": report.output_tokens,
                "cost_usd": report.cost_usd,
            },
            "per_user": rows(users, "user_id"),
            "per_agent": per_agent,
            "per_type": per_type,
            "per_integration": rows(integrations, "integration"),
            "per_day": per_day,
            "per_endpoint": per_endpoint,
        }
    )
