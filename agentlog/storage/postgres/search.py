"""Full-text search on PostgreSQL: the same tokens as SQLite's FTS5, in tsvector + GIN, indexed in batches.

Both sides go through `textsearch`'s normalisation (NFKC, Arabic folding and
bare words after the article, CJK bigrams then unigrams) and then through the
tokenizer that mimics FTS5's `unicode61 remove_diacritics 2`; the resulting
tokens, joined by spaces, are what PostgreSQL's 'simple' configuration sees.
So Chinese, Japanese and Arabic match exactly as in the SQLite contract tests.

User text never reaches tsquery syntax: each quoted term of
`textsearch.query_terms` becomes `phraseto_tsquery('simple', tokens)` and the
terms are AND-ed, so quotes, `&`, `|`, `!`, `:*` and parentheses are plain text.

Each write indexes the events it inserts in the same statement (`write.py`:
the tokens are computed in Python and travel with the rows), so an event is
searchable when its write commits. Earlier versions filled the index behind
the writes instead: each write queued the rid range it inserted in
`fts_pending` and `index_batch` turned those ranges into `events_fts` rows,
re-reading every event's content. A store may still hold such a queue (and a
migration may queue its rows): a search drains it first (`index_all`), so a
flushed event is always found. Indexing inline took HTTP ingest "until durable
and searchable" from a median of 56.5% to 100.5% of raw COPY + tsvector, in
eight alternating pairs (bench/RESULTS.md, "Issue 16, session 8").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from agentlog.storage.postgres.conn import schema_lock
from agentlog.storage.postgres.partitions import existing_months, month_bounds, partition_name
from agentlog.storage.sql.textsearch import (
    SEALED_PREFIX,
    _tokens,
    normalize_for_index,
    query_terms,
)

FTS_BATCH_ROWS = 10_000  # events per indexing transaction
# unicode61 on ASCII keeps runs of letters and digits, lower-cased: every other ASCII
# character becomes a space (runs of spaces give the same tsvector, positions included).
# One `str.translate` pass is ~15x faster than finding the words and joining them,
# and it ran on every event the server writes (14% of a worker's ingest time).
_ASCII_WORDS = {c: chr(c).lower() if chr(c).isalnum() else " " for c in range(128)}
_INDEX_LOCK = "agentlog-fts"
TSV = "to_tsvector('simple', {0}) || to_tsvector('simple', {1})"


def index_text(text: str | None) -> str:
    """The tokens of `text` as FTS5 would index them, space-separated, for to_tsvector('simple')."""
    if not text or text.startswith(SEALED_PREFIX):
        return ""
    if text.isascii():
        return text.translate(_ASCII_WORDS)  # the hot path
    return " ".join(_tokens(normalize_for_index(text)))


def query_phrases(text: str) -> list[str]:
    """One space-separated token string per required phrase of user `text` (empty: no words)."""
    phrases = []
    for term in query_terms(text):
        tokens = _tokens(term[1:-1].replace('""', '"'))
        if tokens:
            phrases.append(" ".join(tokens))
    return phrases


def tsquery_sql(phrases: Sequence[str]) -> tuple[str, list[Any]]:
    """SQL for a tsquery requiring every phrase, and its parameters."""
    parts = ["phraseto_tsquery('simple', %s)"] * len(phrases)
    return "(" + " && ".join(parts) + ")", list(phrases)


# A search whose words match at most this many events reads exactly those events by
# rid (the GIN index first); past it, PostgreSQL's own plan (for a common word, a walk
# of the (ts, id) index newest-first). PostgreSQL estimates a word missing from its
# statistics at half the rarest word it knows: at 3,000,000 events it took a word found
# 30 times for 3,250 and walked all 3,000,000 rows (15 s) instead (bench/RESULTS.md).
FEW_MATCHES = 1000


def few_matches(
    conn: psycopg.Connection, text: str, teams: Sequence[str], limit: int = FEW_MATCHES
) -> list[int] | None:
    """The rids of every indexed event of `teams` matching `text`, or None when more than `limit` do.

    Cheap either way: one statement reads the months newest first, each month's part
    planned on its own with a budget of `limit + 1` rows, and stops as soon as `limit + 1`
    rows are found. A rare word is a GIN lookup per month; a common one is a short scan
    of the newest month. (One statement over the partitioned table planned an Append
    whose months each chose the path cheapest for *all* its rows, i.e. a GIN bitmap of
    every posting of a common word: 21 ms at 1,000,000 events, 69 ms at 10,000,000.)
    """
    phrases = query_phrases(text)
    if not phrases:
        return None
    tsq, args = tsquery_sql(phrases)
    # The team is checked on the rows the words find, never through the (team_id, rid,
    # ts) key: `team_id || ''` is no indexed column, so PostgreSQL cannot AND the GIN
    # lookup with a bitmap of every row of the team (at 200,000 events that plan took a
    # rare word from 2 ms to 170 ms, and it grows with the team's rows).
    team_sql, team_args = team_filter("(team_id || '')", teams)
    match = f"tsv @@ {tsq} AND {team_sql} LIMIT %s"
    match_args = [*args, *team_args, limit + 1]
    try:
        rows = _probe(conn, match, match_args, limit)
    except psycopg.errors.UndefinedTable:  # a month dropped since the catalogue was read
        rows = _probe(conn, match, match_args, limit)
    if len(rows) > limit:
        return None
    return [r[0] for r in rows]


def _probe(
    conn: psycopg.Connection, match: str, match_args: list[Any], limit: int
) -> list[tuple[int]]:
    parts: list[str] = []
    params: list[Any] = []
    # Each month's partition by name, newest first (planned ~3x faster than a time range
    # of the parent per month, which PostgreSQL must prune each time: 0.8-1.3 against 3.9 ms
    # for a rare word over 15 months and the default).
    months = sorted(existing_months(conn), reverse=True)
    for month in months:
        parts.append(f"(SELECT rid FROM {partition_name('events_fts', month)} WHERE {match})")
        params += match_args
    # Then the parent, for the time outside those months: the DEFAULT partition, and a
    # month made since the catalogue was read (rows moved out of the default meanwhile).
    outside, outside_args = outside_ranges([month_bounds(m) for m in months])
    parts.append(f"(SELECT rid FROM events_fts WHERE {outside}{match})")
    params += [*outside_args, *match_args]
    return conn.execute(  # never prepared: its plan depends on the words (see events.py)
        " UNION ALL ".join(parts) + " LIMIT %s", [*params, limit + 1], prepare=False
    ).fetchall()


def outside_ranges(ranges: Sequence[tuple[int, int]]) -> tuple[str, list[Any]]:
    """A condition (ending in AND, or empty) for times in none of `ranges`: one OR per
    run of adjacent ranges, which PostgreSQL prunes to the partitions outside them."""
    runs: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if runs and runs[-1][1] == lo:
            runs[-1][1] = hi
        else:
            runs.append([lo, hi])
    return "".join("(ts < %s OR ts >= %s) AND " for _ in runs), [b for run in runs for b in run]


def team_filter(column: str, teams: Sequence[str]) -> tuple[str, list[Any]]:
    """`column` in `teams`: an equality for one team (so an index led by team_id also
    gives its order), `= ANY` for several."""
    if len(teams) == 1:
        return f"{column} = %s", [teams[0]]
    return f"{column} = ANY(%s)", [list(teams)]


def pending_events(conn: psycopg.Connection) -> int:
    """Events written but not yet in the full-text index (for `info`)."""
    row = conn.execute(
        "SELECT count(*) FROM events e WHERE EXISTS (SELECT 1 FROM fts_pending p"
        " WHERE p.team_id = e.team_id AND e.rid BETWEEN p.lo AND p.hi) AND NOT EXISTS"
        " (SELECT 1 FROM events_fts f WHERE f.team_id = e.team_id AND f.rid = e.rid"
        " AND f.ts = e.ts)"
    ).fetchone()
    return int(row[0]) if row else 0


def index_batch(
    conn: psycopg.Connection,
    limit: int = FTS_BATCH_ROWS,
    *,
    wait: bool = True,
    upto: int | None = None,
) -> int:
    """Index the events of the oldest pending writes, up to about `limit` events, in one transaction.

    `upto`: only pending rows with ids up to this one. Returns how many pending
    rows were consumed (0: nothing left, or with `wait=False`, another indexer
    is at work).
    """
    with conn.transaction():
        if not schema_lock(conn, _INDEX_LOCK, wait):
            return 0
        ranges = conn.execute(
            "SELECT id, team_id, lo, hi FROM fts_pending WHERE id <= %s ORDER BY id LIMIT 1000",
            (upto if upto is not None else 2**63 - 1,),
        ).fetchall()
        if not ranges:
            return 0
        taken: list[tuple[str, int]] = []
        spans: list[tuple[str, int, int]] = []
        total = 0
        for pid, team, lo, hi in ranges:
            taken.append((team, pid))
            spans.append((team, lo, hi))
            total += hi - lo + 1
            if total >= limit:
                break
        # A range may hold rids of other writes (identity values interleave); those are
        # another team's, or indexed by their own range or already: ON CONFLICT skips them.
        rows = conn.execute(
            "SELECT e.team_id, e.rid, e.ts, e.name, e.content FROM events e"
            " JOIN unnest(%s::text[], %s::bigint[], %s::bigint[]) AS r(team, lo, hi)"
            " ON e.team_id = r.team AND e.rid BETWEEN r.lo AND r.hi"
            " WHERE NOT EXISTS (SELECT 1 FROM events_fts f"
            " WHERE f.team_id = e.team_id AND f.rid = e.rid AND f.ts = e.ts)",
            ([t for t, _, _ in spans], [lo for _, lo, _ in spans], [hi for _, _, hi in spans]),
        ).fetchall()
        if rows:
            conn.execute(
                "INSERT INTO events_fts (team_id, rid, ts, tsv) SELECT t.team, t.rid, t.ts, "
                + TSV.format("t.n", "t.c")
                + " FROM unnest(%b::text[], %b::bigint[], %b::bigint[], %b::text[], %b::text[])"
                " AS t(team, rid, ts, n, c) ON CONFLICT (team_id, rid, ts) DO NOTHING",
                (
                    [r[0] for r in rows],
                    [r[1] for r in rows],
                    [r[2] for r in rows],
                    [index_text(r[3]) for r in rows],
                    [index_text(r[4]) for r in rows],
                ),
            )
        conn.execute(
            "DELETE FROM fts_pending p USING unnest(%s::text[], %s::bigint[]) AS t(team, id)"
            " WHERE p.team_id = t.team AND p.id = t.id",
            ([t for t, _ in taken], [i for _, i in taken]),
        )
        return len(taken)


def index_all(conn: psycopg.Connection) -> None:
    """Index every write committed before this call (one transaction per batch).

    Writes that commit meanwhile are left for later, so a search never chases
    a steady stream of writers.
    """
    row = conn.execute("SELECT max(id) FROM fts_pending").fetchone()
    top = row[0] if row else None
    if top is None:
        return
    while index_batch(conn, upto=top):
        pass


def session_search_sql() -> str:
    """The tsvector of a session row from its (already tokenised) title and description."""
    return TSV.format("%s", "%s")


__all__ = [
    "FEW_MATCHES",
    "FTS_BATCH_ROWS",
    "few_matches",
    "index_all",
    "index_batch",
    "index_text",
    "query_phrases",
    "team_filter",
    "tsquery_sql",
]
