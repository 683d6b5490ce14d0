"""PostgreSQL events by month: the schema-8 conversion keeps every row, partitions come ahead and on demand."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from agentlog.model import Event, EventType, Session, new_id, to_us
from agentlog.storage.base import EventQuery
from agentlog.storage.postgres.testing import ENV, drop_schema, new_schema_url
from agentlog.storage.postgres.testing import connect_to_schema as _raw

psycopg = pytest.importorskip("psycopg")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not os.environ.get(ENV), reason=f"PostgreSQL tests need {ENV} set"),
]


@pytest.fixture
def schema_url() -> Iterator[tuple[str, str]]:
    url, schema = new_schema_url("parts")
    try:
        yield url, schema
    finally:
        drop_schema(schema)


def _where(conn: psycopg.Connection, table: str) -> dict[str, int]:
    """Rows of `table` per partition."""
    rows = conn.execute(
        f"SELECT tableoid::regclass::text, count(*) FROM {table} GROUP BY 1"
    ).fetchall()
    return {name.rsplit(".", 1)[-1]: n for name, n in rows}


def _partitions(conn: psycopg.Connection, table: str) -> set[str]:
    rows = conn.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = %s::regclass",
        (table,),
    ).fetchall()
    return {r[0] for r in rows}


def _at(year: int, month: int, day: int = 10) -> datetime:
    return datetime(year, month, day, 12, tzinfo=UTC)


def _two_events_in_the_default(store, schema: str, at: datetime, word: str) -> None:
    """Two events of a month with no partition, put straight into the default partition (as
    an older version left them), queued for the full-text index and indexed."""
    s = Session(title="late")
    store.write(sessions=[s])
    with _raw(schema) as conn:
        ts = to_us(at)
        conn.execute(
            "INSERT INTO events (id, session_id, ts, type, content) VALUES"
            " (%s, %s, %s, 'LOG', %s), (%s, %s, %s, 'LOG', %s)",
            (new_id(), s.id, ts, word, new_id(), s.id, ts + 1, word),
        )
        conn.execute("INSERT INTO fts_pending (lo, hi) SELECT min(rid), max(rid) FROM events")
    store.flush_index()


def test_a_new_store_has_this_month_two_ahead_and_a_default(schema_url):
    from agentlog.storage import open_store
    from agentlog.storage.postgres.partitions import months_ahead, partition_name

    url, schema = schema_url
    open_store(url).close()
    with _raw(schema) as conn:
        for table in ("events", "events_fts"):
            kind = conn.execute(
                "SELECT relkind FROM pg_class WHERE oid = %s::regclass", (table,)
            ).fetchone()
            assert kind == ("p",)
            want = {partition_name(table, m) for m in months_ahead(datetime.now(UTC))}
            assert want | {f"{table}_default"} <= _partitions(conn, table)
        key = conn.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'events_pkey'"
            " AND connamespace = %s::regnamespace",
            (schema,),
        ).fetchone()
        assert key == ("PRIMARY KEY (team_id, id, ts)",)


def test_schema_7_events_are_moved_into_months_losslessly(schema_url):
    """m008: rows, rids, full-text rows and pending ranges survive; a new write continues the rids."""
    from agentlog.storage import open_store
    from agentlog.storage.postgres.conn import connect, parse_url
    from agentlog.storage.postgres.migrations import LATEST_VERSION, MIGRATIONS, apply

    url, schema = schema_url
    target = parse_url(url)
    s = Session(title="legacy")
    events = [
        Event(session_id=s.id, type=EventType.LOG, content=f"kumquat {i}", timestamp=when)
        for i, when in enumerate((_at(2025, 1), _at(2025, 1, 20), _at(2025, 3), _at(2025, 3, 20)))
    ]
    with connect(target) as conn:
        apply(conn, schema=schema, display=target.display, migrations=MIGRATIONS[:7])
        with conn.transaction():
            conn.execute(
                "INSERT INTO sessions (id, title, created_at, updated_at) VALUES (%s, %s, 1, 1)",
                (s.id, s.title),
            )
            conn.execute(
                "INSERT INTO session_stats (session_id, activity_at, event_count)"
                " VALUES (%s, 1, 4)",
                (s.id,),
            )
            for e in events:
                conn.execute(
                    "INSERT INTO events (id, session_id, ts, type, content, team_id)"
                    " VALUES (%s, %s, %s, 'LOG', %s, 'team-a')",
                    (e.id, s.id, to_us(e.timestamp), e.content),
                )
            # Two indexed already, two waiting for the indexer.
            conn.execute(
                "INSERT INTO events_fts (rid, tsv) SELECT rid, to_tsvector('simple', content)"
                " FROM events WHERE rid <= 2"
            )
            conn.execute("INSERT INTO fts_pending (lo, hi) VALUES (3, 4)")
            conn.execute("UPDATE sessions SET team_id = 'team-a'")
            conn.execute("UPDATE session_stats SET team_id = 'team-a'")
            before = conn.execute("SELECT rid, id, ts FROM events ORDER BY rid").fetchall()
    store = open_store(url)
    try:
        assert store.info().schema_version == LATEST_VERSION
        with _raw(schema) as conn:
            assert conn.execute("SELECT rid, id, ts FROM events ORDER BY rid").fetchall() == before
            assert _where(conn, "events") == {"events_p202501": 2, "events_p202503": 2}
            assert _where(conn, "events_fts") == {"events_fts_p202501": 2}
        found = store.list_events(EventQuery(text="kumquat", order="asc"))
        assert [e.id for e in found] == [e.id for e in events]
        with _raw(schema) as conn:
            assert _where(conn, "events_fts") == {"events_fts_p202501": 2, "events_fts_p202503": 2}
        assert store.get_event(events[2].id).content == "kumquat 2"
        new = Event(session_id=s.id, type=EventType.LOG, content="fresh")
        assert store.scoped("team-a").write(events=[new]).inserted == 1
        with _raw(schema) as conn:
            rid = conn.execute("SELECT rid FROM events WHERE id = %s", (new.id,)).fetchone()
        assert rid is not None and rid[0] > 4
    finally:
        store.close()


def test_a_write_from_an_old_month_gets_its_partition(schema_url):
    from agentlog.storage import open_store

    url, schema = schema_url
    store = open_store(url)
    try:
        s = Session(title="imported")
        old = [
            Event(session_id=s.id, type=EventType.LOG, content="quince", timestamp=_at(2019, 5))
            for _ in range(3)
        ]
        result = store.write(sessions=[s], events=old)
        assert result.inserted == 3
        with _raw(schema) as conn:
            assert "events_p201905" in _partitions(conn, "events")
            assert _where(conn, "events") == {"events_p201905": 3}
        assert store.count_events(EventQuery(text="quince")) == 3
        with _raw(schema) as conn:
            assert _where(conn, "events_fts") == {"events_fts_p201905": 3}
    finally:
        store.close()


def test_a_store_in_another_schema_does_not_hold_up_this_ones_partitions(schema_url):
    """The partition and index locks are per schema: another store's upkeep (here its partition
    lock held in an open transaction) never makes this store skip a month's partition."""
    from agentlog.storage import open_store
    from agentlog.storage.postgres import partitions, search

    url, schema = schema_url
    other_url, other = new_schema_url("parts")
    store = open_store(url)
    try:
        open_store(other_url).close()
        with _raw(other) as busy:
            with busy.transaction():
                assert partitions._lock(busy, wait=False)
                assert search.schema_lock(busy, search._INDEX_LOCK, wait=False)
                s = Session(title="imported")
                old = [
                    Event(
                        session_id=s.id, type=EventType.LOG, content="sloe", timestamp=_at(2017, 3)
                    )
                ]
                assert store.write(sessions=[s], events=old).inserted == 1
                with _raw(schema) as conn:
                    assert _where(conn, "events") == {"events_p201703": 1}
                assert store.count_events(EventQuery(text="sloe")) == 1
    finally:
        store.close()
        drop_schema(other)


def test_rows_waiting_in_the_default_move_to_their_month(schema_url):
    """Rows that reached the default partition (no month yet) move out with their full-text rows."""
    from agentlog.storage import open_store
    from agentlog.storage.postgres import partitions

    url, schema = schema_url
    store = open_store(url)
    try:
        _two_events_in_the_default(store, schema, _at(2018, 2), "medlar")
        with _raw(schema) as conn:
            assert _where(conn, "events") == {"events_default": 2}
            assert _where(conn, "events_fts") == {"events_fts_default": 2}
            assert partitions.default_months(conn) == {(2018, 2)}
            partitions.maintain(conn)
            assert _where(conn, "events") == {"events_p201802": 2}
            assert _where(conn, "events_fts") == {"events_fts_p201802": 2}
            assert partitions.default_months(conn) == set()
        assert store.count_events(EventQuery(text="medlar")) == 2
    finally:
        store.close()


def test_an_id_stored_under_another_timestamp_is_a_duplicate(schema_url):
    """The key holds the timestamp (partitioning needs it); an id is still stored once per team."""
    from agentlog.storage import open_store

    url, _ = schema_url
    store = open_store(url)
    try:
        s = Session()
        e = Event(session_id=s.id, type=EventType.LOG, timestamp=_at(2026, 1))
        assert store.write(sessions=[s], events=[e]).inserted == 1
        assert store.write(events=[e]).duplicates == 1  # a retry
        moved = e.model_copy(update={"timestamp": e.timestamp + timedelta(days=40)})
        again = store.write(events=[moved, Event(session_id=s.id, type=EventType.LOG)])
        assert (again.inserted, again.duplicates) == (1, 1)
        assert store.get_session(s.id).event_count == 2
        other_team = store.scoped("team-b").write(events=[moved])
        assert other_team.inserted == 1  # ids are per team
    finally:
        store.close()


def test_whole_months_are_detached_and_dropped(schema_url):
    from agentlog.storage import open_store
    from agentlog.storage.postgres import partitions

    url, schema = schema_url
    store = open_store(url)
    try:
        s = Session()
        for month in (1, 2, 3):
            store.write(
                sessions=[s],
                events=[Event(session_id=s.id, type=EventType.LOG, timestamp=_at(2024, month))],
            )
        store.flush_index()
        with _raw(schema) as conn:
            dropped = partitions.drop_months_before(conn, to_us(datetime(2024, 3, 1, tzinfo=UTC)))
            assert dropped == [(2024, 1), (2024, 2)]
            assert _where(conn, "events") == {"events_p202403": 1}
            assert _where(conn, "events_fts") == {"events_fts_p202403": 1}
            assert not {"events_p202401", "events_p202402"} & _partitions(conn, "events")
    finally:
        store.close()


def test_few_matches_reads_every_month_and_the_default_and_stops_past_its_budget(
    schema_url, monkeypatch: pytest.MonkeyPatch
):
    """The few-matches probe reads month by month (and the default partition), finds every
    match when there are few, and answers None past its budget: search pages are unchanged."""
    from agentlog.storage import open_store
    from agentlog.storage.postgres import search as fts

    url, schema = schema_url
    store = open_store(url)
    try:
        s = Session(title="months")
        events = [
            Event(
                session_id=s.id, type=EventType.LOG, content=f"sorb {k}", timestamp=_at(2019, m, k)
            )
            for m in (3, 4, 5)
            for k in range(1, 5)
        ]
        store.write(sessions=[s], events=events)
        with _raw(schema) as conn:  # two more in the default partition (no month for them)
            ts = to_us(_at(2018, 2))
            conn.execute(
                "INSERT INTO events (id, session_id, ts, type, content) VALUES"
                " (%s, %s, %s, 'LOG', 'sorb'), (%s, %s, %s, 'LOG', 'sorb')",
                (new_id(), s.id, ts, new_id(), s.id, ts + 1),
            )
            conn.execute(
                "INSERT INTO fts_pending (lo, hi) SELECT min(rid), max(rid) FROM events"
                " WHERE ts < %s",
                (ts + 2,),
            )
        store.flush_index()
        with _raw(schema) as conn:
            assert _where(conn, "events_fts")["events_fts_default"] == 2
            every = {r[0] for r in conn.execute("SELECT rid FROM events").fetchall()}
        with store._pool.connection() as conn:
            found = fts.few_matches(conn, "sorb", [""], limit=14)
            assert found is not None and sorted(found) == sorted(every)
            assert fts.few_matches(conn, "sorb", [""], limit=13) is None
            assert fts.few_matches(conn, "sorb", [""], limit=2) is None
            assert fts.few_matches(conn, "sorb", ["another team"], limit=2) == []
            # A month dropped between the catalogue read and the probe: read again, once.
            real, calls = fts.existing_months, []

            def stale(c: psycopg.Connection) -> set[tuple[int, int]]:
                calls.append(1)
                return real(c) | ({(1999, 1)} if len(calls) == 1 else set())

            monkeypatch.setattr(fts, "existing_months", stale)
            found = fts.few_matches(conn, "sorb", [""], limit=14)
            assert found is not None and sorted(found) == sorted(every) and len(calls) == 2

        def pages() -> list[str]:
            ids, cursor = [], None
            while True:
                page = store.list_events(EventQuery(text="sorb", limit=3, cursor=cursor))
                ids += [e.id for e in page.items]
                if page.next_cursor is None:
                    return ids
                cursor = page.next_cursor

        by_rid = pages()
        monkeypatch.setattr(fts, "few_matches", lambda *args, **kwargs: None)
        assert pages() == by_rid and len(by_rid) == 14
    finally:
        store.close()


@pytest.mark.parametrize(("threshold", "vacuumed"), [(4, True), (5, False)])
def test_a_large_move_out_of_the_default_vacuums_it(schema_url, monkeypatch, threshold, vacuumed):
    """A move of VACUUM_AFTER_ROWS rows or more is followed by a VACUUM of the defaults;
    a smaller one leaves them to autovacuum."""
    from agentlog.storage import open_store
    from agentlog.storage.postgres import partitions

    url, schema = schema_url
    store = open_store(url)
    try:
        _two_events_in_the_default(store, schema, _at(2017, 6), "rowan")
        monkeypatch.setattr(partitions, "VACUUM_AFTER_ROWS", threshold)
        with _raw(schema) as conn:
            partitions.maintain(conn)
            assert _where(conn, "events") == {"events_p201706": 2}
            # (Not the pages: another session's open snapshot on this shared server may
            # keep the moved rows from being removed yet; the VACUUM ran all the same.)
            counts = conn.execute(
                "SELECT relname, vacuum_count FROM pg_stat_user_tables"
                " WHERE schemaname = %s AND relname LIKE %s",
                (schema, "%_default"),
            ).fetchall()
        # Moved: 2 events and their 2 full-text rows.
        assert dict(counts) == {
            "events_default": int(vacuumed),
            "events_fts_default": int(vacuumed),
        }
    finally:
        store.close()
