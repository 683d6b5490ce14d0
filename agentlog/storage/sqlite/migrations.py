"""The SQLite schema as numbered, append-only migrations (applied once when a store opens).

Never edit or renumber a migration that has shipped: add `m00N_...` at the end.
`tests/storage/test_sqlite_migrations.py` checks names are unique and strictly
increasing, that a blank file gets the expected schema, and that a file made
by the first migration alone is upgraded with its data kept.

Types: times are INTEGER microseconds since the epoch (`model.to_us`), tags and
metadata are JSON text. Events and sessions have an integer rowid (`rid`, the
key of their full-text rows) beside their UUID `id`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from agentlog.storage.sql.textsearch import FTS_TOKENIZE

if TYPE_CHECKING:  # sqlite-utils is imported only when a file needs migrating (~60 ms)
    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations

MIGRATION_SET = "agentlog"
MIGRATIONS_TABLE = "_sqlite_migrations"  # sqlite-utils' Migrations.migrations_table
APPLICATION_ID = 0x41474C47  # "AGLG" in the SQLite header: marks the file as ours

MIGRATIONS: list[Callable[[Database], None]] = []


def migration(fn: Callable[[Database], None]) -> Callable[[Database], None]:
    """Register the next migration (append-only; see the module docstring)."""
    MIGRATIONS.append(fn)
    return fn


@functools.cache
def migration_set() -> Migrations:
    """The migrations on sqlite-utils' `Migrations` (each in a transaction, duplicates refused)."""
    from sqlite_utils.migrations import Migrations

    registry = Migrations(MIGRATION_SET)
    for fn in MIGRATIONS:
        registry()(fn)
    return registry


@migration
def m001_initial(db: Database) -> None:
    """Sessions, events and the per-session / per-agent aggregates the writer keeps up."""
    db.table("sessions").create(
        {
            "rid": int,
            "id": str,
            "title": str,
            "description": str,
            "status": str,
            "parent_session_id": str,
            "tags": str,
            "metadata": str,
            "created_at": int,
            "updated_at": int,
            "ended_at": int,
            "team_id": str,
            "created_by": str,
        },
        pk="rid",
        not_null={
            "id",
            "title",
            "description",
            "status",
            "tags",
            "metadata",
            "created_at",
            "updated_at",
        },
        defaults={
            "title": "",
            "description": "",
            "status": "active",
            "tags": "[]",
            "metadata": "{}",
        },
    )
    db.table("sessions").create_index(["id"], unique=True, index_name="sessions_id")
    db.table("sessions").create_index(["parent_session_id"], index_name="sessions_parent")
    db.table("sessions").create_index(["team_id", "created_at"], index_name="sessions_team")
    db.table("sessions").create_index(["created_at", "id"], index_name="sessions_created")
    db.table("sessions").create_index(["status"], index_name="sessions_status")

    # One row per session, kept up by write(): listing sessions never scans events.
    # activity_at = max(created_at, last event): the "last activity" sort and prune key.
    db.table("session_stats").create(
        {
            "session_id": str,
            "event_count": int,
            "error_count": int,
            "first_event_at": int,
            "last_event_at": int,
            "activity_at": int,
            "input_tokens": int,
            "output_tokens": int,
            "cost_usd": float,
        },
        pk="session_id",
        not_null={
            "event_count",
            "error_count",
            "activity_at",
            "input_tokens",
            "output_tokens",
            "cost_usd",
        },
        defaults={
            "event_count": 0,
            "error_count": 0,
            "input_tokens": 0,
            "output_tokens": 0,
            "cost_usd": 0.0,
        },
    )
    db.table("session_stats").create_index(
        ["activity_at", "session_id"], index_name="session_stats_activity"
    )

    db.table("session_agents").create(
        {
            "session_id": str,
            "agent_id": str,
            "event_count": int,
            "error_count": int,
            "first_event_at": int,
            "last_event_at": int,
        },
        pk=("session_id", "agent_id"),
        not_null={"event_count", "error_count", "first_event_at", "last_event_at"},
    )
    db.table("session_agents").create_index(
        ["agent_id", "last_event_at"], index_name="session_agents_agent"
    )

    # content last: reading (ts, id) of a row never touches its overflow pages.
    db.table("events").create(
        {
            "rid": int,
            "id": str,
            "session_id": str,
            "ts": int,
            "type": str,
            "agent_id": str,
            "name": str,
            "status": str,
            "parent_id": str,
            "duration_ms": float,
            "input_tokens": int,
            "output_tokens": int,
            "cost_usd": float,
            "metadata": str,
            "content": str,
        },
        pk="rid",
        not_null={"id", "session_id", "ts", "type", "status", "metadata"},
        defaults={"status": "ok", "metadata": "{}"},
    )
    for sql in EVENT_INDEXES:
        db.execute(sql)


# The events table's secondary indexes, shared with bench/ceiling.py so the raw
# ceiling is measured with exactly the same ones.
EVENT_INDEXES = (
    "CREATE UNIQUE INDEX events_id ON events (id)",
    "CREATE INDEX events_session_ts ON events (session_id, ts, id)",
    "CREATE INDEX events_ts ON events (ts, id)",
    "CREATE INDEX events_type ON events (type, ts)",
    "CREATE INDEX events_agent ON events (agent_id, ts)",
    "CREATE INDEX events_name ON events (name)",
    "CREATE INDEX events_parent ON events (parent_id) WHERE parent_id IS NOT NULL",
    "CREATE INDEX events_errors ON events (ts) WHERE status = 'error'",
)

EVENTS_FTS_SQL = (
    "CREATE VIRTUAL TABLE events_fts USING fts5("
    f"name, content, content='', columnsize=0, tokenize='{FTS_TOKENIZE}')"
)


@migration
def m002_fts(db: Database) -> None:
    """Full-text indexes over normalised text, filled in batches behind the writes."""
    # Contentless: the text already lives in `events`; rows are keyed by events.rid
    # and deleted with FTS5's 'delete' command and the same normalised values.
    db.execute(EVENTS_FTS_SQL)
    db.execute(
        "CREATE VIRTUAL TABLE sessions_fts USING fts5("
        f"title, description, tokenize='{FTS_TOKENIZE}')"
    )
    # Highest events.rid already in events_fts: the batch indexer's watermark.
    db.table("fts_state").create({"name": str, "value": int}, pk="name", not_null={"value"})
    db.table("fts_state").insert({"name": "events_indexed_rid", "value": 0})
    # Files from m001 alone may hold sessions: index their titles now.
    from agentlog.storage.sql.textsearch import normalize_for_index

    rows = db.execute("SELECT rid, title, description FROM sessions").fetchall()
    db.conn.executemany(
        "INSERT INTO sessions_fts (rowid, title, description) VALUES (?, ?, ?)",
        [(rid, normalize_for_index(t), normalize_for_index(d)) for rid, t, d in rows],
    )


def migration_names() -> list[str]:
    return [fn.__name__ for fn in MIGRATIONS]


def migration_number(name: str) -> int:
    match = re.match(r"m(\d+)_", name)
    if not match:
        raise ValueError(f"migration {name!r} is not named m<number>_<what>")
    return int(match.group(1))


BLOCK_SHIFT = 10  # events.rid >> BLOCK_SHIFT = the event's block (1,024 rids)


@migration
def m003_event_blocks(db: Database) -> None:
    """Time bounds per block of rids and rid spans per session, so search pages stop early.

    A newest-first search walks the full-text matches block by block from the
    newest rids and stops once no older block can hold a later event
    (`sqlite/search.py`); without these bounds a common word meant sorting every match.
    """
    db.table("event_blocks").create(
        {"block": int, "min_ts": int, "max_ts": int}, pk="block", not_null={"min_ts", "max_ts"}
    )
    db.execute(
        "INSERT INTO event_blocks (block, min_ts, max_ts)"
        f" SELECT rid >> {BLOCK_SHIFT}, min(ts), max(ts) FROM events GROUP BY rid >> {BLOCK_SHIFT}"
    )
    db.table("session_stats").add_column("first_rid", int)
    db.table("session_stats").add_column("last_rid", int)
    db.execute(
        "UPDATE session_stats SET (first_rid, last_rid) ="
        " (SELECT min(rid), max(rid) FROM events WHERE events.session_id = session_stats.session_id)"
    )


@migration
def m004_sort_indexes(db: Database) -> None:
    """An index per session sort key, so any sorted page of sessions stops after one page.

    Measured over 10,000 sessions: sorting by title, event count or duration took
    25-70 ms without them (a full sort per page) and about 1 ms with them.
    """
    db.table("sessions").create_index(["title", "id"], index_name="sessions_title")
    db.table("sessions").create_index(["updated_at", "id"], index_name="sessions_updated")
    for column in ("event_count", "error_count", "input_tokens", "output_tokens", "cost_usd"):
        db.table("session_stats").create_index(
            [column, "session_id"], index_name=f"session_stats_{column}"
        )
    db.execute(
        "CREATE INDEX session_stats_duration ON session_stats"
        " (coalesce(last_event_at - first_event_at, -1), session_id)"
    )
    # Covering: `agents()` groups every (session, agent) row without touching the table.
    db.execute("DROP INDEX session_agents_agent")
    db.execute(
        "CREATE INDEX session_agents_agent ON session_agents"
        " (agent_id, last_event_at, first_event_at, event_count, error_count)"
    )


@migration
def m005_change_stamps(db: Database) -> None:
    """When each session last changed, by the writer's clock: "what changed since" in one query.

    Live views (the TUI's sessions list, `agentlog tail`) poll with
    `Store.changed_sessions` instead of re-reading every visible row.
    """
    db.execute("ALTER TABLE session_stats ADD COLUMN changed_at INTEGER NOT NULL DEFAULT 0")
    db.execute("CREATE INDEX session_stats_changed ON session_stats (changed_at, session_id)")


@migration
def m006_event_ends(db: Database) -> None:
    """When each session's last event ended, so a duration covers a long final call."""
    db.execute("ALTER TABLE session_stats ADD COLUMN last_end_at INTEGER")
    db.execute(
        "UPDATE session_stats SET last_end_at = (SELECT max(ts + CAST(max(coalesce(duration_ms,"
        " 0), 0) * 1000 AS INTEGER)) FROM events WHERE events.session_id = session_stats.session_id)"
    )
    db.execute(
        "CREATE INDEX session_stats_span ON session_stats"
        " (coalesce(last_end_at - first_event_at, -1), session_id)"
    )


TOKEN_DETAILS = ("cache_read_tokens", "cache_creation_tokens", "reasoning_tokens")


@migration
def m007_token_details(db: Database) -> None:
    """Prompt-cache reads and writes and reasoning tokens as counts of their own (issue 20).

    Nullable like the other measures: an event that never reported them stays NULL.
    """
    for column in ("cache_read_tokens", "cache_creation_tokens", "reasoning_tokens"):
        db.execute(f"ALTER TABLE events ADD COLUMN {column} INTEGER")


@migration
def m008_team_keys(db: Database) -> None:
    """Sessions and events keyed by (team, id): ids are per team, so no team learns another's.

    A local store's rows get the team key '' (`sql/teams.py`), so the key is never
    NULL and one unique index guards local and team rows alike. The unique keys
    are (id, team_id): the same guarantee as (team_id, id), and a local store's
    lookups by id alone still use them. The aggregates are re-keyed the same way.
    """
    db.execute("UPDATE sessions SET team_id = '' WHERE team_id IS NULL")
    db.execute("DROP INDEX sessions_id")
    db.execute("CREATE UNIQUE INDEX sessions_id ON sessions (id, team_id)")
    db.execute("ALTER TABLE events ADD COLUMN team_id TEXT NOT NULL DEFAULT ''")
    db.execute(
        "UPDATE events SET team_id = (SELECT s.team_id FROM sessions s WHERE s.id = events.session_id)"
        " WHERE session_id IN (SELECT id FROM sessions WHERE team_id != '')"
    )
    db.execute("DROP INDEX events_id")
    db.execute("CREATE UNIQUE INDEX events_id ON events (id, team_id)")
    for table, pk in (
        ("session_stats", ("team_id", "session_id")),
        ("session_agents", ("team_id", "session_id", "agent_id")),
    ):
        db.table(table).add_column("team_id", str, not_null_default="")
        db.execute(
            f"UPDATE {table} SET team_id = (SELECT s.team_id FROM sessions s"
            f" WHERE s.id = {table}.session_id)"
            " WHERE session_id IN (SELECT id FROM sessions WHERE team_id != '')"
        )
        db.table(table).transform(pk=pk)


@migration
def m009_session_token_details(db: Database) -> None:
    """Each session's totals of prompt-cache reads and writes and reasoning tokens (issue 20),
    kept up by the writes like its other totals; filled from the events already stored."""
    for column in TOKEN_DETAILS:
        db.execute(f"ALTER TABLE session_stats ADD COLUMN {column} INTEGER NOT NULL DEFAULT 0")
    sums = ", ".join(f"coalesce(sum(e.{c}), 0)" for c in TOKEN_DETAILS)
    db.execute(
        f"UPDATE session_stats SET ({', '.join(TOKEN_DETAILS)}) = (SELECT {sums} FROM events e"
        " WHERE e.team_id = session_stats.team_id AND e.session_id = session_stats.session_id)"
        " WHERE EXISTS (SELECT 1 FROM events e WHERE e.team_id = session_stats.team_id"
        " AND e.session_id = session_stats.session_id AND (e.cache_read_tokens IS NOT NULL"
        " OR e.cache_creation_tokens IS NOT NULL OR e.reasoning_tokens IS NOT NULL))"
    )


LATEST_VERSION = migration_number(migration_names()[-1])
