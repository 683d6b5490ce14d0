"""SQLite full-text, write side: the FTS5 index kept up in batches behind the writes.

Never a trigger per row (an FTS5 index kept up per row costs 4-6x the insert):
a write of `INLINE_ROWS` or more onto an index with no backlog indexes its rows
in its own transaction (`index_rows`); other events wait above the watermark and
are indexed `FTS_BATCH_ROWS` at a time, after a large write (`index_if_large`)
and before any search (`catch_up`), so a flushed event is always found. Deletes
remove index rows or leave counted tombstones that `vacuum` clears
(`reset_index`). The read side is `sqlite/search.py` (the
page planner) and `SQLiteDialect.event_text`; the text rules both sides share
are `storage/sql/textsearch.py`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from agentlog.errors import DatabaseLocked
from agentlog.storage.sql.rows import ROW_CONTENT, ROW_NAME
from agentlog.storage.sql.textsearch import normalize_for_index
from agentlog.storage.sqlite.conn import Connections

FTS_BATCH_ROWS = 10_000  # rows per full-text transaction (the measured sweet spot)
# A write this large onto an index with no backlog is indexed in its own transaction,
# from the rows in hand: no second read of what was just written (bench/RESULTS.md,
# issue 21, session 9).
INLINE_ROWS = 1_000
WATERMARK = "events_indexed_rid"
STALE = "events_stale_rows"
PRECISE_DELETE_MAX = 20_000  # index rows removed one by one up to this many per delete


def index_all(db: Connections) -> None:
    """Bring the full-text index up to date, one large transaction per batch."""
    if db.read_only:
        return
    with db.lock:
        if not has_backlog(db.writer()):
            return
        while True:
            with db.transaction() as conn:
                if index_batch(conn) < FTS_BATCH_ROWS:
                    return


def index_if_large(db: Connections) -> None:
    """After a write: index now when a whole batch is waiting (smaller backlogs wait for a search)."""
    with db.lock:
        conn = db.writer()
        top = conn.execute("SELECT max(rid) FROM events").fetchone()[0] or 0
        if top - watermark(conn) >= FTS_BATCH_ROWS:
            index_all(db)


def catch_up(db: Connections) -> int | None:
    """Index the backlog before a search; if that cannot happen now (read-only, or
    another process holds the write lock), the rid above which rows are unindexed."""
    conn = db.reader()
    if not has_backlog(conn):
        return None  # the common case: no lock taken, searches run side by side
    if not db.read_only:
        with db.lock:
            writer = db.writer()
            # A search waits briefly for a busy writer, then matches the tail in Python.
            writer.execute("PRAGMA busy_timeout = 250")
            try:
                index_all(db)
                return None
            except DatabaseLocked:
                pass
            finally:
                writer.execute(f"PRAGMA busy_timeout = {db.busy_timeout_ms}")
    return watermark(conn) if has_backlog(conn) else None


def watermark(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT value FROM fts_state WHERE name = ?", (WATERMARK,)).fetchone()
    return row[0] if row else 0


def backlog(conn: sqlite3.Connection) -> int:
    """How many events are not yet in the full-text index."""
    mark = watermark(conn)
    return conn.execute("SELECT count(*) FROM events WHERE rid > ?", (mark,)).fetchone()[0]


def has_backlog(conn: sqlite3.Connection) -> bool:
    top = conn.execute("SELECT max(rid) FROM events").fetchone()[0] or 0
    return top > watermark(conn)


def index_batch(conn: sqlite3.Connection, limit: int = FTS_BATCH_ROWS) -> int:
    """Index up to `limit` events past the watermark (inside the caller's transaction)."""
    mark = watermark(conn)
    rows = conn.execute(
        "SELECT rid, name, content FROM events WHERE rid > ? ORDER BY rid LIMIT ?", (mark, limit)
    ).fetchall()
    if not rows:
        return 0
    _add(conn, rows)
    return len(rows)


def index_rows(conn: sqlite3.Connection, first_rid: int, rows: Sequence[Sequence[Any]]) -> None:
    """Index event rows just inserted as `first_rid`, `first_rid + 1`, … when nothing below
    them waits (inside the caller's transaction, which moves the watermark past them)."""
    _add(conn, [(first_rid + k, row[ROW_NAME], row[ROW_CONTENT]) for k, row in enumerate(rows)])


def _add(conn: sqlite3.Connection, rows: Sequence[tuple[int, str | None, str | None]]) -> None:
    """(rid, name, content) rows into the index, in rid order, and the watermark past them."""
    conn.executemany(
        "INSERT INTO events_fts (rowid, name, content) VALUES (?, ?, ?)",
        [
            (rid, normalize_for_index(name), normalize_for_index(content))
            for rid, name, content in rows
        ],
    )
    conn.execute("UPDATE fts_state SET value = ? WHERE name = ?", (rows[-1][0], WATERMARK))


def unindex_events(conn: sqlite3.Connection, where: str, params: Sequence[Any]) -> None:
    """Remove the matching events' rows from the contentless index (same normalised values).

    FTS5 deletes cost about as much as inserts (~100 µs an event here), so a large
    delete would hold the write lock for many seconds. Past PRECISE_DELETE_MAX rows
    the index rows are left behind as tombstones instead: searches join to
    `events`, so they never surface, and rids are never reused (`next_rid`), so
    they never match a new event. `vacuum()` rebuilds the index without them.
    """
    mark = watermark(conn)
    sql = f"SELECT rid, name, content FROM events WHERE rid <= ? AND ({where})"
    count = conn.execute(
        f"SELECT count(*) FROM events WHERE rid <= ? AND ({where})", [mark, *params]
    ).fetchone()[0]
    if count > PRECISE_DELETE_MAX:
        conn.execute(
            "INSERT INTO fts_state (name, value) VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
            (STALE, count),
        )
        return
    rows = conn.execute(sql, [mark, *params]).fetchall()
    conn.executemany(
        "INSERT INTO events_fts (events_fts, rowid, name, content) VALUES ('delete', ?, ?, ?)",
        [
            (rid, normalize_for_index(name), normalize_for_index(content))
            for rid, name, content in rows
        ],
    )


def stale_rows(conn: sqlite3.Connection) -> int:
    """Index rows of deleted events left as tombstones (see `unindex_events`)."""
    row = conn.execute("SELECT value FROM fts_state WHERE name = ?", (STALE,)).fetchone()
    return row[0] if row else 0


def reset_index(conn: sqlite3.Connection) -> None:
    """Empty the events index so the batch indexer rebuilds it from `events` (drops tombstones)."""
    conn.execute("INSERT INTO events_fts (events_fts) VALUES ('delete-all')")
    conn.execute("UPDATE fts_state SET value = 0 WHERE name IN (?, ?)", (WATERMARK, STALE))
