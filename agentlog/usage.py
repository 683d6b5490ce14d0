"""The usage report: a team's events, sessions, tokens, cost and errors per user, agent, type, integration and day.

Built only from Store protocol calls, so it answers alike on every backend:
totals, per type and per agent from `stats()`; per day from one `stats()` per
day (the range is capped at `MAX_DAYS`); per user and per SDK/integration
from the sessions' summary rows (sessions created in the range). The server's
`GET /v1/analytics/usage` adds each user's email and its own request counts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from agentlog.errors import InvalidInput
from agentlog.model import TOKEN_DETAILS, StatsReport, format_ts
from agentlog.storage.base import EventQuery, SessionQuery, Store, iter_sessions

MAX_DAYS = 92
DEFAULT_DAYS = 30
_SUMS = ("sessions", "events", "errors", "input_tokens", "output_tokens")


def day_start(dt: datetime) -> datetime:
    return dt.replace(hour=0, minute=0, second=0, microsecond=0)


def usage_range(
    since: datetime | None, until: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """The report's [start, end): `until` or now, `since` or the day 30 days before; checked."""
    end = until or now
    start = since or day_start(end - timedelta(days=DEFAULT_DAYS))
    if start >= end:
        raise InvalidInput("since must be before until")
    if end - start > timedelta(days=MAX_DAYS):
        raise InvalidInput(f"the range is over {MAX_DAYS} days; ask for a shorter one")
    return start, end


def token_details(report: StatsReport) -> dict[str, int]:
    """The cache-read, cache-write and reasoning parts of a report's token counts."""
    return {name: getattr(report, name) for name in TOKEN_DETAILS}


def integration_of(metadata: Mapping[str, Any]) -> str:
    """Which SDK or integration wrote a session (its `metadata.agentlog`), or "unknown"."""
    info = metadata.get("agentlog") if isinstance(metadata, Mapping) else None
    if isinstance(info, dict):
        return str(info.get("integration") or info.get("sdk") or "unknown")
    return "unknown"


def usage_report(
    store: Store, start: datetime, end: datetime, emails: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Totals and the per-user, agent, type, integration and day slices of [start, end)."""
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

    users: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    integrations: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    sessions = 0
    sessions_by_day: dict[str, int] = defaultdict(int)
    for summary in iter_sessions(store, SessionQuery(since=start, until=end, sort="created_at")):
        sessions += 1
        sessions_by_day[summary.created_at.strftime("%Y-%m-%d")] += 1
        for bucket in (
            users[summary.created_by or "unknown"],
            integrations[integration_of(summary.metadata)],
        ):
            bucket["sessions"] += 1
            bucket["events"] += summary.event_count
            bucket["errors"] += summary.error_count
            bucket["input_tokens"] += summary.input_tokens
            bucket["output_tokens"] += summary.output_tokens
            bucket["cost_usd"] += summary.cost_usd

    per_day: list[dict[str, Any]] = []
    day = day_start(start)
    while day < end:
        nxt = day + timedelta(days=1)
        s = store.stats(EventQuery(since=max(day, start), until=min(nxt, end), limit=1))
        name = day.strftime("%Y-%m-%d")
        per_day.append(
            {
                "day": name,
                "events": s.events,
                "errors": s.errors,
                "sessions": sessions_by_day.get(name, 0),
                "input_tokens": s.input_tokens,
                "output_tokens": s.output_tokens,
                **token_details(s),
                "cost_usd": s.cost_usd,
            }
        )
        day = nxt

    def rows(groups: dict[str, dict[str, float]], key: str) -> list[dict[str, Any]]:
        out = []
        for name, sums in sorted(groups.items(), key=lambda kv: -kv[1]["events"]):
            row: dict[str, Any] = {key: name}
            if key == "user_id":
                row["email"] = (emails or {}).get(name)
            for field in _SUMS:
                row[field] = int(sums[field])
            row["cost_usd"] = round(float(sums["cost_usd"]), 10)
            out.append(row)
        return out

    return {
        "since": format_ts(start),
        "until": format_ts(end),
        "totals": {
            "events": report.events,
            "sessions": sessions,
            "errors": report.errors,
            "input_tokens": report.input_tokens,
            "output_tokens": report.output_tokens,
            **token_details(report),
            "cost_usd": report.cost_usd,
        },
        "per_user": rows(users, "user_id"),
        "per_agent": per_agent,
        "per_type": per_type,
        "per_integration": rows(integrations, "integration"),
        "per_day": per_day,
    }


__all__ = ["MAX_DAYS", "integration_of", "token_details", "usage_range", "usage_report"]
