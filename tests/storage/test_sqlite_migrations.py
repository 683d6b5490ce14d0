"""SQLite schema migrations: well-formed names, the blank-file schema, and upgrades on open."""

from __future__ import annotations

import re
import sqlite3

import pytest
from sqlite_utils import Database

from agentlog.model import Event, EventType, Session, to_us
from agentlog.storage.base import EventQuery, SessionQuery
from agentlog.storage.sql.rows import event_values, session_row
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
    db.conn.executemany(
        legacy_insert, [(i + 1, *event_values(e))[:15] for i, e in enumerate(events)]
    )
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


def test_a_schema_7_file_is_rekeyed_by_team_with_its_data_kept(tmp_path):
    """m008: a team's rows keep their team, a local store's rows get '', and ids become per team."""
    path = tmp_path / "v7.db"
    db = Database(path)
    migration_set().apply(db, stop_before="m008_team_keys")
    ts = to_us(Session(created_at="2025-01-01T00:00:00Z").created_at)
    sessions = {"team-a": Session(title="alpha's"), None: Session(title="a local one")}
    events: list[Event] = []
    for team, s in sessions.items():
        db["sessions"].insert({**session_row(s), "team_id": team})
        db["session_stats"].insert(
            {"session_id": s.id, "event_count": 1, "activity_at": ts, "first_rid": 0}
        )
        db["session_agents"].insert(
            {
                "session_id": s.id,
                "agent_id": "bot",
                "event_count": 1,
                "error_count": 0,
                "first_event_at": ts,
                "last_event_at": ts,
            }
        )
        events.append(Event(session_id=s.id, type=EventType.LOG, agent_id="bot", content="kept"))
    v7_insert = INSERT_EVENT.split(", team_id)")[0] + ") VALUES (" + ",".join("?" * 18) + ")"
    db.conn.executemany(v7_insert, [(i + 1, *event_values(e)) for i, e in enumerate(events)])
    db.conn.commit()
    db.close()

    with SQLiteStore(path) as store:
        assert store.schema_version == LATEST_VERSION
        alpha, local = sessions["team-a"], sessions[None]
        got = store.get_session(alpha.id)
        assert (got.team_id, got.event_count, got.agents) == ("team-a", 1, ["bot"])
        got = store.get_session(local.id)
        assert (got.team_id, got.event_count, got.agents) == (None, 1, ["bot"])
        conn = store._read()
        assert sorted(conn.execute("SELECT team_id, session_id FROM events").fetchall()) == sorted(
            [("team-a", alpha.id), ("", local.id)]
        )
        assert store.check() == []
        # Ids are now per team: team b may use alpha's session and event ids as its own.
        beta = store.scoped("team-b", "bob")
        result = beta.write(events=[Event(id=events[0].id, session_id=alpha.id, type="LOG")])
        assert (result.inserted, result.duplicates) == (1, 0)
        assert store.scoped("team-a").get_session(alpha.id).event_count == 1
        assert beta.get_session(alpha.id).event_count == 1


def test_a_schema_8_file_gets_session_totals_of_token_details(tmp_path):
    """m009: each session's cache and reasoning totals are filled from its stored events."""
    path = tmp_path / "v8.db"
    db = Database(path)
    migration_set().apply(db, stop_before="m009_session_token_details")
    s = Session(title="cached")
    events = [
        Event(session_id=s.id, type=EventType.LLM_CALL, cache_read_tokens=900, reasoning_tokens=40),
        Event(session_id=s.id, type=EventType.LLM_CALL, cache_creation_tokens=50),
    ]
    db["sessions"].insert({**session_row(s), "team_id": ""})
    db["session_stats"].insert(
        {"team_id": "", "session_id": s.id, "event_count": 2, "activity_at": 1, "first_rid": 1}
    )
    db.conn.executemany(INSERT_EVENT, [(i + 1, *event_values(e), "") for i, e in enumerate(events)])
    db.conn.commit()
    db.close()

    with SQLiteStore(path) as store:
        assert store.schema_version == LATEST_VERSION
        got = store.get_session(s.id)
        assert (got.cache_read_tokens, got.cache_creation_tokens, got.reasoning_tokens) == (
            900,
            50,
            40,
        )
        assert store.check() == []
