"""SQLite-only maintenance: backup (online, consistent), vacuum, check, size, batched indexing."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from agentlog.errors import UsageError
from agentlog.model import Event, EventType, new_id
from agentlog.storage.base import EventQuery
from agentlog.storage.sqlite import fts as sqlite_fts
from agentlog.storage.sqlite.store import SQLiteStore


def events(sid: str, n: int, word: str = "walrus") -> list[Event]:
    return [
        Event(session_id=sid, type=EventType.LOG, content=f"{word} number {i}") for i in range(n)
    ]


@pytest.fixture
def store(tmp_path):
    with SQLiteStore(tmp_path / "admin.db") as opened:
        yield opened


def test_backup_while_writing_is_consistent(store, tmp_path):
    sid = new_id()
    store.write(events=events(sid, 200))
    stop = threading.Event()

    def keep_writing() -> None:
        while not stop.is_set():
            store.write(events=events(sid, 20))

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        dest = store.backup(tmp_path / "copy" / "backup.db")
    finally:
        stop.set()
        writer.join()
    with SQLiteStore(dest) as copy:
        assert copy.check() == []
        summary = copy.get_session(sid)
        assert summary.event_count >= 200
        assert copy.count_events(EventQuery(session_id=sid)) == summary.event_count
        assert copy.count_events(EventQuery(text="walrus")) == summary.event_count
    with pytest.raises(UsageError, match="already exists"):
        store.backup(dest)


def test_vacuum_keeps_data_and_search(store):
    sid, gone = new_id(), new_id()
    store.write(events=events(sid, 50) + events(gone, 500, "ballast"))
    store.count_events(EventQuery(text="walrus"))
    store.delete_session(gone)
    before = store.size_bytes()
    store.vacuum()
    assert store.size_bytes() < before
    assert store.count_events(EventQuery(text="walrus")) == 50
    assert store.count_events(EventQuery(text="ballast")) == 0
    assert store.check() == []


def test_check_finds_broken_aggregates(store):
    sid = new_id()
    store.write(events=events(sid, 3))
    assert store.check() == []
    with sqlite3.connect(store.path) as conn:
        conn.execute("UPDATE session_stats SET event_count = 7")
    problems = store.check()
    assert len(problems) == 1 and "aggregates" in problems[0]


def test_size_and_info(store):
    assert store.size_bytes() > 0
    store.write(events=events(new_id(), 5))
    info = store.info()
    assert info.size_bytes == store.size_bytes()
    assert info.extra["fts_pending"] == 5


def test_index_is_filled_in_batches_behind_the_writes(store, monkeypatch):
    monkeypatch.setattr(sqlite_fts, "FTS_BATCH_ROWS", 10)
    sid = new_id()
    store.write(events=events(sid, 4))
    assert store.info().extra["fts_pending"] == 4  # small backlog waits for a search
    store.write(events=events(sid, 8))
    assert store.info().extra["fts_pending"] == 0  # a large backlog is indexed after the write
    store.write(events=events(sid, 3, "narwhal"))
    assert store.count_events(EventQuery(text="narwhal")) == 3  # a search catches up first
    assert store.info().extra["fts_pending"] == 0


def test_deleted_newest_rows_never_reuse_indexed_rids(store):
    keep, newest = new_id(), new_id()
    store.write(events=events(keep, 3))
    store.write(events=events(newest, 3, "octopus"))
    assert store.count_events(EventQuery(text="octopus")) == 3  # indexes them
    store.delete_session(newest)
    store.write(events=events(new_id(), 2, "octopus"))
    assert store.count_events(EventQuery(text="octopus")) == 2
    assert store.check() == []


def test_deleting_unindexed_events_is_clean(store):
    sid = new_id()
    store.write(events=events(sid, 3, "squid"))
    store.delete_session(sid)  # never indexed: nothing to remove from the index
    assert store.count_events(EventQuery(text="squid")) == 0
    assert store.check() == []


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_read_only_store_finds_unindexed_events(tmp_path, order):
    path = tmp_path / "ro.db"
    with SQLiteStore(path) as rw:
        sid = new_id()
        rw.write(events=events(sid, 3, "ptarmigan"))
        rw.flush_index()
        rw.write(
            events=[Event(session_id=sid, type=EventType.LOG, content="late ptarmigan 数据库 café")]
        )
    with SQLiteStore(path, read_only=True) as ro:
        assert ro.info().extra["fts_pending"] == 1
        q = EventQuery(text="ptarmigan", order=order, limit=2)
        first = ro.list_events(q)
        rest = ro.list_events(
            EventQuery(text="ptarmigan", order=order, limit=2, cursor=first.next_cursor)
        )
        assert len(first) + len(rest) == 4 and rest.next_cursor is None
        assert ro.count_events(EventQuery(text="ptarmigan")) == 4
        assert ro.count_events(EventQuery(text="数据库")) == 1
        assert ro.count_events(EventQuery(text="CAFE late")) == 1
        assert ro.count_events(EventQuery(text="late number")) == 0


def test_search_while_another_process_holds_the_write_lock(tmp_path):
    path = tmp_path / "busy.db"
    store = SQLiteStore(path)
    sid = new_id()
    store.write(events=events(sid, 2, "puffin"))
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        assert store.count_events(EventQuery(text="puffin")) == 2  # matched without the index
        assert len(store.list_events(EventQuery(text="puffin", order="desc"))) == 2
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert store.count_events(EventQuery(text="puffin")) == 2
    assert store.info().extra["fts_pending"] == 0
    store.close()


def test_large_deletes_leave_tombstones_that_vacuum_clears(store, monkeypatch):
    monkeypatch.setattr(sqlite_fts, "PRECISE_DELETE_MAX", 5)
    keep, gone = new_id(), new_id()
    store.write(events=events(keep, 3, "heron") + events(gone, 8, "heron"))
    assert store.count_events(EventQuery(text="heron")) == 11  # indexes all of them
    assert store.delete_session(gone) == 8
    assert store.info().extra["fts_stale"] == 8
    assert store.count_events(EventQuery(text="heron")) == 3
    assert len(store.list_events(EventQuery(text="heron", order="desc"))) == 3
    store.write(events=events(new_id(), 2, "egret"))
    assert store.count_events(EventQuery(text="egret")) == 2  # new rids never meet tombstones
    assert store.count_events(EventQuery(text="number")) == 5
    store.vacuum()
    assert store.info().extra["fts_stale"] == 0
    assert store.count_events(EventQuery(text="heron")) == 3
    assert store.count_events(EventQuery(text="egret")) == 2
    assert store.check() == []
