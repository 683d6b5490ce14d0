"""The Citus-readiness rules checker, on schemas made to pass and to fail each rule, then on the store's own."""

from __future__ import annotations

import os

import psycopg
import pytest
from psycopg import sql

from agentlog.storage.postgres.citus import violations

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not os.environ.get("AGENTLOG_TEST_POSTGRES_URL"), reason="needs PostgreSQL"),
]


@pytest.fixture
def scratch():
    from agentlog.storage.postgres.testing import base_url, drop_schema, new_schema_url

    _, schema = new_schema_url("deploy_citus")
    with psycopg.connect(base_url(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("SET search_path = {}").format(sql.Identifier(schema)))
        try:
            yield conn, schema
        finally:
            drop_schema(schema)


def test_a_tenant_keyed_schema_passes(scratch):
    conn, schema = scratch
    conn.execute("CREATE TABLE teams (id text PRIMARY KEY)")
    conn.execute(
        "CREATE TABLE sessions (team_id text NOT NULL, id text NOT NULL, created_at bigint,"
        " PRIMARY KEY (team_id, id))"
    )
    conn.execute("CREATE INDEX sessions_created ON sessions (team_id, created_at)")
    conn.execute(
        "CREATE TABLE events (team_id text NOT NULL, id text NOT NULL, session_id text,"
        " PRIMARY KEY (team_id, id),"
        " FOREIGN KEY (team_id, session_id) REFERENCES sessions (team_id, id))"
    )
    assert violations(conn, schema) == []


def test_each_broken_rule_is_named(scratch):
    conn, schema = scratch
    conn.execute("CREATE TABLE sessions (id text PRIMARY KEY, team_id text)")
    conn.execute("CREATE INDEX sessions_team ON sessions (team_id)")
    conn.execute("CREATE TABLE notes (id text PRIMARY KEY)")
    conn.execute(
        "CREATE TABLE events (team_id text, id text, session_id text REFERENCES sessions (id),"
        " PRIMARY KEY (team_id, id))"
    )
    conn.execute("CREATE INDEX events_lower ON events (lower(id))")
    found = violations(conn, schema)
    assert "notes: no team_id column" in found
    assert "sessions: primary key sessions_pkey starts with id" in found
    assert "events: index events_lower starts with an expression" in found
    assert any(v.startswith("events: foreign key") and "sessions" in v for v in found)
    assert not any("sessions_team" in v for v in found)


def test_the_store_schema_today(scratch):
    """The store's own schema (events and accounts) breaks no rule: it distributes by team."""
    from agentlog.storage.accounts.postgres import PostgresAccounts
    from agentlog.storage.postgres.store import PostgresStore
    from agentlog.storage.postgres.testing import base_url, with_schema

    conn, schema = scratch
    url = with_schema(base_url(), schema)
    PostgresStore(url).close()
    PostgresAccounts(url).close()
    assert violations(conn, schema) == []


def test_a_gin_index_is_exempt_but_not_a_unique_one(scratch):
    conn, schema = scratch
    conn.execute(
        "CREATE TABLE docs (team_id text NOT NULL, id text, tsv tsvector,"
        " PRIMARY KEY (team_id, id))"
    )
    conn.execute("CREATE INDEX docs_tsv ON docs USING gin (tsv)")
    conn.execute("CREATE UNIQUE INDEX docs_id ON docs (id)")
    assert violations(conn, schema) == ["docs: unique index docs_id starts with id"]
