"""Retention of a month of events on PostgreSQL: dropping its partitions vs DELETE of the same rows.

    AGENTLOG_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/bench_pg_retention.py [--events 1000000]

One fresh store schema (the tables, partitions and indexes `PostgresStore`
makes: `events` with its key and 8 indexes, `events_fts` with its GIN index).
The same N events (`--events`, at most 10,000,000) are loaded twice with COPY:
once into January 2025 and once into February 2025 (other ids, timestamps a
month later), each with a small tsvector row in `events_fts` (the name and
type: indexing full content would cost ~2 s per 10,000 events here and is not
what retention measures). Then, in the same run:

- drop: `partitions.drop_months_before` detaches and drops January's two
  partitions (what the retention task does);
- delete: one transaction deleting February's rows from `events_fts` and
  `events` by timestamp range (what a store without partitions must do),
  then the `VACUUM` of both that makes the space reusable.

A CHECKPOINT precedes each, so neither pays for the other's dirty pages.
The schema is dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from psycopg import sql

from agentlog.storage.postgres import partitions
from agentlog.storage.postgres.testing import base_url, drop_schema, new_schema_url

TYPES = ("LLM_CALL", "TOOL_CALL", "TOOL_RESULT", "AGENT_OUTPUT", "LOG")
CHUNK = 100_000
MAX_EVENTS = 10_000_000
PER_SESSION = 1000
COPY_SQL = (
    "COPY events (id, session_id, ts, type, agent_id, name, status, duration_ms,"
    " input_tokens, output_tokens, cost_usd, metadata, content, team_id) FROM STDIN"
)


def uuid7(ts_us: int, seq: int, salt: int) -> str:
    head = f"{ts_us // 1000:012x}"
    tail = f"{salt:01x}{seq:014x}"[-15:]
    return f"{head[:8]}-{head[8:]}-7{tail[:3]}-8{tail[3:6]}-{tail[6:15]}000"


def load_month(conn: psycopg.Connection, month: tuple[int, int], n: int, salt: int) -> float:
    """COPY n events spread over `month` (and their tsvector rows); return seconds."""
    lo, hi = partitions.month_bounds(month)
    step = (hi - lo) // n
    start = time.perf_counter()
    for chunk in range(0, n, CHUNK):
        lines = []
        for i in range(chunk, min(chunk + CHUNK, n)):
            ts = lo + i * step
            kind = TYPES[i % len(TYPES)]
            tokens = "120\t80\t0.0012" if kind == "LLM_CALL" else "\\N\t\\N\t\\N"
            lines.append(
                f"{uuid7(ts, i, salt)}\t00000000-0000-7000-8{salt:03x}-{i // PER_SESSION:012x}\t"
                f"{ts}\t{kind}\tagent-{i % 7}\ttool_{i % 13}\t{'error' if i % 97 == 0 else 'ok'}\t"
                f"{i % 250}.0\t{tokens}\t{{}}\tstep {i} of the plan, calling tool_{i % 13}\tteam-{i % 4}\n"
            )
        with conn.transaction(), conn.cursor().copy(COPY_SQL) as copy:
            copy.write("".join(lines))
    with conn.transaction():
        conn.execute(
            "INSERT INTO events_fts (team_id, rid, ts, tsv) SELECT team_id, rid, ts,"
            " to_tsvector('simple', name || ' ' || type) FROM events WHERE ts >= %s AND ts < %s",
            (lo, hi),
        )
    return time.perf_counter() - start


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def size_of(conn: psycopg.Connection, month: tuple[int, int]) -> int:
    total = 0
    for table in partitions.TABLES:
        row = conn.execute(
            "SELECT pg_total_relation_size(%s::regclass)",
            (partitions.partition_name(table, month),),
        ).fetchone()
        total += int(row[0]) if row else 0
    return total


def drop_kept(schema: str) -> None:
    """Retention on a store grown elsewhere (`bench_scale.py --schema`): drop its oldest
    month, then every other month before the current one, each timed after a CHECKPOINT."""
    with psycopg.connect(base_url(), autocommit=True) as conn:
        conn.execute(sql.SQL("SET search_path = {}").format(sql.Identifier(schema)))
        months = sorted(partitions.existing_months(conn))
        rows = {
            m: int(
                conn.execute(
                    f"SELECT count(*) FROM {partitions.partition_name('events', m)}"
                ).fetchone()[0]
            )  # type: ignore[index]
            for m in months
        }
        total = sum(rows.values())
        print(
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {_load()}; {schema} holds"
            f" {total:,} events in {len(months)} months"
        )
        current = partitions.month_of_time(datetime.now(UTC))
        for label, cutoff in (
            ("oldest month", partitions.month_bounds(months[0])[1]),
            ("every month before this one", partitions.month_bounds(current)[0]),
        ):
            before = sum(rows[m] for m in partitions.existing_months(conn) if m in rows)
            size = sum(
                size_of(conn, m)
                for m in partitions.existing_months(conn)
                if partitions.month_bounds(m)[1] <= cutoff
            )
            conn.execute("CHECKPOINT")
            start = time.perf_counter()
            dropped = partitions.drop_months_before(conn, cutoff)
            took = time.perf_counter() - start
            gone = before - sum(rows[m] for m in partitions.existing_months(conn) if m in rows)
            print(
                f"drop {label}: {len(dropped)} month(s), {gone:,} events ({size / 1e6:,.0f} MB"
                f" with indexes and tsvectors) in {took * 1000:,.1f} ms"
            )
        print(f"load average after {_load()}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000, help="events per month")
    parser.add_argument(
        "--kept-schema",
        metavar="NAME",
        help="instead: drop months of a store kept by bench_scale.py --schema NAME (destructive)",
    )
    args = parser.parse_args()
    if args.kept_schema:
        drop_kept(args.kept_schema)
        return
    n = args.events
    if not 1000 <= n <= MAX_EVENTS:
        sys.exit(f"--events must be 1,000-{MAX_EVENTS:,}")
    if not os.environ.get("AGENTLOG_TEST_POSTGRES_URL"):
        sys.exit("set AGENTLOG_TEST_POSTGRES_URL (e.g. postgresql://postgres@127.0.0.1:5432/test)")
    from agentlog.storage.postgres.store import PostgresStore

    url, schema = new_schema_url("bench_retention")
    jan, feb = (2025, 1), (2025, 2)
    try:
        PostgresStore(url).close()  # the store's own schema: partitions, keys, indexes
        with psycopg.connect(base_url(), autocommit=True) as conn:
            conn.execute(sql.SQL("SET search_path = {}").format(sql.Identifier(schema)))
            partitions.ensure_months(conn, [jan, feb])
            print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {_load()}")
            for month, salt in ((jan, 1), (feb, 2)):
                took = load_month(conn, month, n, salt)
                print(f"loaded {n:,} events into {month[0]}-{month[1]:02d} in {took:.1f} s")
            conn.execute("ANALYZE")
            jan_size, feb_size = size_of(conn, jan), size_of(conn, feb)

            conn.execute("CHECKPOINT")
            start = time.perf_counter()
            dropped = partitions.drop_months_before(conn, partitions.month_bounds(jan)[1])
            drop_s = time.perf_counter() - start
            assert dropped == [jan], dropped

            conn.execute("CHECKPOINT")
            lo, hi = partitions.month_bounds(feb)
            start = time.perf_counter()
            with conn.transaction():
                conn.execute("DELETE FROM events_fts WHERE ts >= %s AND ts < %s", (lo, hi))
                deleted = conn.execute(
                    "DELETE FROM events WHERE ts >= %s AND ts < %s", (lo, hi)
                ).rowcount
            delete_s = time.perf_counter() - start
            conn.execute("VACUUM events_fts")
            conn.execute("VACUUM events")
            vacuum_s = time.perf_counter() - start - delete_s
            assert deleted == n, deleted
            left = conn.execute("SELECT count(*) FROM events").fetchone()
            assert left is not None and left[0] == 0, left
        print(
            f"drop a month of {n:,} events ({jan_size / 1e6:,.0f} MB with indexes and tsvectors):"
            f" {drop_s * 1000:,.1f} ms"
        )
        print(
            f"DELETE the same number ({feb_size / 1e6:,.0f} MB): {delete_s:,.2f} s,"
            f" then VACUUM {vacuum_s:,.2f} s"
        )
        print(
            f"ratio: DELETE is {delete_s / drop_s:,.0f}x the drop"
            f" ({(delete_s + vacuum_s) / drop_s:,.0f}x with its VACUUM);"
            f" load average after {_load()}"
        )
    finally:
        drop_schema(schema)


if __name__ == "__main__":
    main()
