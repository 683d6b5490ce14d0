"""PostgreSQL at growing sizes: does a session page and a search stay flat (log growth) as events pile up?

    AGENTLOG_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/bench_scale.py [--sizes 100000,1000000] [--runs 100]

One schema, made by PostgresStore (same tables and indexes as a server),
grown in steps: each step COPYs events (sessions of 1,000 events over a year,
short pseudo-word content, one rare word per 100,000 events), fills the same
tsvector/GIN the store keeps, adds session rows and their summary rows, and
ANALYZEs. At each size, p50/p95 over --runs of:

- page: 100 events from the middle of a random session through
  `PostgresStore.list_events` with a cursor, beside the raw keyset SELECT
  through psycopg (the ceiling, same run, same data);
- search: newest 50 events matching a rare word and a common word through
  `list_events(text=...)`, beside the raw tsvector SELECT;
- probe: the store's few-matches probe alone (`search.few_matches`, its first step
  for a search: do at most 1,000 events match?), for each word;
- sessions: the first page of 50 sessions by last activity (`list_sessions`).

Bounded: the sizes given, schema dropped at the end (`--schema NAME` keeps it and
grows it on the next run, so a 3,000,000-event store is loaded once). `--old-search N`
also times N searches the way the store made them before it read a word's few
matches by rid (the planner alone), for a before/after in one run.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from psycopg import sql

from agentlog.model import to_us, utcnow
from agentlog.storage.base import EventQuery, SessionQuery, event_cursor
from agentlog.storage.postgres import partitions
from agentlog.storage.postgres import search as fts
from agentlog.storage.postgres.store import PostgresStore
from agentlog.storage.postgres.testing import base_url, drop_schema, new_schema_url, with_schema
from agentlog.storage.sql.analytics import percentile

PER_SESSION = 1000
RARE, RARE_EVERY = "zanzibar", 100_000
COMMON = "request"
YEAR_US = 365 * 24 * 3600 * 10**6
TYPES = ("LLM_CALL", "TOOL_CALL", "TOOL_RESULT", "LOG", "AGENT_OUTPUT", "USER_INPUT")
COPY_SQL = (
    "COPY events (id, session_id, ts, type, agent_id, name, status, parent_id, duration_ms,"
    " input_tokens, output_tokens, cost_usd, metadata, content) FROM STDIN"
)


def vocabulary(rng: random.Random) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(5000)]


def contents(rng: random.Random) -> list[str]:
    vocab = vocabulary(rng)
    weights = [1 / (k + 1) for k in range(len(vocab))]  # Zipf-like, as prose is
    pool = []
    for i in range(10_000):
        words = rng.choices(vocab, weights, k=rng.randint(8, 30))
        if i % 3 == 0:
            words.insert(rng.randrange(len(words)), COMMON)
        pool.append(" ".join(words))
    return pool


def uuid7(ts_us: int, seq: int) -> str:
    ms = ts_us // 1000
    head = f"{ms:012x}"
    tail = f"{seq:015x}"[-15:]
    return f"{head[:8]}-{head[8:]}-7{tail[:3]}-8{tail[3:6]}-{tail[6:15]}000"[:36]


def session_id(k: int) -> str:
    return f"00000000-0000-7000-8000-{k:012x}"


class Loader:
    def __init__(self, schema: str, t0_us: int, pool: list[str]) -> None:
        self.conn = psycopg.connect(base_url(), autocommit=True)
        self.conn.execute(sql.SQL("SET search_path = {}").format(sql.Identifier(schema)))
        self.t0_us, self.pool, self.loaded, self.top_rid = t0_us, pool, 0, 0

    def grow(self, total: int, final: int) -> float:
        """COPY events up to `total` (timestamps spread over a year of `final` events)."""
        start, lo, lo_rid = time.perf_counter(), self.loaded, self.top_rid
        step = YEAR_US // final
        for chunk in range(lo, total, 100_000):
            hi = min(chunk + 100_000, total)
            with self.conn.transaction(), self.conn.cursor().copy(COPY_SQL) as copy:
                lines = []
                for i in range(chunk, hi):
                    ts = self.t0_us + i * step
                    kind = TYPES[i % len(TYPES)]
                    content = self.pool[(i * 7919) % len(self.pool)]
                    if i % RARE_EVERY == 12_345:
                        content = f"{content} {RARE}"
                    tokens = "120\t80\t0.0012" if kind == "LLM_CALL" else "\\N\t\\N\t\\N"
                    lines.append(
                        f"{uuid7(ts, i)}\t{session_id(i // PER_SESSION)}\t{ts}\t{kind}\t"
                        f"agent-{i % 7}\ttool_{i % 13}\t{'error' if i % 97 == 0 else 'ok'}\t\\N\t"
                        f"{i % 250}.0\t{tokens}\t{{}}\t{content}\n"
                    )
                copy.write("".join(lines))
            # The rows COPY just added: rids above the last chunk's (the loader's team
            # only, through the (team_id, rid) index of schema 9).
            self.conn.execute(
                "INSERT INTO events_fts (team_id, rid, ts, tsv) SELECT team_id, rid, ts,"
                " to_tsvector('simple', coalesce(name, '')) || to_tsvector('simple',"
                " coalesce(content, '')) FROM events WHERE team_id = '' AND rid > %s",
                (self.top_rid,),
            )
            row = self.conn.execute(
                "SELECT max(rid) FROM events WHERE team_id = '' AND rid > %s", (self.top_rid,)
            ).fetchone()
            self.top_rid = row[0] if row and row[0] is not None else self.top_rid
        sessions = range(lo // PER_SESSION, (total + PER_SESSION - 1) // PER_SESSION)
        with self.conn.transaction():
            self.conn.execute(
                "INSERT INTO sessions (id, title, created_at, updated_at)"
                " SELECT s.id, 'run ' || s.k, min(e.ts), max(e.ts)"
                " FROM (SELECT k, '00000000-0000-7000-8000-' || lpad(to_hex(k), 12, '0') AS id"
                "       FROM generate_series(%s::bigint, %s::bigint) k) s"
                " JOIN events e ON e.team_id = '' AND e.session_id = s.id COLLATE \"C\""
                " GROUP BY s.id, s.k"
                " ON CONFLICT DO NOTHING",
                (sessions.start, sessions.stop - 1),
            )
            self.conn.execute(
                "INSERT INTO session_stats (session_id, event_count, error_count, first_event_at,"
                " last_event_at, activity_at, input_tokens, output_tokens, cost_usd)"
                " SELECT session_id, count(*), count(*) FILTER (WHERE status = 'error'),"
                " min(ts), max(ts), max(ts), coalesce(sum(input_tokens), 0),"
                " coalesce(sum(output_tokens), 0), coalesce(sum(cost_usd), 0)"
                " FROM events WHERE team_id = '' AND rid > %s GROUP BY session_id"
                " ON CONFLICT DO NOTHING",
                (lo_rid,),
            )
        self.conn.execute("ANALYZE")
        self.loaded = total
        return time.perf_counter() - start


def timed(fn: Callable[[], object], runs: int, budget_s: float = 60.0) -> tuple[float, float]:
    """p50/p95 in ms of `runs` calls (fewer if they pass `budget_s`: bounded on a busy machine)."""
    for _ in range(3):
        fn()
    samples: list[float] = []
    stop = time.perf_counter() + budget_s
    while len(samples) < runs and (len(samples) < 10 or time.perf_counter() < stop):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return percentile(samples, 0.5) or 0.0, percentile(samples, 0.95) or 0.0


def measure(store: PostgresStore, raw: psycopg.Connection, n: int, runs: int) -> dict[str, tuple]:
    rng = random.Random(n)
    picks = [rng.randrange(n // PER_SESSION) for _ in range(20)]
    middles = {}
    for k in picks:
        row = raw.execute(
            "SELECT ts, id FROM events WHERE team_id = '' AND session_id = %s"
            " ORDER BY ts, id OFFSET %s LIMIT 1",
            (session_id(k), PER_SESSION // 2),
        ).fetchone()
        middles[k] = row
    turn = iter(range(10**9))
    fts_team = bool(  # schema 9 on: the full-text rows hold their team
        raw.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND table_name = 'events_fts' AND column_name = 'team_id'"
        ).fetchone()
    )

    def page() -> None:
        k = picks[next(turn) % len(picks)]
        q = EventQuery(session_id=session_id(k), limit=100)
        ts, eid = middles[k]
        got = store.list_events(
            EventQuery(session_id=session_id(k), limit=100, cursor=event_cursor(q, ts, eid))
        )
        assert len(got.items) == 100

    def raw_page() -> None:
        k = picks[next(turn) % len(picks)]
        ts, eid = middles[k]
        rows = raw.execute(
            "SELECT id, session_id, ts, type, agent_id, name, status, parent_id, duration_ms,"
            " input_tokens, output_tokens, cost_usd, metadata::text, content FROM events"
            " WHERE team_id = '' AND session_id = %s AND (ts, id) > (%s, %s)"
            " ORDER BY ts, id LIMIT 101",
            (session_id(k), ts, eid),
        ).fetchall()
        assert len(rows) == 101

    def search(word: str) -> Callable[[], None]:
        def run() -> None:
            assert store.list_events(EventQuery(text=word, order="desc", limit=50)).items

        return run

    def raw_search(word: str, rare: bool) -> Callable[[], None]:
        """The store's SQL for a word, sent raw: for a rare word its two statements (the
        few matching rids from the GIN index, then those rows), for a common one the
        newest-first walk with a semi-join (the store's plan for each)."""
        team = "team_id = '' AND " if fts_team else ""

        def run() -> None:
            if rare:
                rids = [
                    r[0]
                    for r in raw.execute(
                        "SELECT rid FROM events_fts WHERE tsv @@ phraseto_tsquery('simple', %s)"
                        + (" AND (team_id || '') = ''" if fts_team else "")
                        + " LIMIT 1001",
                        (word,),
                    ).fetchall()
                ]
                where, params = f"{team}rid = ANY(%s)", [rids]
            else:
                key = "(e.team_id, e.rid)" if fts_team else "e.rid"
                sub = "f.team_id, f.rid" if fts_team else "f.rid"
                where = (
                    f"{'e.' + team if team else ''}{key} IN (SELECT {sub} FROM events_fts f"
                    " WHERE f.tsv @@ phraseto_tsquery('simple', %s))"
                )
                params = [word]
            rows = raw.execute(
                "SELECT e.id, e.session_id, e.ts, e.type, e.content FROM events e"
                f" WHERE {where} ORDER BY e.ts DESC, e.id DESC LIMIT 51",
                params,
            ).fetchall()
            assert rows

        return run

    def probe(word: str) -> Callable[[], None]:
        def run() -> None:
            fts.few_matches(raw, word, [""])

        return run

    def sessions() -> None:
        assert len(store.list_sessions(SessionQuery(limit=50)).items) == 50

    ids = [
        r[0]
        for r in raw.execute(
            "SELECT id FROM events WHERE team_id = '' AND session_id = ANY(%s)",
            ([session_id(k) for k in picks],),
        ).fetchall()[::97]
    ]

    def by_id() -> None:
        store.get_event(ids[next(turn) % len(ids)])

    def raw_by_id() -> None:
        assert raw.execute(
            "SELECT id, content FROM events WHERE team_id = '' AND id = %s",
            (ids[next(turn) % len(ids)],),
        ).fetchone()

    return {
        "page": (timed(page, runs), timed(raw_page, runs)),
        f"search rare ({RARE})": (timed(search(RARE), runs), timed(raw_search(RARE, True), runs)),
        f"search common ({COMMON})": (
            timed(search(COMMON), runs),
            timed(raw_search(COMMON, False), runs),
        ),
        # The store's first step for a search, alone: are there at most FEW_MATCHES?
        f"few-matches probe ({COMMON})": (timed(probe(COMMON), runs), None),
        f"few-matches probe ({RARE})": (timed(probe(RARE), runs), None),
        "sessions page": (timed(sessions, runs), None),
        "event by id": (timed(by_id, runs), timed(raw_by_id, runs)),
    }


def old_search(store: PostgresStore, calls: int) -> None:
    """Searches as the store made them before `few_matches` (the planner alone), for comparison."""
    real = fts.few_matches
    fts.few_matches = lambda *args, **kwargs: None
    try:
        for word in (RARE, COMMON):
            took = []
            for _ in range(calls):
                t = time.perf_counter()
                store.list_events(EventQuery(text=word, order="desc", limit=50))
                took.append((time.perf_counter() - t) * 1000)
            shown = ", ".join(f"{ms:.1f}" for ms in sorted(took))
            print(f"  search {word} the old way (planner alone): {shown} ms", flush=True)
    finally:
        fts.few_matches = real


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument(
        "--schema",
        help="keep the data in this schema (made or grown as needed) instead of a throwaway one",
    )
    parser.add_argument(
        "--scoped",
        action="store_true",
        help="read through the loader's team's scoped view (a tenant's queries) instead of"
        " the unscoped store",
    )
    parser.add_argument(
        "--measure-only",
        action="store_true",
        help="with --schema: measure what the schema holds, loading nothing",
    )
    parser.add_argument(
        "--old-search",
        type=int,
        default=0,
        metavar="N",
        help="also time N searches per word the way the store did before it read few matches by rid",
    )
    args = parser.parse_args()
    if not os.environ.get("AGENTLOG_TEST_POSTGRES_URL"):
        sys.exit("set AGENTLOG_TEST_POSTGRES_URL (e.g. postgresql://postgres@127.0.0.1:5432/test)")
    sizes = sorted(int(s) for s in args.sizes.split(","))
    if args.schema:
        schema = args.schema
        with psycopg.connect(base_url(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        url = with_schema(base_url(), schema)
    else:
        url, schema = new_schema_url("bench_scale")
    store = PostgresStore(url, pool_size=2)
    loader = Loader(schema, to_us(utcnow()) - YEAR_US, contents(random.Random(3)))
    # Every month the rows will span gets its partitions before COPY (a COPY does not
    # make them; rows of a month without one would all sit in the DEFAULT partition).
    first = partitions.month_of(loader.t0_us)
    months = [first]
    while months[-1] < partitions.month_of_time(utcnow()):
        months.append(partitions.next_month(months[-1]))
    partitions.ensure_months(loader.conn, months)
    if args.schema:  # a kept schema: grow it from where it is (the same deterministic rows)
        row = loader.conn.execute("SELECT count(*), coalesce(max(rid), 0) FROM events").fetchone()
        loader.loaded, loader.top_rid = (int(row[0]), int(row[1])) if row else (0, 0)
    # Never prepared, so every raw query gets a plan for its own parameters: after 5 runs
    # psycopg prepares a query, and PostgreSQL's generic plan for a tsquery of unknown
    # selectivity (a bitmap scan of every match, then a sort) took seconds for a common word.
    raw = psycopg.connect(base_url(), autocommit=True, prepare_threshold=None)
    raw.execute(sql.SQL("SET search_path = {}").format(sql.Identifier(schema)))
    try:
        view = store.scoped("") if args.scoped else store
        for n in sizes:
            took = 0.0 if args.measure_only else loader.grow(n, sizes[-1])
            if args.measure_only:
                n = loader.loaded
            size = raw.execute(
                "SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid)))"
                " FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace"
                " WHERE s.nspname = %s AND c.relkind = 'r'",
                (schema,),
            ).fetchone()
            print(
                f"\n{n:,} events (loaded with COPY + tsvector in {took:.0f} s; {size[0]} on disk)"
            )
            if args.old_search:
                old_search(view, args.old_search)
            for name, ((p50, p95), ceiling) in measure(view, raw, n, args.runs).items():
                line = f"  {name}: store p50 {p50:.1f} ms, p95 {p95:.1f} ms"
                if ceiling:
                    line += f"; raw SQL p50 {ceiling[0]:.1f} ms, p95 {ceiling[1]:.1f} ms"
                print(line, flush=True)
    finally:
        raw.close()
        loader.conn.close()
        store.close()
        if not args.schema:
            drop_schema(schema)


if __name__ == "__main__":
    main()
