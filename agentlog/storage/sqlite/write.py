"""The SQLite store's write path: upserts, idempotent event inserts, aggregates, batched FTS.

Everything here runs inside one `BEGIN IMMEDIATE` transaction on the writer
connection (see `conn.Connections.transaction`). Aggregates are kept up
from the rows actually inserted (duplicates never count twice), so listing
sessions never scans events. Full-text rows are added in large batches (a
trigger per row costs 4–6x the insert): by the write itself when it holds
`fts.INLINE_ROWS` rows or more and nothing waits below them, else later by
`fts.index_all`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import reduce
from operator import add
from typing import Any

from agentlog.model import Session
from agentlog.storage.sql.rows import (
    ROW_AGENT,
    ROW_CACHE_CREATION,
    ROW_CACHE_READ,
    ROW_COST,
    ROW_DURATION,
    ROW_INPUT,
    ROW_OUTPUT,
    ROW_REASONING,
    ROW_SESSION,
    ROW_TS,
    event_end_us,
    missing_sessions_of_rows,
    row_is_error,
    session_row,
)
from agentlog.storage.sql.teams import only_team, owners
from agentlog.storage.sql.textsearch import normalize_for_index
from agentlog.storage.sqlite import fts
from agentlog.storage.sqlite.migrations import BLOCK_SHIFT

_CHUNK = 500  # ids per IN (...) lookup

INSERT_EVENT = (
    "INSERT INTO events (rid, id, session_id, ts, type, agent_id, name, status, parent_id,"
    " duration_ms, input_tokens, output_tokens, cost_usd, metadata, content,"
    " cache_read_tokens, cache_creation_tokens, reasoning_tokens, team_id)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)


def chunks(values: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for lo in range(0, len(values), size):
        yield values[lo : lo + size]


# ---------------------------------------------------------------- sessions
def session_teams(
    conn: sqlite3.Connection, ids: Sequence[str], scope: str | None
) -> dict[str, set[str]]:
    """The teams holding each existing session among `ids` (only `scope`'s, when given)."""
    rows: list[tuple[str, str]] = []
    for part in chunks(list(ids)):
        sql = f"SELECT id, team_id FROM sessions WHERE id IN ({','.join('?' * len(part))})"
        params = list(part)
        if scope is not None:
            sql += " AND team_id = ?"
            params.append(scope)
        rows.extend(conn.execute(sql, params).fetchall())
    return owners(rows)


def _fts_replace_session(conn: sqlite3.Connection, rid: int, title: str, description: str) -> None:
    conn.execute("DELETE FROM sessions_fts WHERE rowid = ?", (rid,))
    conn.execute(
        "INSERT INTO sessions_fts (rowid, title, description) VALUES (?, ?, ?)",
        (rid, normalize_for_index(title), normalize_for_index(description)),
    )


def insert_session(conn: sqlite3.Connection, s: Session, team: str, created_by: str | None) -> None:
    """Insert `s` as team `team`'s (a team key: `NO_TEAM` for none)."""
    row = session_row(s)
    row["team_id"] = team
    row["created_by"] = created_by
    cols = ", ".join(row)
    cur = conn.execute(
        f"INSERT INTO sessions ({cols}) VALUES ({','.join('?' * len(row))})", list(row.values())
    )
    rid = cur.lastrowid
    assert rid is not None  # an INSERT that returned sets it
    conn.execute(
        "INSERT INTO session_stats (team_id, session_id, activity_at) VALUES (?, ?, ?)",
        (team, s.id, row["created_at"]),
    )
    if row["title"] or row["description"]:
        _fts_replace_session(conn, rid, row["title"], row["description"])


def upsert_session(
    conn: sqlite3.Connection, s: Session, scope: str | None, user: str | None
) -> str:
    """Insert `s`, or overwrite its fields (created_at only moves earlier, updated_at only later).

    Returns the team key it was written under: the view's team, else the session's
    own, else `only_team` of its id (see `sql/teams.py`).
    """
    if scope is not None:
        team, by = scope, user
    else:
        found = session_teams(conn, [s.id], None).get(s.id, set())
        team = s.team_id or only_team(found)
        by = s.created_by
    old = conn.execute(
        "SELECT rid, title, description, created_at, updated_at FROM sessions"
        " WHERE id = ? AND team_id = ?",
        (s.id, team),
    ).fetchone()
    if old is None:
        insert_session(conn, s, team, by)
        return team
    rid, title, description, created, updated = old
    row = session_row(s)
    row["created_at"] = min(created, row["created_at"])
    row["updated_at"] = max(updated, row["updated_at"])
    sets = ", ".join(f"{k} = ?" for k in row if k != "id")
    conn.execute(
        f"UPDATE sessions SET {sets} WHERE rid = ?",
        [v for k, v in row.items() if k != "id"] + [rid],
    )
    conn.execute(
        "UPDATE session_stats SET activity_at = max(activity_at, ?)"
        " WHERE team_id = ? AND session_id = ?",
        (row["created_at"], team, s.id),
    )
    if (title, description) != (row["title"], row["description"]):
        _fts_replace_session(conn, rid, row["title"], row["description"])
    return team


# ---------------------------------------------------------------- events
@dataclass
class _Agg:
    count: int = 0
    errors: int = 0
    first: int = 0
    last: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    cache_read: int = 0
    cache_creation: int = 0
    reasoning: int = 0
    first_rid: int = 0
    last_rid: int = 0
    end: int = 0  # latest event end: timestamp + duration
    agents: dict[str, list[int]] = field(
        default_factory=dict
    )  # agent -> [count, errors, first, last]


def existing_event_ids(conn: sqlite3.Connection, ids: Sequence[str]) -> set[tuple[str, str]]:
    """(team key, id) of the stored events among `ids` (an id is unique only within its team)."""
    found: set[tuple[str, str]] = set()
    for part in chunks(list(ids)):
        sql = f"SELECT team_id, id FROM events WHERE id IN ({','.join('?' * len(part))})"
        found.update(conn.execute(sql, list(part)).fetchall())
    return found


def next_rid(conn: sqlite3.Connection) -> tuple[int, bool]:
    """The rid for the next event, above every row and above the FTS watermark; and whether
    the full-text index holds every row (nothing waits to be indexed below it).

    Explicit rids never reuse a number the full-text index has seen, even after
    the newest rows were deleted (which plain INTEGER PRIMARY KEY would allow).
    """
    top = conn.execute("SELECT max(rid) FROM events").fetchone()[0] or 0
    mark = fts.watermark(conn)
    return max(top, mark) + 1, top <= mark


def _blocks(rid: int, ts: Sequence[int]) -> list[tuple[int, int, int]]:
    """(block, min ts, max ts) of rows numbered `rid`, `rid + 1`, … with timestamps `ts`."""
    out = []
    lo, n = 0, len(ts)
    while lo < n:
        block = (rid + lo) >> BLOCK_SHIFT
        hi = min(n, ((block + 1) << BLOCK_SHIFT) - rid)
        part = ts[lo:hi]
        out.append((block, min(part), max(part)))
        lo = hi
    return out


def _by_session(
    rows: Sequence[Sequence[Any]],
) -> dict[str, tuple[Sequence[Sequence[Any]], int, int]]:
    """Each session's rows, with the positions of its first and last row in `rows`."""
    first_sid = rows[0][ROW_SESSION]
    if all(row[ROW_SESSION] == first_sid for row in rows):  # the usual batch: one session
        return {first_sid: (rows, 0, len(rows) - 1)}
    where: dict[str, list[int]] = {}
    for k, row in enumerate(rows):
        where.setdefault(row[ROW_SESSION], []).append(k)
    return {sid: ([rows[k] for k in ks], ks[0], ks[-1]) for sid, ks in where.items()}


def _fold(rows: Sequence[Sequence[Any]], first_rid: int, last_rid: int) -> _Agg:
    """One session's new rows as the increments of its aggregates, a column at a time (the
    sums, minima and maxima run in C; a Python loop over rows cost ~1.3 µs a row)."""
    cols = list(zip(*rows, strict=True))
    ts = cols[ROW_TS]
    errors = list(map(row_is_error, rows))
    agg = _Agg(
        count=len(rows),
        errors=sum(errors),
        first=min(ts),
        last=max(ts),
        input_tokens=sum(filter(None, cols[ROW_INPUT])),
        output_tokens=sum(filter(None, cols[ROW_OUTPUT])),
        # Added in order, one at a time (as each event's cost is added to the session's):
        # sum() compensates on Python 3.12+, which would change the last digits.
        cost=reduce(add, filter(None, cols[ROW_COST]), 0.0),
        cache_read=sum(filter(None, cols[ROW_CACHE_READ])),
        cache_creation=sum(filter(None, cols[ROW_CACHE_CREATION])),
        reasoning=sum(filter(None, cols[ROW_REASONING])),
        first_rid=first_rid,
        last_rid=last_rid,
        end=max(map(event_end_us, ts, cols[ROW_DURATION])),
    )
    agents = cols[ROW_AGENT]
    if agents[0] and agents.count(agents[0]) == len(agents):  # the usual batch: one agent
        agg.agents[agents[0]] = [agg.count, agg.errors, agg.first, agg.last]
        return agg
    for agent, err, t in zip(agents, errors, ts, strict=True):
        if agent:
            a = agg.agents.get(agent)
            if a is None:
                agg.agents[agent] = [1, int(err), t, t]
            else:
                a[0] += 1
                a[1] += err
                if t < a[2]:
                    a[2] = t
                elif t > a[3]:
                    a[3] = t
    return agg


def insert_events(
    conn: sqlite3.Connection, rows: Sequence[Sequence[Any]], teams: dict[str, str]
) -> None:
    """Insert new (already de-duplicated) event rows (`sql.rows.event_values`' order) and
    fold them into the aggregates.

    `teams`: the team key of each event's session. A write of `fts.INLINE_ROWS` rows or
    more onto an index with no backlog indexes them in the same transaction, from the
    rows in hand (`fts.index_rows`); smaller ones wait for a batch.
    """
    if not rows:
        return
    rid, indexed = next_rid(conn)
    conn.executemany(
        INSERT_EVENT, [(rid + k, *row, teams[row[ROW_SESSION]]) for k, row in enumerate(rows)]
    )
    conn.executemany(
        "INSERT INTO event_blocks (block, min_ts, max_ts) VALUES (?, ?, ?) ON CONFLICT (block)"
        " DO UPDATE SET min_ts = min(min_ts, excluded.min_ts), max_ts = max(max_ts, excluded.max_ts)",
        _blocks(rid, [row[ROW_TS] for row in rows]),
    )
    aggs = {
        (teams[sid], sid): _fold(part, rid + first, rid + last)
        for sid, (part, first, last) in _by_session(rows).items()
    }
    conn.executemany(
        "UPDATE session_stats SET event_count = event_count + ?, error_count = error_count + ?,"
        " first_event_at = min(coalesce(first_event_at, ?), ?),"
        " last_event_at = max(coalesce(last_event_at, ?), ?),"
        " activity_at = max(activity_at, ?),"
        " input_tokens = input_tokens + ?, output_tokens = output_tokens + ?,"
        " cost_usd = cost_usd + ?, first_rid = coalesce(first_rid, ?), last_rid = ?,"
        " last_end_at = max(coalesce(last_end_at, ?), ?),"
        " cache_read_tokens = cache_read_tokens + ?,"
        " cache_creation_tokens = cache_creation_tokens + ?,"
        " reasoning_tokens = reasoning_tokens + ?"
        " WHERE team_id = ? AND session_id = ?",
        [
            (
                a.count,
                a.errors,
                a.first,
                a.first,
                a.last,
                a.last,
                a.last,
                a.input_tokens,
                a.output_tokens,
                a.cost,
                a.first_rid,
                a.last_rid,
                a.end,
                a.end,
                a.cache_read,
                a.cache_creation,
                a.reasoning,
                team,
                sid,
            )
            for (team, sid), a in aggs.items()
        ],
    )
    conn.executemany(
        "INSERT INTO session_agents (team_id, session_id, agent_id, event_count, error_count,"
        " first_event_at, last_event_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (team_id, session_id, agent_id) DO UPDATE SET"
        " event_count = event_count + excluded.event_count,"
        " error_count = error_count + excluded.error_count,"
        " first_event_at = min(first_event_at, excluded.first_event_at),"
        " last_event_at = max(last_event_at, excluded.last_event_at)",
        [
            (team, sid, agent, v[0], v[1], v[2], v[3])
            for (team, sid), a in aggs.items()
            for agent, v in a.agents.items()
        ],
    )
    # updated_at follows the newest event (the same as "now" for a live agent, and
    # stable when history is imported).
    conn.executemany(
        "UPDATE sessions SET updated_at = max(updated_at, ?) WHERE id = ? AND team_id = ?",
        [(a.last, sid, team) for (team, sid), a in aggs.items()],
    )
    if len(rows) >= fts.INLINE_ROWS and indexed:
        fts.index_rows(conn, rid, rows)


def create_missing_sessions(
    conn: sqlite3.Connection,
    rows: Sequence[Sequence[Any]],
    known: dict[str, str],
    team: str,
    user_id: str | None,
) -> None:
    """Create team `team`'s untitled active session for each session id in the event `rows`
    not in `known`."""
    for sid, session in missing_sessions_of_rows(rows, known).items():
        insert_session(conn, session, team, user_id)
        known[sid] = team


def delete_session_rows(conn: sqlite3.Connection, team: str, session_id: str, rid: int) -> int:
    """Erase one session, its events, aggregates and index rows; return events erased."""
    key = (team, session_id)
    fts.unindex_events(conn, "team_id = ? AND session_id = ?", key)
    erased = conn.execute("DELETE FROM events WHERE team_id = ? AND session_id = ?", key).rowcount
    conn.execute("DELETE FROM session_agents WHERE team_id = ? AND session_id = ?", key)
    conn.execute("DELETE FROM session_stats WHERE team_id = ? AND session_id = ?", key)
    conn.execute("DELETE FROM sessions_fts WHERE rowid = ?", (rid,))
    conn.execute("DELETE FROM sessions WHERE rid = ?", (rid,))
    return erased
