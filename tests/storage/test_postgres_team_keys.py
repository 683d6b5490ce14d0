"""PostgreSQL schema 9: a schema-8 store with two teams' data converts to team-first keys losslessly."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from agentlog.model import Event, EventType, Session, to_us
from agentlog.storage.base import EventQuery, SessionQuery
from agentlog.storage.postgres.testing import ENV, drop_schema, new_schema_url
from agentlog.storage.postgres.testing import connect_to_schema as _raw

psycopg = pytest.importorskip("psycopg")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not os.environ.get(ENV), reason=f"PostgreSQL tests need {ENV} set"),
]


@pytest.fixture
def schema_url() -> Iterator[tuple[str, str]]:
    url, schema = new_schema_url("teamkeys")
    try:
        yield url, schema
    finally:
        drop_schema(schema)


def test_schema_8_converts_to_team_first_keys(schema_url):
    """m009: the same session id in two teams, indexed and pending rows of both, survive."""
    from agentlog.storage import open_store
    from agentlog.storage.postgres.citus import violations
    from agentlog.storage.postgres.conn import connect, parse_url
    from agentlog.storage.postgres.migrations import MIGRATIONS, apply

    url, schema = schema_url
    target = parse_url(url)
    s = Session(title="shared id")
    teams = ("team-a", "team-b")
    events = {
        team: [
            Event(session_id=s.id, type=EventType.LOG, content=f"kumquat {team} {i}")
            for i in range(3)
        ]
        for team in teams
    }
    with connect(target) as conn:
        apply(conn, schema=schema, display=target.display, migrations=MIGRATIONS[:8])
        with conn.transaction():
            for team in teams:
                conn.execute(
                    "INSERT INTO sessions (id, title, created_at, updated_at, team_id)"
                    " VALUES (%s, %s, 1, 1, %s)",
                    (s.id, s.title, team),
                )
                conn.execute(
                    "INSERT INTO session_stats (team_id, session_id, activity_at, event_count)"
                    " VALUES (%s, %s, 1, 3)",
                    (team, s.id),
                )
            # Interleaved rids: 1 a, 2 b, 3 a, 4 b, 5 a, 6 b.
            for a, b in zip(events["team-a"], events["team-b"], strict=True):
                for team, e in (("team-a", a), ("team-b", b)):
                    conn.execute(
                        "INSERT INTO events (id, session_id, ts, type, content, team_id)"
                        " VALUES (%s, %s, %s, 'LOG', %s, %s)",
                        (e.id, s.id, to_us(e.timestamp), e.content, team),
                    )
            # rids 1-2 indexed already; one pending range spans both teams' rids 3-6.
            conn.execute(
                "INSERT INTO events_fts (rid, ts, tsv) SELECT rid, ts,"
                " to_tsvector('simple', content) FROM events WHERE rid <= 2"
            )
            conn.execute("INSERT INTO fts_pending (lo, hi) VALUES (3, 6)")
            before = conn.execute("SELECT rid, id, team_id FROM events ORDER BY rid").fetchall()
    store = open_store(url)
    try:
        with _raw(schema) as conn:
            assert violations(conn, schema) == []
            assert (
                conn.execute("SELECT rid, id, team_id FROM events ORDER BY rid").fetchall()
                == before
            )
            assert conn.execute("SELECT team_id, rid FROM events_fts ORDER BY rid").fetchall() == [
                ("team-a", 1),
                ("team-b", 2),
            ]
            assert conn.execute(
                "SELECT team_id, lo, hi FROM fts_pending ORDER BY team_id"
            ).fetchall() == [("team-a", 3, 5), ("team-b", 4, 6)]
        for team in teams:
            view = store.scoped(team)
            found = view.list_events(EventQuery(text="kumquat", order="asc"))
            assert [e.id for e in found.items] == [e.id for e in events[team]]
            assert view.get_session(s.id).title == "shared id"
            assert [x.id for x in view.list_sessions(SessionQuery()).items] == [s.id]
            page = view.list_events(EventQuery(session_id=s.id, limit=2))
            assert [e.id for e in page.items] == [e.id for e in events[team][:2]]
            assert view.get_event(events[team][2].id).content == f"kumquat {team} 2"
        with _raw(schema) as conn:
            assert conn.execute("SELECT count(*) FROM fts_pending").fetchone() == (0,)
            assert conn.execute(
                "SELECT team_id, count(*) FROM events_fts GROUP BY 1 ORDER BY 1"
            ).fetchall() == [("team-a", 3), ("team-b", 3)]
        # The unscoped view names every team: both sessions, each team's events.
        assert len(store.list_sessions(SessionQuery()).items) == 2
        assert store.count_events(EventQuery(text="kumquat")) == 6
        # New writes index their events under their team at once, and are found.
        extra = Event(session_id=s.id, type=EventType.LOG, content="fresh persimmon")
        assert store.scoped("team-b").write(events=[extra]).inserted == 1
        with _raw(schema) as conn:
            assert conn.execute("SELECT count(*) FROM fts_pending").fetchone() == (0,)
            assert conn.execute(
                "SELECT f.team_id FROM events_fts f JOIN events e ON e.rid = f.rid WHERE e.id = %s",
                (extra.id,),
            ).fetchall() == [("team-b",)]
        assert [e.id for e in store.scoped("team-b").list_events(EventQuery(text="persimmon"))] == [
            extra.id
        ]
        assert not store.scoped("team-a").list_events(EventQuery(text="persimmon")).items
    finally:
        store.close()
