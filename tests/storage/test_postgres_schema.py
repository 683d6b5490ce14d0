"""PostgreSQL store: migrations on a blank schema, concurrent opens, newer schemas, connection faults."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest

from agentlog.errors import NotAnAgentLogDatabase, SchemaTooNew, StoreError
from agentlog.storage import open_store
from agentlog.storage.postgres.migrations import (
    LATEST_VERSION,
    MIGRATIONS,
    MIGRATIONS_TABLE,
    migration_names,
    migration_number,
)
from agentlog.storage.postgres.testing import ENV, drop_schema, new_schema_url

psycopg = pytest.importorskip("psycopg")
needs_pg = pytest.mark.skipif(not os.environ.get(ENV), reason=f"PostgreSQL tests need {ENV} set")


@pytest.fixture
def schema_url() -> Iterator[tuple[str, str]]:
    if not os.environ.get(ENV):
        pytest.skip(f"PostgreSQL tests need {ENV} set")
    url, schema = new_schema_url("schema")
    try:
        yield url, schema
    finally:
        drop_schema(schema)


def _tables(schema: str) -> set[str]:
    from agentlog.storage.postgres.testing import base_url

    with psycopg.connect(base_url()) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)
        ).fetchall()
    return {r[0] for r in rows}


def test_names_are_unique_and_strictly_increasing() -> None:
    numbers = [migration_number(n) for n in migration_names()]
    assert numbers == sorted(set(numbers))
    assert numbers[-1] == LATEST_VERSION


def test_blank_schema_gets_every_table_once(schema_url: tuple[str, str]) -> None:
    url, schema = schema_url
    store = open_store(url)
    try:
        assert store.info().schema_version == LATEST_VERSION
        assert {
            "sessions",
            "session_stats",
            "session_agents",
            "events",
            "events_fts",
            "fts_pending",
            MIGRATIONS_TABLE,
        } <= _tables(schema)
    finally:
        store.close()
    again = open_store(url)  # a second open applies nothing and keeps working
    try:
        assert again.info().schema_version == LATEST_VERSION
    finally:
        again.close()
    with psycopg.connect(url.split("?")[0]) as conn:
        names = conn.execute(
            f"SELECT name FROM {schema}.{MIGRATIONS_TABLE} WHERE migration_set = 'agentlog'"
            " ORDER BY number"
        ).fetchall()
    assert [n[0] for n in names] == [m.name for m in MIGRATIONS]


def test_concurrent_opens_migrate_exactly_once(schema_url: tuple[str, str]) -> None:
    url, _ = schema_url
    stores, errors = [], []

    def open_one() -> None:
        try:
            stores.append(open_store(url))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == [] and len(stores) == 4
        assert {s.info().schema_version for s in stores} == {LATEST_VERSION}
    finally:
        for s in stores:
            s.close()


def test_newer_schema_is_refused(schema_url: tuple[str, str]) -> None:
    url, schema = schema_url
    open_store(url).close()
    with psycopg.connect(url.split("?")[0], autocommit=True) as conn:
        conn.execute(
            f"INSERT INTO {schema}.{MIGRATIONS_TABLE} (migration_set, name, number)"
            " VALUES ('agentlog', 'm999_future', 999)"
        )
    with pytest.raises(SchemaTooNew, match="schema 999"):
        open_store(url)


def test_foreign_tables_are_left_alone(schema_url: tuple[str, str]) -> None:
    url, schema = schema_url
    with psycopg.connect(url.split("?")[0], autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        conn.execute(f"CREATE TABLE {schema}.events (x int)")
    with pytest.raises(NotAnAgentLogDatabase, match="did not create"):
        open_store(url)


def test_connection_refused_is_one_line_without_password() -> None:
    with pytest.raises(StoreError) as caught:
        open_store("postgresql://alice:s3cret@127.0.0.1:1/nodb")
    message = str(caught.value)
    assert "s3cret" not in message and "\n" not in message
    assert "postgresql://alice@127.0.0.1:1/nodb" in message


@needs_pg
def test_unknown_user_is_a_store_error() -> None:
    from agentlog.storage.postgres.testing import base_url

    url = base_url().replace("postgres@", "no_such_agentlog_user:pw@", 1)
    with pytest.raises(StoreError) as caught:
        open_store(url)
    assert "pw@" not in str(caught.value) and "no_such_agentlog_user" in str(caught.value)


def test_first_schema_is_upgraded_with_its_data_kept_and_found(schema_url: tuple[str, str]) -> None:
    from agentlog.model import Event, EventType, Session
    from agentlog.storage.base import EventQuery, SessionQuery
    from agentlog.storage.postgres.conn import connect, parse_url
    from agentlog.storage.postgres.migrations import apply

    url, schema = schema_url
    target = parse_url(url)
    s = Session(title="legacy 部署")
    e = Event(session_id=s.id, type=EventType.LOG, content="an old kumquat")
    with connect(target) as conn:
        apply(conn, schema=schema, display=target.display, migrations=MIGRATIONS[:1])
        with conn.transaction():
            conn.execute(
                "INSERT INTO sessions (id, title, created_at, updated_at) VALUES (%s, %s, 1, 1)",
                (s.id, s.title),
            )
            conn.execute(
                "INSERT INTO session_stats (session_id, activity_at) VALUES (%s, 1)", (s.id,)
            )
            conn.execute(
                "INSERT INTO events (id, session_id, ts, type, content) VALUES (%s, %s, 5, 'LOG', %s)",
                (e.id, s.id, e.content),
            )
    store = open_store(url)
    try:
        assert store.info().schema_version == LATEST_VERSION
        assert [x.id for x in store.list_events(EventQuery(text="kumquat"))] == [e.id]
        assert [x.id for x in store.list_sessions(SessionQuery(text="部署"))] == [s.id]
    finally:
        store.close()


def test_a_schema_5_database_is_rekeyed_by_team_with_its_data_kept(
    schema_url: tuple[str, str],
) -> None:
    """m006: a team's rows keep their team, team-less rows get '', and ids become per team."""
    from agentlog.model import Event, EventType, Session
    from agentlog.storage.postgres.conn import connect, parse_url
    from agentlog.storage.postgres.migrations import apply

    url, schema = schema_url
    target = parse_url(url)
    sessions = {"team-a": Session(title="alpha's"), None: Session(title="a local one")}
    events = {team: Event(session_id=s.id, type=EventType.LOG) for team, s in sessions.items()}
    with connect(target) as conn:
        apply(conn, schema=schema, display=target.display, migrations=MIGRATIONS[:5])
        with conn.transaction():
            for team, s in sessions.items():
                conn.execute(
                    "INSERT INTO sessions (id, title, team_id, created_at, updated_at)"
                    " VALUES (%s, %s, %s, 1, 1)",
                    (s.id, s.title, team),
                )
                conn.execute(
                    "INSERT INTO session_stats (session_id, activity_at, event_count)"
                    " VALUES (%s, 1, 1)",
                    (s.id,),
                )
                conn.execute(
                    "INSERT INTO session_agents (session_id, agent_id, event_count, error_count,"
                    " first_event_at, last_event_at) VALUES (%s, 'bot', 1, 0, 5, 5)",
                    (s.id,),
                )
                conn.execute(
                    "INSERT INTO events (id, session_id, ts, type, agent_id)"
                    " VALUES (%s, %s, 5, 'LOG', 'bot')",
                    (events[team].id, s.id),
                )
    store = open_store(url)
    try:
        assert store.info().schema_version == LATEST_VERSION
        alpha, local = sessions["team-a"], sessions[None]
        got = store.get_session(alpha.id)
        assert (got.team_id, got.event_count, got.agents) == ("team-a", 1, ["bot"])
        got = store.get_session(local.id)
        assert (got.team_id, got.event_count, got.agents) == (None, 1, ["bot"])
        assert store.get_event(events["team-a"].id).session_id == alpha.id
        beta = store.scoped("team-b", "bob")
        same = Event(id=events["team-a"].id, session_id=alpha.id, type=EventType.LOG)
        result = beta.write(events=[same])
        assert (result.inserted, result.duplicates) == (1, 0)
        assert store.scoped("team-a").get_session(alpha.id).event_count == 1
        assert beta.get_session(alpha.id).event_count == 1
    finally:
        store.close()


def test_a_schema_6_database_gets_session_totals_of_token_details(
    schema_url: tuple[str, str],
) -> None:
    """m007: each session's cache and reasoning totals are filled from its stored events."""
    from agentlog.model import Event, EventType, Session
    from agentlog.storage.postgres.conn import connect, parse_url
    from agentlog.storage.postgres.migrations import apply

    url, schema = schema_url
    target = parse_url(url)
    s = Session(title="cached")
    with connect(target) as conn:
        apply(conn, schema=schema, display=target.display, migrations=MIGRATIONS[:6])
        with conn.transaction():
            conn.execute(
                "INSERT INTO sessions (id, title, created_at, updated_at) VALUES (%s, %s, 1, 1)",
                (s.id, s.title),
            )
            conn.execute(
                "INSERT INTO session_stats (session_id, activity_at, event_count)"
                " VALUES (%s, 1, 2)",
                (s.id,),
            )
            for cread, cmade, reason in ((900, None, 40), (None, 50, None)):
                conn.execute(
                    "INSERT INTO events (id, session_id, ts, type, cache_read_tokens,"
                    " cache_creation_tokens, reasoning_tokens) VALUES (%s, %s, 5, 'LLM_CALL',"
                    " %s, %s, %s)",
                    (
                        Event(session_id=s.id, type=EventType.LLM_CALL).id,
                        s.id,
                        cread,
                        cmade,
                        reason,
                    ),
                )
    store = open_store(url)
    try:
        assert store.info().schema_version == LATEST_VERSION
        got = store.get_session(s.id)
        assert (got.cache_read_tokens, got.cache_creation_tokens, got.reasoning_tokens) == (
            900,
            50,
            40,
        )
    finally:
        store.close()
