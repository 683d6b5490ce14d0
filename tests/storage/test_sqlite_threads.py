"""One SQLiteStore used from many threads at once (server pool, TUI workers, SDK writer)."""

from __future__ import annotations

import threading

import pytest

from agentlog.errors import StoreError
from agentlog.model import Event, EventType, new_id
from agentlog.storage.base import EventQuery, SessionQuery
from agentlog.storage.sqlite.store import SQLiteStore


def test_concurrent_writers_and_readers(tmp_path):
    store = SQLiteStore(tmp_path / "threads.db")
    sessions = [new_id() for _ in range(4)]
    failures: list[BaseException] = []

    def writer(sid: str) -> None:
        try:
            for batch in range(10):
                store.write(
                    events=[
                        Event(session_id=sid, type=EventType.LOG, content=f"parrot {batch}")
                        for _ in range(25)
                    ]
                )
        except BaseException as exc:  # surfaced below
            failures.append(exc)

    def reader() -> None:
        try:
            for _ in range(30):
                store.list_sessions(SessionQuery())
                store.count_events(EventQuery(text="parrot"))
                store.agents()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(sid,)) for sid in sessions]
    threads += [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert [store.get_session(sid).event_count for sid in sessions] == [250] * 4
    assert store.count_events(EventQuery(text="parrot")) == 1000
    assert store.check() == []
    store.close()


def test_close_closes_every_threads_connection(tmp_path):
    store = SQLiteStore(tmp_path / "close.db")
    opened: list = []

    def use() -> None:
        store.count_events(EventQuery())
        opened.append(store._db.reader())

    t = threading.Thread(target=use)
    t.start()
    t.join()
    store.close()
    with pytest.raises(Exception, match="closed"):
        opened[0].execute("SELECT 1")
    with pytest.raises(StoreError):
        store.list_sessions(SessionQuery())


def test_two_stores_on_one_file(tmp_path):
    """Two processes' worth of stores: each sees the other's committed writes."""
    path = tmp_path / "shared.db"
    a, b = SQLiteStore(path), SQLiteStore(path)
    sid = new_id()
    a.write(events=[Event(session_id=sid, type=EventType.LOG, content="from a")])
    b.write(events=[Event(session_id=sid, type=EventType.LOG, content="from b")])
    assert a.get_session(sid).event_count == 2
    assert a.count_events(EventQuery(text="from")) == 2
    assert b.count_events(EventQuery(text="from")) == 2
    a.close()
    b.close()


def test_connections_of_finished_threads_are_closed(tmp_path):
    """TUI workers are short-lived threads: their connections must not pile up."""
    store = SQLiteStore(tmp_path / "workers.db")
    for _ in range(20):
        t = threading.Thread(target=lambda: store.count_events(EventQuery()))
        t.start()
        t.join()
    store.count_events(EventQuery())
    assert store._db.open_connections <= 3  # writer, this thread's reader, the last worker's
    store.close()


def test_two_processes_write_one_file_at_once(tmp_path):
    """Writers in different processes queue on the busy timeout; nothing is lost."""
    import subprocess
    import sys

    path = tmp_path / "procs.db"
    SQLiteStore(path).close()
    script = (
        "import sys\n"
        "from agentlog.model import Event, EventType\n"
        "from agentlog.storage.sqlite.store import SQLiteStore\n"
        "store = SQLiteStore(sys.argv[1])\n"
        "for _ in range(20):\n"
        "    store.write(events=[Event(session_id=sys.argv[2], type=EventType.LOG,"
        " content='gannet ' * 40) for _ in range(100)])\n"
        "store.count_events(__import__('agentlog.storage.base').storage.base.EventQuery(text='gannet'))\n"
        "store.close()\n"
    )
    sids = [new_id(), new_id()]
    procs = [subprocess.Popen([sys.executable, "-c", script, str(path), sid]) for sid in sids]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    with SQLiteStore(path) as store:
        assert [store.get_session(sid).event_count for sid in sids] == [2000, 2000]
        assert store.count_events(EventQuery(text="gannet")) == 4000
        assert store.check() == []
