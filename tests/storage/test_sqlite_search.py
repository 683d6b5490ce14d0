"""The SQLite search planner: pages from the block walk equal a full sort of every match."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from agentlog.model import Event, EventType, new_id, to_us
from agentlog.storage.base import EventQuery
from agentlog.storage.sqlite import search as sqlite_search
from agentlog.storage.sqlite.store import SQLiteStore

N_EVENTS = 6000
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Three sessions written one after another with overlapping, shuffled times."""
    rng = random.Random(7)
    store = SQLiteStore(tmp_path_factory.mktemp("search") / "search.db")
    sessions = [new_id() for _ in range(3)]
    events = []
    for k, sid in enumerate(sessions):
        batch = []
        for i in range(N_EVENTS // 3):
            # Mostly in order, sometimes far out of order, often sharing a timestamp.
            offset = i * 2 + k if rng.random() > 0.05 else rng.randrange(0, N_EVENTS * 2)
            words = ["walrus"] if rng.random() < 0.6 else []
            words += ["ibis"] if rng.random() < 0.02 else []
            batch.append(
                Event(
                    session_id=sid,
                    type=EventType.LOG if i % 3 else EventType.TOOL_CALL,
                    timestamp=T0 + timedelta(seconds=offset // 2),
                    content=" ".join([*words, f"n{i}"]),
                )
            )
        for lo in range(0, len(batch), 500):
            store.write(events=batch[lo : lo + 500])
        events += batch
    store.flush_index()
    yield store, sessions, events
    store.close()


def expected(events, word, order, **f):
    out = [
        e
        for e in events
        if word in e.content.split()
        and (f.get("session_id") is None or e.session_id == f["session_id"])
        and (f.get("types") is None or e.type in f["types"])
        and (f.get("since") is None or e.timestamp >= f["since"])
        and (f.get("until") is None or e.timestamp < f["until"])
    ]
    out.sort(key=lambda e: (to_us(e.timestamp), e.id), reverse=order == "desc")
    return [e.id for e in out]


def paged(store, q):
    seen = []
    while True:
        page = store.list_events(q)
        seen += [e.id for e in page]
        if not page.next_cursor:
            return seen
        q = replace(q, cursor=page.next_cursor)


@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"session": 1},
        {"types": [EventType.TOOL_CALL]},
        {"since": 500, "until": 2500},
        {"session": 2, "since": 3000},
    ],
)
@pytest.mark.parametrize("word", ["walrus", "ibis"])
def test_block_walk_matches_a_full_sort(corpus, monkeypatch, order, filters, word):
    store, sessions, events = corpus
    monkeypatch.setattr(sqlite_search, "SMALL_MATCH", 1)  # always take the block walk
    f = {}
    if "session" in filters:
        f["session_id"] = sessions[filters["session"]]
    if "types" in filters:
        f["types"] = filters["types"]
    if "since" in filters:
        f["since"] = T0 + timedelta(seconds=filters["since"])
    if "until" in filters:
        f["until"] = T0 + timedelta(seconds=filters["until"])
    want = expected(events, word, order, **f)
    q = EventQuery(text=word, order=order, limit=97, **f)
    assert (
        store.list_events(replace(q, limit=10)).items
        == store.list_events(replace(q, limit=10)).items
    )
    got = paged(store, q)
    assert got == want
    assert [e.id for e in store.list_events(replace(q, limit=1000))] == want[:1000]


def test_small_and_large_plans_agree(corpus, monkeypatch):
    store, sessions, _ = corpus
    q = EventQuery(text="walrus", order="desc", limit=50, session_id=sessions[0])
    walked = paged(store, q)
    monkeypatch.setattr(sqlite_search, "SMALL_MATCH", 10**9)  # always sort every match
    assert paged(store, q) == walked
