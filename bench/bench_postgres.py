"""PostgreSQL store benchmarks, each beside a raw psycopg ceiling measured in the same run.

    AGENTLOG_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/bench_postgres.py [--events 100000] [--runs 200]

- ingest: N events (one session, `bench.ceiling.make_events`) through
  PostgresStore.write in batches of 1,000 until durable and searchable
  (flush_index), vs raw psycopg COPY of the same rows in 1,000-row transactions
  into the same table with the same indexes, then the same tsvector + GIN
  filled in 10,000-row transactions (the faster of one run before and one after
  the store's, since the shared machine's load drifts).
- pages: a page of 100 events at the start, middle and end of that N-event
  session (p50 / p95 of --runs) through list_events with a cursor, vs the
  same raw keyset SELECT through psycopg.

Every run works in fresh schemas (dropped at the end).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import orjson
import psycopg
from psycopg import sql

from agentlog.model import Event, Session, to_us
from agentlog.storage.base import EventQuery, event_cursor
from agentlog.storage.postgres.migrations import (
    EVENT_INDEXES,
    EVENTS_FTS_INDEX,
    EVENTS_FTS_TABLE,
    EVENTS_TABLE,
)
from agentlog.storage.postgres.testing import drop_schema, new_schema_url, temporary_store
from agentlog.storage.sql.analytics import percentile
from bench.ceiling import make_events

BATCH = 1000
FTS_BATCH = 10_000


def p50_p95(fn: Callable[[], object], runs: int, warmup: int = 5) -> tuple[float, float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return percentile(samples, 0.5) or 0.0, percentile(samples, 0.95) or 0.0


def raw_ingest(events: list[Event]) -> float:
    """Seconds for COPY in 1,000-row transactions + tsvector/GIN in 10,000-row ones."""
    url, schema = new_schema_url("bench_raw")
    base = url.split("?")[0]
    try:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
            conn.execute(sql.SQL("SET search_path = {}").format(sql.Identifier(schema)))
            conn.execute(EVENTS_TABLE)
            for statement in EVENT_INDEXES:
                conn.execute(statement)
            conn.execute(EVENTS_FTS_TABLE)
            conn.execute(EVENTS_FTS_INDEX)
            start = time.perf_counter()
            for lo in range(0, len(events), BATCH):
                with (
                    conn.transaction(),
                    conn.cursor().copy(
                        "COPY events (id, session_id, ts, type, agent_id, name, status, parent_id,"
                        " duration_ms, input_tokens, output_tokens, cost_usd, metadata, content)"
                        " FROM STDIN"
                    ) as copy,
                ):
                    for e in events[lo : lo + BATCH]:
                        copy.write_row(
                            (
                                e.id,
                                e.session_id,
                                to_us(e.timestamp),
                                str(e.type),
                                e.agent_id,
                                e.name,
                                str(e.status),
                                e.parent_id,
                                e.duration_ms,
                                e.input_tokens,
                                e.output_tokens,
                                e.cost_usd,
                                orjson.dumps(e.metadata).decode(),
                                e.content,
                            )
                        )
            top = conn.execute("SELECT max(rid) FROM events").fetchone()[0]  # type: ignore[index]
            for lo in range(0, top, FTS_BATCH):
                with conn.transaction():
                    conn.execute(
                        "INSERT INTO events_fts (rid, tsv) SELECT rid, to_tsvector('simple',"
                        " coalesce(name, '')) || to_tsvector('simple', coalesce(content, ''))"
                        " FROM events WHERE rid > %s AND rid <= %s",
                        (lo, lo + FTS_BATCH),
                    )
            return time.perf_counter() - start
    finally:
        drop_schema(schema)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    if not os.environ.get("AGENTLOG_TEST_POSTGRES_URL"):
        sys.exit("set AGENTLOG_TEST_POSTGRES_URL (e.g. postgresql://postgres@127.0.0.1:5432/test)")
    n = args.events
    session = Session(title="bench")
    events = make_events(n, session.id, seed=7)
    print(
        f"{n:,} events, {sum(len(e.content or '') for e in events) / n:.0f} chars of content each"
    )

    # The shared machine's load drifts: the ceiling is the faster of a run before and one after.
    raw_before = raw_ingest(events)
    store = temporary_store(pool_size=4)
    try:
        start = time.perf_counter()
        store.write(sessions=[session])
        for lo in range(0, n, BATCH):
            store.write(events=events[lo : lo + BATCH])
        durable_s = time.perf_counter() - start
        store.flush_index()
        store_s = time.perf_counter() - start
        assert store.count_events(EventQuery(text="request")) > 0
        with store._pool.connection() as c:
            indexed = c.execute("SELECT count(*) FROM events_fts").fetchone()
        assert indexed is not None and indexed[0] == n, indexed
        raw_after = raw_ingest(events)
        raw_s = min(raw_before, raw_after)
        print(
            f"ingest until durable and searchable: store {n / store_s:,.0f} events/s"
            f" ({store_s:.1f} s; the writes returned after {durable_s:.1f} s, indexing every"
            " 10,000 events inline) vs raw COPY + tsvector"
            f" {n / raw_s:,.0f} events/s (best of {raw_before:.1f} s before and {raw_after:.1f} s"
            f" after): {raw_s / store_s:.0%} of the ceiling"
        )

        keys = store.event_keys(EventQuery(session_id=session.id))
        with store._pool.connection() as c:
            c.execute("ANALYZE")  # what autovacuum does after a bulk load; plans need the stats
        base_query = EventQuery(session_id=session.id, limit=100)
        conn = psycopg.connect(store._target.conninfo, autocommit=True)
        conn.execute(sql.SQL("SET search_path = {}").format(sql.Identifier(store._target.schema)))
        raw_sql = (
            "SELECT id, session_id, ts, type, agent_id, name, status, parent_id, duration_ms,"
            " input_tokens, output_tokens, cost_usd, metadata::text, content FROM events"
            " WHERE session_id = %s AND (ts, id) > (%s, %s) ORDER BY ts, id LIMIT 101"
        )
        for label, index in (("start", None), ("middle", n // 2), ("end", n - 101)):
            if index is None:
                query = base_query
                after: tuple[int, str] = (0, "")
            else:
                ts, eid = keys[index]
                query = EventQuery(
                    session_id=session.id, limit=100, cursor=event_cursor(base_query, ts, eid)
                )
                after = (ts, eid)
            ours = p50_p95(lambda q=query: store.list_events(q), args.runs)
            if index is None:
                first_sql = raw_sql.replace(" AND (ts, id) > (%s, %s)", "")
                raw = p50_p95(
                    lambda s=first_sql: conn.execute(s, (session.id,)).fetchall(), args.runs
                )
            else:
                raw = p50_p95(
                    lambda a=after: conn.execute(raw_sql, (session.id, *a)).fetchall(), args.runs
                )
            print(
                f"page of 100 at the {label}: p50 {ours[0]:.2f} ms, p95 {ours[1]:.2f} ms"
                f" vs raw keyset SELECT p50 {raw[0]:.2f} ms, p95 {raw[1]:.2f} ms"
                f" ({ours[1] / raw[1]:.1f}x at p95)"
            )
        conn.close()
        print(f"session check: {store.get_session(session.id).event_count:,} events")
    finally:
        store.close()


if __name__ == "__main__":
    main()
