"""Monthly partitions of `events` and `events_fts`: made ahead, filled from the default, dropped whole.

Both tables are partitioned by `RANGE (ts)` (microseconds since the epoch, UTC)
since schema 8. Each month has one partition of each, named
`events_pYYYYMM` / `events_fts_pYYYYMM`, covering `[first microsecond of the
month, first of the next)`; a DEFAULT partition of each takes any row no
month holds yet, so an insert never fails for want of a partition.

- `ensure_months` creates the partitions of the given months. When the
  default partition already holds rows of such a month (an import of old
  data, a clock far ahead), they are moved into the new partition in the
  same transaction: PostgreSQL refuses to create a partition whose rows sit
  in the default one.
- `maintain` is what the store runs when it opens and the server runs
  periodically: the current month and `AHEAD` more, and every month found in
  the default partitions; after a large move it vacuums the defaults.
- `drop_months_before` detaches and drops every month that ends before a
  cut-off: the cost of a catalogue change, whatever the month holds.

Every step takes one advisory lock, so several server workers never race
to create or drop the same partition, and sets a short `lock_timeout`: the
DDL needs a strong lock on the parent, and a maintenance step that cannot get
it at once gives up (rows keep landing in the default partition meanwhile)
rather than queue every writer behind it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime

import psycopg

from agentlog.model import to_us
from agentlog.storage.postgres.conn import schema_lock

log = logging.getLogger("agentlog.storage.postgres")

TABLES = ("events", "events_fts")
AHEAD = 2  # months created ahead of the current one
LOCK = "agentlog-partitions"
LOCK_TIMEOUT = "1s"
# A move of this many rows out of the default partitions is followed by a VACUUM of them
# (fewer: autovacuum's own threshold, 20% of a small table, comes soon enough).
VACUUM_AFTER_ROWS = 10_000

Month = tuple[int, int]  # (year, month)


def month_of(ts_us: int) -> Month:
    moment = datetime.fromtimestamp(ts_us / 1_000_000, UTC)
    return moment.year, moment.month


def month_of_time(moment: datetime) -> Month:
    moment = moment.astimezone(UTC)
    return moment.year, moment.month


def next_month(month: Month) -> Month:
    year, m = month
    return (year + 1, 1) if m == 12 else (year, m + 1)


def month_bounds(month: Month) -> tuple[int, int]:
    """[lo, hi) of `month` in microseconds since the epoch."""
    year, m = month
    lo = to_us(datetime(year, m, 1, tzinfo=UTC))
    ny, nm = next_month(month)
    hi = to_us(datetime(ny, nm, 1, tzinfo=UTC)) if ny <= 9999 else 2**63 - 1
    return lo, hi


def partition_name(table: str, month: Month) -> str:
    return f"{table}_p{month[0]:04d}{month[1]:02d}"


def default_name(table: str) -> str:
    return f"{table}_default"


def months_ahead(now: datetime, ahead: int = AHEAD) -> list[Month]:
    out = [month_of_time(now)]
    for _ in range(ahead):
        out.append(next_month(out[-1]))
    return out


def existing_months(conn: psycopg.Connection) -> set[Month]:
    """The months that have a partition of `events` in the current schema."""
    rows = conn.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = 'events'::regclass"
    ).fetchall()
    out: set[Month] = set()
    for (name,) in rows:
        suffix = name.rsplit("_p", 1)[-1]
        if name.startswith("events_p") and len(suffix) == 6 and suffix.isdigit():
            out.add((int(suffix[:4]), int(suffix[4:])))
    return out


def _lock(conn: psycopg.Connection, wait: bool) -> bool:
    return schema_lock(conn, LOCK, wait)


def _create_month(conn: psycopg.Connection, month: Month) -> int:
    """Create `month`'s partitions (moving its rows out of the defaults); return rows moved."""
    lo, hi = month_bounds(month)
    moved = 0
    for table in TABLES:
        name, default = partition_name(table, month), default_name(table)
        waiting = conn.execute(
            f"SELECT 1 FROM {default} WHERE ts >= %s AND ts < %s LIMIT 1", (lo, hi)
        ).fetchone()
        if waiting is None:
            conn.execute(
                f"CREATE TABLE {name} PARTITION OF {table} FOR VALUES FROM ({lo}) TO ({hi})"
            )
            continue
        # The default partition holds rows of this month: take it out, create the month,
        # move the rows across, and put the default back (PostgreSQL checks it then).
        conn.execute(f"ALTER TABLE {table} DETACH PARTITION {default}")
        conn.execute(f"CREATE TABLE {name} PARTITION OF {table} FOR VALUES FROM ({lo}) TO ({hi})")
        moved += conn.execute(
            f"INSERT INTO {name} SELECT * FROM {default} WHERE ts >= %s AND ts < %s", (lo, hi)
        ).rowcount
        conn.execute(f"DELETE FROM {default} WHERE ts >= %s AND ts < %s", (lo, hi))
        conn.execute(f"ALTER TABLE {table} ATTACH PARTITION {default} DEFAULT")
    return moved


def ensure_months(conn: psycopg.Connection, months: Iterable[Month], *, wait: bool = True) -> int:
    """Create the partitions of every month in `months` that has none, in one transaction.

    Returns how many months were created (0 also when, with `wait=False`,
    another session holds the partition lock).
    """
    return _ensure(conn, months, wait)[0]


def _ensure(conn: psycopg.Connection, months: Iterable[Month], wait: bool) -> tuple[int, int]:
    """`ensure_months`: (months created, rows moved out of the default partitions)."""
    wanted = sorted(set(months))
    if not wanted:
        return 0, 0
    created = moved = 0
    with conn.transaction():
        if not _lock(conn, wait):
            return 0, 0
        conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        have = existing_months(conn)
        for month in wanted:
            if month in have:
                continue
            rows = _create_month(conn, month)
            created += 1
            moved += rows
            if rows:
                log.info("partition %s: moved %d rows out of the default", month, rows)
    return created, moved


def default_months(conn: psycopg.Connection) -> set[Month]:
    """The months of the rows waiting in the default partition of `events`."""
    out: set[Month] = set()
    row = conn.execute("SELECT min(ts) FROM events_default").fetchone()
    while row and row[0] is not None:
        month = month_of(row[0])
        out.add(month)
        # The next month with rows: one probe of the (ts, id) index per month.
        row = conn.execute(
            "SELECT min(ts) FROM events_default WHERE ts >= %s", (month_bounds(month)[1],)
        ).fetchone()
    return out


def maintain(
    conn: psycopg.Connection, now: datetime | None = None, *, wait: bool = True
) -> set[Month]:
    """Partitions for this month, `AHEAD` more, and every month waiting in the default; return all months."""
    wanted = set(months_ahead(now or datetime.now(UTC))) | default_months(conn)
    moved = _ensure(conn, wanted, wait)[1]
    if moved >= VACUUM_AFTER_ROWS:
        vacuum_defaults(conn)
    return existing_months(conn)


def vacuum_defaults(conn: psycopg.Connection) -> None:
    """VACUUM (and ANALYZE) the default partitions, on a connection outside any transaction.

    Rows moved out of a default stay there as dead rows until a VACUUM, and the
    planner, counting the default empty, may read it whole: 3-5 s per rare-word page
    on a 10,000,000-event store converted from schema 8, until a VACUUM (193 s there).
    A VACUUM frees the moved rows (those no open snapshot still sees) and truncates the
    emptied pages, so the default costs next to nothing to read again. It runs where
    the move ran: a store opening after a conversion, the server's upkeep, or a write
    whose months had no partitions for a while (a move that large is rare there).
    """
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE or not conn.autocommit:
        log.warning("default partitions not vacuumed: the connection is in a transaction")
        return
    for table in TABLES:
        conn.execute(f"VACUUM (ANALYZE) {default_name(table)}")


def drop_months_before(conn: psycopg.Connection, cutoff_us: int) -> list[Month]:
    """Detach and drop every month partition that ends at or before `cutoff_us`; return the months.

    The rows of those months that sit in the default partition (none, once
    `maintain` has run) are left to the per-team deletes of `retention.py`.
    """
    dropped: list[Month] = []
    with conn.transaction():
        _lock(conn, True)
        conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        for month in sorted(existing_months(conn)):
            if month_bounds(month)[1] > cutoff_us:
                continue
            for table in TABLES:
                name = partition_name(table, month)
                conn.execute(f"ALTER TABLE {table} DETACH PARTITION {name}")
                conn.execute(f"DROP TABLE {name}")
            dropped.append(month)
    return dropped


__all__ = [
    "AHEAD",
    "Month",
    "default_months",
    "drop_months_before",
    "ensure_months",
    "existing_months",
    "maintain",
    "month_bounds",
    "month_of",
    "months_ahead",
    "partition_name",
    "vacuum_defaults",
]
