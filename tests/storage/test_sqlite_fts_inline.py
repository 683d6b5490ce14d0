"""A large write onto an index with no backlog is indexed in its own transaction, from the rows
in hand; anything else waits for the batch indexer. Either way every event is found once."""

from __future__ import annotations

from agentlog.model import Event, EventType, Session
from agentlog.storage.base import EventQuery
from agentlog.storage.sqlite import fts
from agentlog.storage.sqlite.store import SQLiteStore


def _events(session: Session, n: int, word: str) -> list[Event]:
    return [
        Event(session_id=session.id, type=EventType.LOG, name="step", content=f"{word} n{i} 東京")
        for i in range(n)
    ]


def _backlog(store: SQLiteStore) -> int:
    return fts.backlog(store._db.reader())


def _found(store: SQLiteStore, word: str) -> int:
    return store.count_events(EventQuery(text=word))


def test_a_large_write_is_searchable_without_a_backlog(tmp_path):
    store = SQLiteStore(tmp_path / "s.db")
    session = Session(title="inline")
    store.write([session], _events(session, fts.INLINE_ROWS, "walrus"))
    assert _backlog(store) == 0  # indexed with the write, not left to the next search
    assert _found(store, "walrus") == fts.INLINE_ROWS
    assert _found(store, "東京") == fts.INLINE_ROWS  # folded the same way as the batch indexer
    # Deleting the session removes what the write indexed.
    store.delete_session(session.id)
    assert _found(store, "walrus") == 0
    store.close()


def test_a_small_write_waits_and_a_large_one_after_it_leaves_the_backlog_to_the_batch(tmp_path):
    store = SQLiteStore(tmp_path / "s.db")
    session = Session(title="batched")
    store.write([session], _events(session, 10, "ibis"))
    assert _backlog(store) == 10
    store.write([], _events(session, fts.INLINE_ROWS, "heron"))
    assert _backlog(store) == 10 + fts.INLINE_ROWS  # rows below it wait: one batch takes all
    assert _found(store, "ibis") == 10 and _found(store, "heron") == fts.INLINE_ROWS
    assert _backlog(store) == 0
    store.write([], _events(session, fts.INLINE_ROWS, "egret"))
    assert _backlog(store) == 0
    assert _found(store, "egret") == fts.INLINE_ROWS and _found(store, "heron") == fts.INLINE_ROWS
    store.close()
