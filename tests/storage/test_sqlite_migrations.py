"""SQLite schema migrations: well-formed names, the blank-file schema, and upgrades on open."""

from __future__ import annotations

import re
import sqlite3

import pytest
from sqlite_utils import Database

from agentlog.model import Event, EventType, Session, to_us
from agentlog.storage.base import EventQuery, SessionQuery
from agentlog.storage.sql.rows import event_row, session_row
from agentlog.storage.sqlite.migrations import (
    APPLICATION_ID,
    LATEST_VERSION,
    MIGRATION_SET,
    MIGRATIONS_TABLE,
    migration_names,
    migration_number,
    migration_set,
)
from agentlog.storage.sqlite.store import SQLiteStore
from agentlog.storage.sqlite.write import INSERT_EVENT

EXPECTED_TABLES = {
    "sessions",
    "session_stats",
    "session_agents",
    "events",
    "events_fts",
    "sessions_fts",
    "fts_state",
}
EXPECTED_EVENT_INDEXES = {
    "events_id",
    "events_session_ts",
    "events_ts",
    "events_type",
    "events_agent",
    "events_name",
    "events_parent",
    "events_errors",
}


def test_names_are_unique_and_strictly_increasing():
    names = migration_names()
    assert [m.name for m in migration_set()._migrations] == names  # sqlite-utils refuses duplicates
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"m\d{3}_[a-z0-9_]+", n) for n in names), names
    numbers = [migration_number(n) for n in names]
    assert numbers == sorted(set(numbers)) and numbers[0] == 1
    assert numbers[-1] == LATEST_VERSION


def test_migrations_table_is_sqlite_utils_own():
    from sqlite_utils.migrations import Migrations

    assert Migrations.migrations_table == MIGRATIONS_TABLE


def test_blank_file_gets_the_expected_schema(tmp_path):
    path = tmp_path / "new.db"
    with SQLiteStore(path) as store:
        assert store.schema_version == LATEST_VERSION
    db = Database(path)
    assert set(db.table_names()) >= EXPECTED_TABLES
    assert {i.name for i in db["events"].indexes} == EXPECTED_EVENT_INDEXES
    assert db["events"].pks == ["rid"] and db["sessions"].pks == ["rid"]
    assert {"team_id", "created_by"} <= set(db["sessions"].columns_dict)
    assert db["events"].columns_dict["ts"] is int
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert db.execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION
    applied = [
        r["name"] for r in db["_sqlite_migrations"].rows_where("migration_set = ?", [MIGRATION_SET])
    ]
    assert applied == migration_names()
    db.close()


def test_reopening_applies_nothing_twice(tmp_path):
    path = tmp_path / "again.db"
    SQLiteStore(path).close()
    SQLiteStore(path).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0] == len(
            migration_names()
        )


def test_first_schema_is_upgraded_on_open_with_data_kept(tmp_path):
    path = tmp_path / "old.db"
    db = Database(path)
    migration_set().apply(db, stop_before=migration_names()[1])  # only m001_initial
    assert "events_fts" not in db.table_names()
    s = Session(
        title="数据库 old session",
        created_at="2025-01-01T00:00:00Z",
        updated_at="2025-01-01T00:00:00Z",
    )
    row = session_row(s)
    db["sessions"].insert(row)
    db["session_stats"].insert(
        {"session_id": s.id, "event_count": 2, "activity_at": to_us(s.created_at)}
    )
    events = [
        Event(
            session_id=s.id,
            type=EventType.LOG,
            content=f"legacy marmalade {i}",
            timestamp=f"2025-01-01T00:00:0{i}Z",
        )
        for i in range(2)
    ]
    # The m001 columns only (the current INSERT_EVENT names columns added later).
    legacy_insert = (
        INSERT_EVENT.split(", cache_read_tokens")[0] + ") VALUES (" + ",".join("?" * 15) + ")"
    )
    db.conn.executemany(legacy_insert, [event_row(i + 1, e)[:15] for i, e in enumerate(events)])
    db.conn.commit()
    db.close()

    with SQLiteStore(path) as store:
        assert store.schema_version == LATEST_VERSION
        assert store.get_session(s.id).title == "数据库 old session"
        assert [e.id for e in store.list_events(EventQuery(session_id=s.id))] == [
            e.id for e in events
        ]
        assert store.count_events(EventQuery(text="marmalade")) == 2
        assert store.count_sessions(SessionQuery(text="数据库")) == 1
        assert store.check() == []
        conn = store._read()
        assert conn.execute("SELECT block, min_ts, max_ts FROM event_blocks").fetchall() == [
            (0, to_us(events[0].timestamp), to_us(events[1].timestamp))
        ]
        assert conn.execute("SELECT first_rid, last_rid FROM session_stats").fetchall() == [(1, 2)]


def test_read_only_open_of_an_old_file_asks_for_an_upgrade(tmp_path):
    from agentlog.errors import StoreError

    path = tmp_path / "old-ro.db"
    db = Database(path)
    migration_set().apply(db, stop_before=migration_names()[1])
    db.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="without --read-only to upgrade"):
        SQLiteStore(path, read_only=True)
    assert path.read_bytes() == before
