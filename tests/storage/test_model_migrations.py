"""A model field without a column (or a column the model lost) fails here until a migration adds or drops it."""

from __future__ import annotations

import os
import sqlite3

import pytest

from agentlog.model import Event, Session

# Where a field's column has another name, and columns that are storage's own.
RENAMED = {"timestamp": "ts"}
STORAGE_ONLY = {"rid", "search"}  # row ids for keyset/FTS; PostgreSQL's session tsvector
# An event's team is its session's; it is stored beside the event as half of its key.
TABLE_ONLY = {"events": {"team_id"}}


def expected(model: type) -> set[str]:
    return {RENAMED.get(name, name) for name in model.model_fields}


MODELS: tuple[tuple[str, type], ...] = (("events", Event), ("sessions", Session))


def check(columns: dict[str, set[str]], models: tuple[tuple[str, type], ...] = MODELS) -> None:
    for table, model in models:
        have = columns[table] - STORAGE_ONLY - TABLE_ONLY.get(table, set())
        want = expected(model)
        assert want - have == set(), (
            f"{model.__name__} has fields with no column in {table}: {sorted(want - have)}; "
            "add a migration (m00N_...) to both stores"
        )
        assert have - want == set(), (
            f"{table} has columns {model.__name__} no longer has: {sorted(have - want)}; "
            "add a migration, or list them as storage's own here"
        )


def sqlite_columns(tmp_path) -> dict[str, set[str]]:
    from agentlog.storage.sqlite.store import SQLiteStore

    path = tmp_path / "m.db"
    SQLiteStore(str(path)).close()
    with sqlite3.connect(path) as conn:
        return {
            t: {row[1] for row in conn.execute(f"PRAGMA table_info({t})")}
            for t in ("events", "sessions")
        }


def test_sqlite_schema_matches_the_model(tmp_path):
    check(sqlite_columns(tmp_path))


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("AGENTLOG_TEST_POSTGRES_URL"), reason="needs PostgreSQL")
def test_postgres_schema_matches_the_model():
    import psycopg

    from agentlog.storage.postgres.store import PostgresStore
    from agentlog.storage.postgres.testing import base_url, drop_schema, new_schema_url

    url, schema = new_schema_url("deploy")
    try:
        PostgresStore(url).close()
        with psycopg.connect(base_url()) as conn:
            rows = conn.execute(
                "SELECT table_name, column_name FROM information_schema.columns"
                " WHERE table_schema = %s AND table_name IN ('events', 'sessions')",
                (schema,),
            ).fetchall()
        columns: dict[str, set[str]] = {"events": set(), "sessions": set()}
        for table, column in rows:
            columns[table].add(column)
        check(columns)
    finally:
        drop_schema(schema)


def test_the_check_notices_a_new_field_and_a_lost_one(tmp_path):
    class Grown(Event):
        latency_budget_ms: float | None = None

    columns = sqlite_columns(tmp_path)
    with pytest.raises(AssertionError, match="latency_budget_ms"):
        check(columns, (("events", Grown),))
    columns["sessions"].add("legacy_owner")
    with pytest.raises(AssertionError, match="legacy_owner"):
        check(columns, (("sessions", Session),))
