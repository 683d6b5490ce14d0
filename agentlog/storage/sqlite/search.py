"""One page of a full-text search in (ts, id) order without sorting every match.

FTS5 returns matches in rowid order cheaply and in any other order only by
collecting and sorting all of them (seconds for a word in every event). Event
rids grow in write order, which follows time closely but not exactly (agents
write concurrently, imports replay history). So:

- few matches (< SMALL_MATCH): join them all to `events`, sort, take the page;
- many: walk the matches in rid ranges from the newest (or oldest) end, keep
  the best page so far, and stop when `event_blocks` proves that no rid not
  yet visited can hold an event that sorts before the page's last one. Ranges
  grow geometrically, so a sparse filter costs few queries.

Every candidate still passes through the same SQL filters and keyset clause as
`list_events`, so the result is exactly the page a full sort would give. Rows
written after the index's watermark (when another process holds the writer and
the index cannot catch up) are matched in Python and merged in.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from agentlog.storage.base import EventQuery, event_cursor
from agentlog.storage.sql.filters import event_after, event_filters, ts_bounds
from agentlog.storage.sqlite.dialect import SQLITE
from agentlog.storage.sqlite.migrations import BLOCK_SHIFT

SMALL_MATCH = 2000  # below this many matches, sorting them all is the cheap plan
MAX_GROUP_BLOCKS = 64

Key = tuple[int, str, int]  # (ts, id, rid)


def _candidates(
    conn: sqlite3.Connection,
    match: str,
    where: Sequence[str],
    params: Sequence[Any],
    desc: bool,
    n: int,
    rid_range: tuple[int, int] | None,
) -> list[Key]:
    """The first `n` (ts, id, rid) in order among matches in `rid_range` passing `where`."""
    clauses = ["events_fts MATCH ?"]
    args: list[Any] = [match]
    if rid_range is not None:
        clauses.append("events_fts.rowid >= ? AND events_fts.rowid < ?")
        args.extend(rid_range)
    direction = "DESC" if desc else "ASC"
    # CROSS JOIN keeps FTS5 as the outer loop: SQLite must not walk an events
    # index and probe the full-text table row by row.
    sql = (
        "SELECT e.ts, e.id, e.rid FROM events_fts CROSS JOIN events e ON e.rid = events_fts.rowid"
        f" WHERE {' AND '.join([*clauses, *where])}"
        f" ORDER BY e.ts {direction}, e.id {direction} LIMIT ?"
    )
    return conn.execute(sql, [*args, *params, n]).fetchall()


def search_keys(
    conn: sqlite3.Connection,
    match: str,
    where: Sequence[str],
    params: Sequence[Any],
    *,
    desc: bool,
    n: int,
    ts_range: tuple[int | None, int | None] = (None, None),
    rid_span: tuple[int, int] | None = None,
) -> list[Key]:
    """The first `n` matching (ts, id, rid) in (ts, id) order (descending if `desc`).

    `where`/`params` are the query's other filters and keyset clause over
    `events e`; `ts_range` (inclusive bounds implied by them) and `rid_span`
    (e.g. the session's first and last rid) only let whole blocks be skipped.
    """
    small = conn.execute(
        "SELECT count(*) FROM (SELECT 1 FROM events_fts WHERE events_fts MATCH ? LIMIT ?)",
        (match, SMALL_MATCH),
    ).fetchone()[0]
    if small < SMALL_MATCH:
        return _candidates(conn, match, where, params, desc, n, None)

    lo_ts, hi_ts = ts_range
    sql = "SELECT block, min_ts, max_ts FROM event_blocks"
    args: list[Any] = []
    if rid_span is not None:
        sql += " WHERE block BETWEEN ? AND ?"
        args.extend([rid_span[0] >> BLOCK_SHIFT, rid_span[1] >> BLOCK_SHIFT])
    blocks = [
        b
        for b in conn.execute(sql + " ORDER BY block", args).fetchall()
        if (lo_ts is None or b[2] >= lo_ts) and (hi_ts is None or b[1] <= hi_ts)
    ]
    if not blocks:
        return []
    if desc:
        blocks.reverse()
    # bound[i] = the best ts any block from i onwards can hold (max for desc, min for asc).
    bound: list[int] = [0] * len(blocks)
    best_ts = None
    for i in range(len(blocks) - 1, -1, -1):
        edge = blocks[i][2] if desc else blocks[i][1]
        best_ts = edge if best_ts is None else (max(best_ts, edge) if desc else min(best_ts, edge))
        bound[i] = best_ts

    found: list[Key] = []
    i = 0
    group = 1
    while i < len(blocks):
        if len(found) >= n:
            last_ts = found[n - 1][0]
            # Strict: an equal ts may still hold an id that sorts earlier.
            if (bound[i] < last_ts) if desc else (bound[i] > last_ts):
                break
        chunk = blocks[i : i + group]
        if len(found) >= n:
            # Blocks whose every event sorts after the page's last one cannot change it.
            last_ts = found[n - 1][0]
            chunk = [b for b in chunk if ((b[2] >= last_ts) if desc else (b[1] <= last_ts))]
        for first_block, last_block in _runs(sorted(b[0] for b in chunk)):
            rid_range = (first_block << BLOCK_SHIFT, (last_block + 1) << BLOCK_SHIFT)
            found.extend(_candidates(conn, match, where, params, desc, n, rid_range))
        found.sort(key=lambda k: (k[0], k[1]), reverse=desc)
        del found[n:]
        i += group
        group = min(group * 2, MAX_GROUP_BLOCKS)
    return found


def search_page(
    conn: sqlite3.Connection,
    query: EventQuery,
    match: str,
    team: str | None,
    limit: int,
    *,
    unindexed_from: int | None,
) -> tuple[list[Any], str | None]:
    """One page of `query` (whose text is `match`) as event rows, and the next page's cursor.

    `unindexed_from` is the index watermark when rows above it are not indexed yet.
    """
    where, params = event_filters(SQLITE, query, team, text=False)
    after = event_after(query)
    if after:
        where.append(after[0])
        params.extend(after[1])
    span = None
    if query.session_id is not None:
        span = conn.execute(
            "SELECT first_rid, last_rid FROM session_stats WHERE team_id = ? AND session_id = ?",
            (team, query.session_id),
        ).fetchone()
        if span is None or span[0] is None:
            return [], None
    keys = search_keys(
        conn,
        match,
        where,
        params,
        desc=query.order == "desc",
        n=limit + 1,
        ts_range=ts_bounds(query),
        rid_span=span,
    )
    if unindexed_from is not None:
        keys = _with_unindexed(conn, keys, query, where, params, unindexed_from, limit + 1)
    rows = conn.execute(
        f"SELECT {SQLITE.event_columns}, e.rid FROM events e"
        f" WHERE e.rid IN ({','.join('?' * len(keys))})",
        [k[2] for k in keys],
    ).fetchall()
    by_rid = {row[-1]: row for row in rows}
    more = len(keys) > limit
    cursor = event_cursor(query, keys[limit - 1][0], keys[limit - 1][1]) if more else None
    return [by_rid[k[2]] for k in keys[:limit]], cursor


def _with_unindexed(
    conn: sqlite3.Connection,
    keys: list[Key],
    query: EventQuery,
    where: list[str],
    params: list[Any],
    tail: int,
    n: int,
) -> list[Key]:
    """`keys` merged with the matching rows above the index watermark (matched in Python)."""
    direction = "DESC" if query.order == "desc" else "ASC"
    extra = conn.execute(
        "SELECT e.ts, e.id, e.rid FROM events e WHERE e.rid > ? AND agentlog_match(?, e.name, e.content)"
        f"{''.join(' AND ' + c for c in where)} ORDER BY e.ts {direction}, e.id {direction} LIMIT ?",
        [tail, query.text, *params, n],
    ).fetchall()
    # Dedupe by rid: another process may index the tail between the two reads.
    unique = {k[2]: k for k in [*keys, *extra]}
    merged = sorted(unique.values(), key=lambda k: (k[0], k[1]), reverse=query.order == "desc")
    return merged[:n]


def _runs(numbers: list[int]) -> list[tuple[int, int]]:
    """Sorted block numbers as (first, last) runs of consecutive numbers."""
    runs: list[tuple[int, int]] = []
    for number in numbers:
        if runs and runs[-1][1] == number - 1:
            runs[-1] = (runs[-1][0], number)
        else:
            runs.append((number, number))
    return runs
