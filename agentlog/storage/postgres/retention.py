"""Dropping whole months of events on PostgreSQL, and keeping the session totals right afterwards.

A month's partitions go (`partitions.drop_months_before`) only once it ends
before the horizon of every team that holds sessions. The per-team part
(sessions idle past a shorter horizon) is the store's batched `prune`, run
first by `agentlog.storage.retention`, so a session still here after the
drop was active after the horizon: only its oldest events went with the
partition, and its totals (counts, first event, tokens, agents) are
recomputed from the events it keeps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import psycopg

from agentlog.storage.postgres import partitions
from agentlog.storage.postgres.dialect import POSTGRES
from agentlog.storage.postgres.events import TEAMS_SQL
from agentlog.storage.sql.sessions import SessionKey, stamp_changed


def teams_with_sessions(conn: psycopg.Connection) -> list[str]:
    return [r[0] for r in conn.execute(TEAMS_SQL).fetchall()]


def cutoff(conn: psycopg.Connection, horizons: Mapping[str, int]) -> int | None:
    """The time before which no team keeps anything (µs), or None when some team keeps all."""
    teams = teams_with_sessions(conn)
    if any(team not in horizons for team in teams):
        return None
    if not horizons:
        return None
    return min(horizons[t] for t in teams) if teams else min(horizons.values())


def recompute(conn: psycopg.Connection, keys: Sequence[SessionKey]) -> None:
    """Rebuild the summary rows of these sessions from the events they still hold."""
    if not keys:
        return
    teams, sids = [k[0] for k in keys], [k[1] for k in keys]
    conn.execute(
        "UPDATE session_stats st SET event_count = a.n, error_count = a.errs,"
        " first_event_at = a.lo, last_event_at = a.hi, last_end_at = a.fin,"
        " input_tokens = a.tin, output_tokens = a.tout, cost_usd = a.cost,"
        " cache_read_tokens = a.cread, cache_creation_tokens = a.cmade,"
        " reasoning_tokens = a.reason"
        " FROM unnest(%s::text[], %s::text[]) AS k(team, sid) CROSS JOIN LATERAL ("
        "  SELECT count(*) AS n,"
        "  count(*) FILTER (WHERE e.status = 'error' OR e.type = 'ERROR') AS errs,"
        "  min(e.ts) AS lo, max(e.ts) AS hi,"
        "  max(e.ts + (greatest(coalesce(e.duration_ms, 0), 0) * 1000)::bigint) AS fin,"
        "  coalesce(sum(e.input_tokens), 0) AS tin, coalesce(sum(e.output_tokens), 0) AS tout,"
        "  coalesce(sum(e.cost_usd), 0) AS cost, coalesce(sum(e.cache_read_tokens), 0) AS cread,"
        "  coalesce(sum(e.cache_creation_tokens), 0) AS cmade,"
        "  coalesce(sum(e.reasoning_tokens), 0) AS reason"
        "  FROM events e WHERE e.team_id = k.team AND e.session_id = k.sid) a"
        " WHERE st.team_id = k.team AND st.session_id = k.sid",
        (teams, sids),
    )
    conn.execute(
        "DELETE FROM session_agents sa USING unnest(%s::text[], %s::text[]) AS k(team, sid)"
        " WHERE sa.team_id = k.team AND sa.session_id = k.sid",
        (teams, sids),
    )
    conn.execute(
        "INSERT INTO session_agents (team_id, session_id, agent_id, event_count, error_count,"
        " first_event_at, last_event_at)"
        " SELECT e.team_id, e.session_id, e.agent_id, count(*),"
        " count(*) FILTER (WHERE e.status = 'error' OR e.type = 'ERROR'), min(e.ts), max(e.ts)"
        " FROM events e JOIN unnest(%s::text[], %s::text[]) AS k(team, sid)"
        " ON e.team_id = k.team AND e.session_id = k.sid"
        " WHERE e.agent_id IS NOT NULL GROUP BY e.team_id, e.session_id, e.agent_id",
        (teams, sids),
    )
    stamp_changed(conn, keys, POSTGRES.p)


def drop_expired_months(
    conn: psycopg.Connection, horizons: Mapping[str, int]
) -> list[partitions.Month]:
    """Drop the months every team is done with; fix the totals of sessions that lost events."""
    limit = cutoff(conn, horizons)
    if limit is None:
        return []
    doomed = [m for m in partitions.existing_months(conn) if partitions.month_bounds(m)[1] <= limit]
    if not doomed:
        return []
    end = max(partitions.month_bounds(m)[1] for m in doomed)
    with conn.transaction():
        keys: list[SessionKey] = [
            (r[0], r[1])
            for r in conn.execute(
                "SELECT team_id, session_id FROM session_stats WHERE first_event_at < %s", (end,)
            ).fetchall()
        ]
        dropped = partitions.drop_months_before(conn, limit)
        recompute(conn, keys)
    return dropped


__all__ = ["cutoff", "drop_expired_months", "recompute", "teams_with_sessions"]
