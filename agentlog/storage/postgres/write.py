"""The PostgreSQL store's write path: session upserts, idempotent event inserts, aggregates.

Everything here runs inside the caller's transaction. Sessions and events are
keyed by (team, id) (`sql/teams.py`). Events are partitioned by month of their
timestamp (`partitions.py`), so their unique key must hold it: (team_id, id, ts).
They go in with `INSERT ... ON CONFLICT (team_id, id, ts) DO NOTHING RETURNING`,
so concurrent writers of the same events never fail and the aggregates fold in
only the rows this call actually inserted (duplicates never count twice). An id
the team already holds under another timestamp is a duplicate too, as in the
SQLite store, where the id alone is the key (a script that logs with fixed ids
and the time of each run relies on it): `stored_ids` looks the batch's ids up on
the key's (team_id, id) prefix first, one query per team. That lookup is what
partitioning costs the write path: 12-16% of the median 1,000-event batch, measured with
`bench/bench_pg_ab.py`, 7-11% of the total (partitioning alone: 1.01x). Only two writers racing to
store one id under two timestamps could both succeed. The full-text rows of
the events inserted are written by the same statement (`INSERT_EVENTS`,
`postgres/search.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
import psycopg

from agentlog.model import Event, Session, to_us
from agentlog.storage.postgres.dialect import POSTGRES
from agentlog.storage.postgres.search import TSV, index_text, session_search_sql
from agentlog.storage.sql.rows import event_end_us, missing_sessions, session_row
from agentlog.storage.sql.teams import only_team, owners

_SESSION_COLS = (
    "id, title, description, status, parent_session_id, tags, metadata, created_at,"
    " updated_at, ended_at, team_id, created_by"
)


def _dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS, default=str).decode()


def session_teams(
    conn: psycopg.Connection, ids: Sequence[str], scope: str | None
) -> dict[str, set[str]]:
    """The teams holding each existing session among `ids` (only `scope`'s, when given)."""
    if not ids:
        return {}
    if scope is None:
        # Every team named, so the (team_id, id) key finds each id (no scan of every session).
        rows = conn.execute(
            "SELECT id, team_id FROM sessions WHERE id = ANY(%s)"
            f" AND team_id = ANY(ARRAY({POSTGRES.every_team}))",
            (list(ids),),
        )
    else:
        rows = conn.execute(
            "SELECT id, team_id FROM sessions WHERE id = ANY(%s) AND team_id = %s",
            (list(ids), scope),
        )
    return owners(rows.fetchall())


def set_search(
    conn: psycopg.Connection, team: str, session_id: str, title: str, description: str
) -> None:
    conn.execute(
        f"UPDATE sessions SET search = {session_search_sql()} WHERE id = %s AND team_id = %s",
        (index_text(title), index_text(description), session_id, team),
    )


def insert_session(
    conn: psycopg.Connection, s: Session, team_id: str, created_by: str | None
) -> bool:
    """Insert `s` as team `team_id`'s unless that key exists (then nothing happens); return whether it was inserted."""
    row = session_row(s)
    cur = conn.execute(
        f"INSERT INTO sessions ({_SESSION_COLS}, search) VALUES"
        " (%s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s, %s, %s, %s, %s, "
        + session_search_sql()
        + ") ON CONFLICT (id, team_id) DO NOTHING RETURNING id",
        (
            row["id"],
            row["title"],
            row["description"],
            row["status"],
            row["parent_session_id"],
            row["tags"],
            row["metadata"],
            row["created_at"],
            row["updated_at"],
            row["ended_at"],
            team_id,
            created_by,
            index_text(row["title"]),
            index_text(row["description"]),
        ),
    )
    if cur.fetchone() is None:
        return False
    conn.execute(
        "INSERT INTO session_stats (team_id, session_id, activity_at) VALUES (%s, %s, %s)",
        (team_id, s.id, row["created_at"]),
    )
    return True


def upsert_session(
    conn: psycopg.Connection, s: Session, scope: str | None, user: str | None
) -> str:
    """Insert `s`, or overwrite its fields (created_at only moves earlier, updated_at only later).

    Returns the team key it was written under (as the SQLite store's `upsert_session`).
    """
    if scope is not None:
        team, by = scope, user
    else:
        team = s.team_id or only_team(session_teams(conn, [s.id], None).get(s.id, set()))
        by = s.created_by
    if insert_session(conn, s, team, by):
        return team
    old = conn.execute(
        "SELECT title, description, created_at, updated_at FROM sessions"
        " WHERE id = %s AND team_id = %s FOR UPDATE",
        (s.id, team),
    ).fetchone()
    assert old is not None  # ON CONFLICT found it and nothing deletes inside this transaction
    title, description, created, updated = old
    row = session_row(s)
    row["created_at"] = min(created, row["created_at"])
    row["updated_at"] = max(updated, row["updated_at"])
    sets = [
        "title = %s",
        "description = %s",
        "status = %s",
        "parent_session_id = %s",
        "tags = %s::jsonb",
        "metadata = %s::jsonb",
        "created_at = %s",
        "updated_at = %s",
        "ended_at = %s",
    ]
    values: list[Any] = [
        row["title"],
        row["description"],
        row["status"],
        row["parent_session_id"],
        row["tags"],
        row["metadata"],
        row["created_at"],
        row["updated_at"],
        row["ended_at"],
    ]
    conn.execute(
        f"UPDATE sessions SET {', '.join(sets)} WHERE id = %s AND team_id = %s",
        [*values, s.id, team],
    )
    conn.execute(
        "UPDATE session_stats SET activity_at = greatest(activity_at, %s)"
        " WHERE team_id = %s AND session_id = %s",
        (row["created_at"], team, s.id),
    )
    if (title, description) != (row["title"], row["description"]):
        set_search(conn, team, s.id, row["title"], row["description"])
    return team


def create_missing_sessions(
    conn: psycopg.Connection,
    events: Sequence[Event],
    known: dict[str, str],
    team_id: str,
    user_id: str | None,
) -> None:
    """Create team `team_id`'s untitled active session for each session id in `events` not in `known`.

    A concurrent writer of the same team may create one first: then it stays as that
    writer made it (its key is the same, so the events go into it either way).
    """
    new = missing_sessions(events, known)
    for sid in sorted(new):
        insert_session(conn, new[sid], team_id, user_id)
        known[sid] = team_id


# %b: the arrays go in binary (psycopg's text format escapes every string, ~40% of a write).
# One statement writes the events and their full-text rows: the tokens travel with the
# rows (`index_text`, computed here) and only the rows actually inserted get one, so the
# events are searchable when the write commits, with no second read of their content.
INSERT_EVENTS = (
    "WITH t AS MATERIALIZED (SELECT * FROM unnest(%b::text[], %b::text[], %b::bigint[],"
    " %b::text[], %b::text[], %b::text[], %b::text[], %b::text[], %b::float8[], %b::bigint[],"
    " %b::bigint[], %b::float8[], %b::text[], %b::text[], %b::bigint[], %b::bigint[],"
    " %b::bigint[], %b::text[], %b::text[], %b::text[])"
    " AS t(id, session_id, ts, type, agent_id, name, status, parent_id,"
    " duration_ms, input_tokens, output_tokens, cost_usd, metadata, content,"
    " cache_read_tokens, cache_creation_tokens, reasoning_tokens, team_id, name_tokens,"
    " content_tokens)),"
    " ins AS (INSERT INTO events (id, session_id, ts, type, agent_id, name, status, parent_id,"
    " duration_ms, input_tokens, output_tokens, cost_usd, metadata, content,"
    " cache_read_tokens, cache_creation_tokens, reasoning_tokens, team_id)"
    " SELECT t.id, t.session_id, t.ts, t.type, t.agent_id, t.name, t.status, t.parent_id,"
    " t.duration_ms, t.input_tokens, t.output_tokens, t.cost_usd, t.metadata::jsonb, t.content,"
    " t.cache_read_tokens, t.cache_creation_tokens, t.reasoning_tokens, t.team_id"
    " FROM t ORDER BY t.ts, t.id"
    " ON CONFLICT (team_id, id, ts) DO NOTHING RETURNING rid, id, team_id, ts),"
    " fts AS (INSERT INTO events_fts (team_id, rid, ts, tsv)"
    " SELECT ins.team_id, ins.rid, ins.ts, "
    + TSV.format("t.name_tokens", "t.content_tokens")
    + " FROM ins JOIN t ON t.id = ins.id AND t.team_id = ins.team_id)"
    " SELECT id, team_id FROM ins"
)


def event_columns(events: Sequence[Event], teams: dict[str, str]) -> tuple[list[Any], ...]:
    """The events as 20 column arrays, in INSERT_EVENTS order (`teams`: each session's team
    key; the last two: the full-text tokens of name and content)."""
    return (
        [e.id for e in events],
        [e.session_id for e in events],
        [to_us(e.timestamp) for e in events],
        [str(e.type) for e in events],
        [e.agent_id for e in events],
        [e.name for e in events],
        [str(e.status) for e in events],
        [e.parent_id for e in events],
        [e.duration_ms for e in events],
        [e.input_tokens for e in events],
        [e.output_tokens for e in events],
        [e.cost_usd for e in events],
        [_dumps(e.metadata) if e.metadata else "{}" for e in events],
        [e.content for e in events],
        [e.cache_read_tokens for e in events],
        [e.cache_creation_tokens for e in events],
        [e.reasoning_tokens for e in events],
        [teams[e.session_id] for e in events],
        [index_text(e.name) for e in events],
        [index_text(e.content) for e in events],
    )


def stored_ids(
    conn: psycopg.Connection, events: Sequence[Event], teams: dict[str, str]
) -> set[tuple[str, str]]:
    """The (team, id) keys among `events` already stored, under any timestamp.

    One query per team with all its ids (`id = ANY(...)`: one scan of each month's
    key); a third of the cost of a probe per event as a subquery of the insert
    (which PostgreSQL must not flatten into a hash anti-join over every event).
    """
    by_team: dict[str, list[str]] = {}
    for e in events:
        by_team.setdefault(teams[e.session_id], []).append(e.id)
    found: set[tuple[str, str]] = set()
    for team, ids in sorted(by_team.items()):
        rows = conn.execute(
            "SELECT id FROM events WHERE team_id = %s AND id = ANY(%s)", (team, ids)
        ).fetchall()
        found.update((team, r[0]) for r in rows)
    return found


def insert_events(conn: psycopg.Connection, events: Sequence[Event], teams: dict[str, str]) -> int:
    """Insert (key-unique) events, skipping keys already stored; fold the new ones into the aggregates.

    `teams`: the team key of each event's session. Returns how many were inserted.
    """
    if not events:
        return 0
    stored = stored_ids(conn, events, teams)
    if stored:
        events = [e for e in events if (teams[e.session_id], e.id) not in stored]
        if not events:
            return 0
    returned = conn.execute(INSERT_EVENTS, event_columns(events, teams)).fetchall()
    if not returned:
        return 0
    if len(returned) == len(events):  # the usual case: every event was new
        new = [(teams[e.session_id], e) for e in events]
    else:  # a concurrent writer stored some of them first
        by_key = {(teams[e.session_id], e.id): e for e in events}
        new = [(team, by_key[(team, eid)]) for eid, team in returned]
    _fold_aggregates(conn, new)
    return len(new)


def _fold_aggregates(conn: psycopg.Connection, events: Sequence[tuple[str, Event]]) -> None:
    # (team, sid) -> [count, errors, first, last, tin, tout, cost, end, cache read,
    # cache creation, reasoning]
    aggs: dict[tuple[str, str], list[Any]] = {}
    # (team, sid, agent) -> [count, errors, first, last]
    agents: dict[tuple[str, str, str], list[int]] = {}
    for team, e in events:
        ts = to_us(e.timestamp)
        err = int(e.is_error)
        a = aggs.get((team, e.session_id))
        if a is None:
            a = aggs[(team, e.session_id)] = [0, 0, ts, ts, 0, 0, 0.0, ts, 0, 0, 0]
        a[0] += 1
        a[1] += err
        a[2] = min(a[2], ts)
        a[3] = max(a[3], ts)
        a[4] += e.input_tokens or 0
        a[5] += e.output_tokens or 0
        a[6] += e.cost_usd or 0.0
        a[7] = max(a[7], event_end_us(ts, e.duration_ms))
        a[8] += e.cache_read_tokens or 0
        a[9] += e.cache_creation_tokens or 0
        a[10] += e.reasoning_tokens or 0
        if e.agent_id:
            g = agents.get((team, e.session_id, e.agent_id))
            if g is None:
                agents[(team, e.session_id, e.agent_id)] = [1, err, ts, ts]
            else:
                g[0] += 1
                g[1] += err
                g[2] = min(g[2], ts)
                g[3] = max(g[3], ts)
    keys = sorted(aggs)  # a fixed lock order: concurrent writers never deadlock
    cols = list(zip(*(aggs[key] for key in keys), strict=True))
    conn.execute(
        "UPDATE session_stats st SET event_count = st.event_count + t.n,"
        " error_count = st.error_count + t.errs,"
        " first_event_at = least(coalesce(st.first_event_at, t.lo), t.lo),"
        " last_event_at = greatest(coalesce(st.last_event_at, t.hi), t.hi),"
        " activity_at = greatest(st.activity_at, t.hi),"
        " input_tokens = st.input_tokens + t.tin, output_tokens = st.output_tokens + t.tout,"
        " cost_usd = st.cost_usd + t.cost,"
        " last_end_at = greatest(coalesce(st.last_end_at, t.fin), t.fin),"
        " cache_read_tokens = st.cache_read_tokens + t.cread,"
        " cache_creation_tokens = st.cache_creation_tokens + t.cmade,"
        " reasoning_tokens = st.reasoning_tokens + t.reason"
        " FROM unnest(%s::text[], %s::text[], %s::bigint[], %s::bigint[], %s::bigint[],"
        " %s::bigint[], %s::bigint[], %s::bigint[], %s::float8[], %s::bigint[], %s::bigint[],"
        " %s::bigint[], %s::bigint[])"
        " AS t(team, sid, n, errs, lo, hi, tin, tout, cost, fin, cread, cmade, reason)"
        " WHERE st.team_id = t.team AND st.session_id = t.sid",
        ([k[0] for k in keys], [k[1] for k in keys], *(list(c) for c in cols)),
    )
    if agents:
        agent_keys = sorted(agents)
        conn.execute(
            "INSERT INTO session_agents (team_id, session_id, agent_id, event_count, error_count,"
            " first_event_at, last_event_at)"
            " SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::bigint[],"
            " %s::bigint[], %s::bigint[], %s::bigint[])"
            " ON CONFLICT (team_id, session_id, agent_id) DO UPDATE SET"
            " event_count = session_agents.event_count + excluded.event_count,"
            " error_count = session_agents.error_count + excluded.error_count,"
            " first_event_at = least(session_agents.first_event_at, excluded.first_event_at),"
            " last_event_at = greatest(session_agents.last_event_at, excluded.last_event_at)",
            (
                [k[0] for k in agent_keys],
                [k[1] for k in agent_keys],
                [k[2] for k in agent_keys],
                *([agents[k][i] for k in agent_keys] for i in range(4)),
            ),
        )
    # updated_at follows the newest event (as in the SQLite store).
    conn.execute(
        "UPDATE sessions s SET updated_at = greatest(s.updated_at, t.hi)"
        " FROM unnest(%s::text[], %s::text[], %s::bigint[]) AS t(team, sid, hi)"
        " WHERE s.id = t.sid AND s.team_id = t.team AND s.updated_at < t.hi",
        ([k[0] for k in keys], [k[1] for k in keys], [aggs[k][3] for k in keys]),
    )


def delete_session_rows(conn: psycopg.Connection, team: str, session_id: str) -> int:
    """Erase one session, its events, aggregates and index rows; return events erased."""
    key = (team, session_id)
    conn.execute(
        "DELETE FROM events_fts f USING events e"
        " WHERE e.team_id = %s AND e.session_id = %s AND f.team_id = e.team_id"
        " AND f.rid = e.rid AND f.ts = e.ts",
        key,
    )
    erased = conn.execute("DELETE FROM events WHERE team_id = %s AND session_id = %s", key).rowcount
    conn.execute("DELETE FROM session_agents WHERE team_id = %s AND session_id = %s", key)
    conn.execute("DELETE FROM session_stats WHERE team_id = %s AND session_id = %s", key)
    conn.execute("DELETE FROM sessions WHERE team_id = %s AND id = %s", key)
    return erased
