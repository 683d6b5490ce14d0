"""PostgreSQL store: one pool shared by many threads, two stores (workers) at once, indexing."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest

from agentlog.model import Event, EventType, Session, new_id
from agentlog.storage.base import EventQuery
from agentlog.storage.postgres.testing import ENV, temporary_store

pytestmark = pytest.mark.skipif(not os.environ.get(ENV), reason=f"PostgreSQL tests need {ENV} set")


@pytest.fixture
def pg() -> Iterator:
    store = temporary_store()
    try:
        yield store
    finally:
        store.close()


def _run(workers: list[Callable[[], None]]) -> None:
    errors: list[BaseException] = []

    def guarded(fn: Callable[[], None]) -> None:
        try:
            fn()
        except BaseException as exc:  # collected and re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(fn,)) for fn in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def _events(sid: str, n: int, agent: str, word: str) -> list[Event]:
    return [
        Event(session_id=sid, type=EventType.LOG, agent_id=agent, content=f"{word} step {i}")
        for i in range(n)
    ]


def test_threads_share_one_pool_and_aggregates_stay_exact(pg) -> None:
    sid = new_id()
    pg.write(sessions=[Session(id=sid, title="threads")])
    batches = [_events(sid, 50, f"agent-{k % 3}", "pomegranate") for k in range(8)]
    results = []
    # Every batch is written twice, from two threads at once: one insert, one duplicate each.
    _run([lambda b=b: results.append(pg.write(events=b)) for b in batches + batches])
    assert sum(r.inserted for r in results) == 400
    assert sum(r.duplicates for r in results) == 400
    got = pg.get_session(sid)
    assert got.event_count == 400 and sorted(got.agents) == ["agent-0", "agent-1", "agent-2"]
    assert {a.agent_id: a.events for a in pg.agents()} == {
        "agent-0": 150,
        "agent-1": 150,
        "agent-2": 100,
    }
    counts: list[int] = []
    _run([lambda: counts.append(pg.count_events(EventQuery(text="pomegranate"))) for _ in range(6)])
    assert counts == [400] * 6


def test_two_stores_on_one_schema_write_the_same_events(pg) -> None:
    """Two server workers (two pools) writing overlapping batches never double-count."""
    from agentlog.storage.postgres.store import PostgresStore

    other = PostgresStore(pg.url, pool_size=2)
    try:
        sid = new_id()
        events = _events(sid, 300, "w", "quince")
        _run([lambda: pg.write(events=events), lambda: other.write(events=events[::-1])])
        assert pg.get_session(sid).event_count == 300
        assert other.count_events(EventQuery(text="quince", session_id=sid)) == 300
    finally:
        other.close()


def _queue_as_before(pg, sid: str) -> None:
    """Turn a session's indexed events into a backlog queued the way earlier versions
    wrote (no index rows, their rid range in `fts_pending`), as an upgraded store holds it."""
    with pg._pool.connection() as conn:
        conn.execute(
            "DELETE FROM events_fts f USING events e WHERE e.session_id = %s"
            " AND f.team_id = e.team_id AND f.rid = e.rid AND f.ts = e.ts",
            (sid,),
        )
        conn.execute(
            "INSERT INTO fts_pending (team_id, lo, hi) SELECT team_id, min(rid), max(rid)"
            " FROM events WHERE session_id = %s GROUP BY team_id",
            (sid,),
        )


def test_a_write_is_searchable_when_it_commits(pg) -> None:
    sid = new_id()
    events = _events(sid, 20, "a", "tamarind")
    pg.write(events=events)
    assert pg.info().extra["fts_pending"] == 0  # indexed by the write itself
    with pg._pool.connection() as conn:
        row = conn.execute(
            "SELECT count(*) FROM events_fts WHERE tsv @@ to_tsquery('simple', 'tamarind')"
        ).fetchone()
        assert row == (20,)
    assert pg.count_events(EventQuery(text="tamarind")) == 20
    # A duplicate write inserts nothing, so it indexes nothing twice.
    assert pg.write(events=events).duplicates == 20
    assert pg.count_events(EventQuery(text="tamarind")) == 20


def test_a_backlog_queued_before_is_indexed_by_the_next_search(pg) -> None:
    sid = new_id()
    pg.write(events=_events(sid, 20, "a", "tamarind"))
    _queue_as_before(pg, sid)
    assert pg.info().extra["fts_pending"] == 20
    assert pg.count_events(EventQuery(text="tamarind")) == 20
    assert pg.info().extra["fts_pending"] == 0


def test_search_text_is_never_tsquery_syntax(pg) -> None:
    sid = new_id()
    e = Event(session_id=sid, type=EventType.LOG, content="a & b | !c :* (d)")
    pg.write(events=[e])
    for text in ["&", "!c", "b | c", "d:*", "(d)", "'", "\\", "a <-> b"]:
        assert pg.count_events(EventQuery(text=text)) in (0, 1)
    assert [x.id for x in pg.list_events(EventQuery(text="a b c d"))] == [e.id]


def test_nul_characters_are_stored_as_the_nul_symbol(pg) -> None:
    """PostgreSQL text cannot hold NUL: the model's text rule stores U+2400 instead, as
    every backend does (the contract test checks them all), so no item is refused."""
    sid = new_id()
    result = pg.write(
        sessions=[Session(id=sid, title="bad\x00title")],
        events=[
            Event(session_id=sid, type=EventType.LOG, content="a\x00b"),
            Event(session_id=sid, type=EventType.LOG, metadata={"k": "x\x00"}),
        ],
    )
    assert result.inserted == 2 and result.errors == []
    assert pg.get_session(sid).title == "bad\u2400title"


def test_scoped_view_closing_keeps_the_pool(pg) -> None:
    view = pg.scoped("team-x", "u")
    view.write(events=_events(new_id(), 2, "a", "x"))
    view.close()
    assert pg.info().events == 2 and view.info().events == 2


def test_a_killed_connection_is_replaced_not_surfaced(pg) -> None:
    """After a database restart the pool hands out working connections (the server's 503 recovers)."""
    import psycopg

    from agentlog.storage.postgres.testing import base_url

    with pg._pool.connection() as conn:
        pid = conn.info.backend_pid
    with psycopg.connect(base_url(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    assert pg.info().events == 0


def test_unreachable_database_after_open_is_a_store_error() -> None:
    """What every store call does when no pooled connection can be made (the server answers 503)."""
    import re

    from agentlog.errors import StoreError
    from agentlog.storage.postgres.conn import open_pool, parse_url, translated

    target = parse_url("postgresql://postgres:pw@127.0.0.1:1/test?agentlog_schema=x")
    pool = open_pool(target, max_size=1, timeout=0.3)
    try:
        with pytest.raises(StoreError, match=re.escape("postgresql://postgres@127.0.0.1:1/test")):
            with translated(target.display), pool.connection():
                pass
    finally:
        pool.close()


def test_crossing_multi_session_batches_never_fail(pg) -> None:
    """Writers whose batches touch the same sessions in opposite orders: rows lock in one order."""
    sessions = [Session(title=f"s{i}") for i in range(8)]
    pg.write(sessions=sessions)
    forward = [
        [Event(session_id=s.id, type=EventType.LOG, content="fig") for s in sessions]
        for _ in range(15)
    ]
    backward = [
        [Event(session_id=s.id, type=EventType.LOG, content="fig") for s in reversed(sessions)]
        for _ in range(15)
    ]

    def run(batches: list[list[Event]], order: list[Session]) -> Callable[[], None]:
        return lambda: [pg.write(sessions=order, events=b) for b in batches]

    _run([run(forward, sessions), run(backward, sessions[::-1])])
    assert {pg.get_session(s.id).event_count for s in sessions} == {30}


def test_indexing_stops_at_the_writes_it_was_asked_for(pg) -> None:
    """A search indexes what was committed before it started, never chasing later writers."""
    from agentlog.storage.postgres import search as fts

    first, second = new_id(), new_id()
    pg.write(events=_events(first, 3, "a", "first"))
    _queue_as_before(pg, first)
    with pg._pool.connection() as conn:
        row = conn.execute("SELECT max(id) FROM fts_pending").fetchone()
        assert row is not None
        top = row[0]
    pg.write(events=_events(second, 4, "a", "second"))
    _queue_as_before(pg, second)
    with pg._pool.connection() as conn:
        assert fts.index_batch(conn, upto=top) == 1
        assert fts.index_batch(conn, upto=top) == 0
        assert fts.pending_events(conn) == 4
    assert pg.count_events(EventQuery(text="second")) == 4


def test_a_search_reads_few_matches_by_rid_and_many_by_plan_with_the_same_answers(
    pg, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both ways of answering a search (the GIN-first rid list when few events match, the
    planner's query past FEW_MATCHES) give the same pages, counts and keys, filters included."""
    from agentlog.storage.postgres import search

    sid, other = new_id(), new_id()
    pg.write(sessions=[Session(id=sid, title="a"), Session(id=other, title="b")])
    pg.write(events=_events(sid, 30, "alpha", "kumquat") + _events(other, 12, "beta", "kumquat"))
    pg.write(events=_events(sid, 5, "alpha", "plain"))
    queries = [
        EventQuery(text="kumquat", limit=7, order="desc"),
        EventQuery(text="kumquat", limit=10),
        EventQuery(text="kumquat", session_id=sid, agents=["alpha"], limit=4),
        EventQuery(text="kumquat step", agents=["beta"], limit=5),
        EventQuery(text="absent", limit=5),
    ]

    def answers() -> list[object]:
        out: list[object] = []
        for q in queries:
            pages, cursor = [], None
            while True:
                page = pg.list_events(replace(q, cursor=cursor))
                pages.append([e.id for e in page.items])
                cursor = page.next_cursor
                if cursor is None:
                    break
            out += [pages, pg.count_events(q), pg.event_keys(q), pg.facets(q)]
        return out

    few = answers()
    calls: list[object] = []
    real = search.few_matches
    monkeypatch.setattr(
        search,
        "few_matches",
        lambda conn, text, teams, limit=3: (
            calls.append(real(conn, text, teams, limit)) or calls[-1]
        ),
    )
    many = answers()
    assert many == few
    assert any(c is None for c in calls)  # the planner's path was taken for 'kumquat' (42)
    assert any(c == [] for c in calls)  # and the rid path for a word nothing matches
    assert [len(p) for p in few[0]] == [7, 7, 7, 7, 7, 7]
    assert few[1] == 42
