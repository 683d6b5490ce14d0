"""The background writer: batching by count and time, flush, and never raising into the agent."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from agentlog.model import MAX_BATCH_EVENTS, MAX_CONTENT_BYTES
from agentlog.sdk import writer
from tests.sdk.fakes import FakeStore


def test_batches_by_count(make_log, fake):
    log = make_log(store=fake, batch_size=100, flush_interval=30)
    s = log.session("count")
    for i in range(350):
        s.log(f"line {i}")
    deadline = time.monotonic() + 5
    while sum(fake.batches) < 300 and time.monotonic() < deadline:
        time.sleep(0.01)
    # Three full batches went out without waiting for the 30 s interval.
    assert sum(fake.batches) >= 300
    assert all(n <= 1000 for n in fake.batches)
    assert log.flush(5)
    assert len(fake.events) == 350


def test_batches_by_time(make_log, fake):
    log = make_log(store=fake, batch_size=10_000, flush_interval=0.1)
    s = log.session("time")
    s.log("one")
    s.log("two")
    deadline = time.monotonic() + 5
    while len(fake.events) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(fake.events) == 2  # no flush() called: the interval sent them
    assert fake.batches == [2]


def test_large_backlog_is_chunked_to_the_batch_limit(make_log, fake):
    log = make_log(store=fake, batch_size=5000, flush_interval=30)
    s = log.session("chunks")
    for _ in range(2500):
        s.log("x")
    assert log.flush(10)
    assert len(fake.events) == 2500
    assert max(fake.batches) <= MAX_BATCH_EVENTS


def test_batches_are_chunked_by_bytes(make_log, fake):
    log = make_log(store=fake, batch_size=1000, flush_interval=30)
    s = log.session("bytes")
    big = "é" * (MAX_CONTENT_BYTES // 2 - 10)  # just under 1 MiB of UTF-8
    for _ in range(25):
        s.log(big)
    assert log.flush(20)
    assert len(fake.events) == 25
    assert len(fake.batches) >= 3  # 25 MiB cannot go in one 10 MiB batch


def test_flush_returns_only_when_written(make_log):
    gate = threading.Event()

    class Slow(FakeStore):
        def write(self, sessions=(), events=()):
            gate.wait(5)
            return super().write(sessions, events)

    store = Slow()
    log = make_log(store=store, flush_interval=30)
    s = log.session("slow")
    s.log("a")
    assert log.flush(timeout=0.2) is False  # the store is still writing
    gate.set()
    assert log.flush(timeout=5) is True
    assert len(store.events) == 1


def test_flush_from_many_threads(make_log, fake):
    log = make_log(store=fake, flush_interval=30)
    s = log.session("threads")
    results: list[bool] = []

    def work(n):
        for i in range(200):
            s.log(f"{n}-{i}")
        results.append(log.flush(10))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True] * 4
    assert len(fake.events) == 800


def test_bad_input_is_dropped_counted_and_warned_once(make_log, fake, caplog):
    log = make_log(store=fake)
    with caplog.at_level(logging.WARNING, logger="agentlog"), log.session("bad") as s:
        good = s.log("fine")
        s.log("x", metadata=["not", "a", "dict"])
        s.log("x", metadata={"deep": _nested(40)})
        s.log("x", metadata={"deep": _nested(40)})
        s.event("NOT_A_TYPE", "x")
        s.log("y" * (MAX_CONTENT_BYTES + 1))
        s.event("LOG", "x", duration_ms=-1)
        s.event("LOG", "x", timestamp="yesterday-ish")
        after = s.log("still fine")
    assert log.flush(5)
    assert set(fake.events) == {good, after}
    assert log.dropped == 7
    warnings = [r for r in caplog.records if "dropped an event" in r.getMessage()]
    assert len(warnings) == 6  # the repeated deep metadata warned once
    assert any("nested deeper than 32" in r.getMessage() for r in warnings)
    assert any("limit is 1,048,576 bytes" in r.getMessage() for r in warnings)


def test_unserialisable_content_never_raises(make_log, fake):
    log = make_log(store=fake)

    class Weird:
        def __repr__(self):
            raise RuntimeError("no repr either")

    with log.session("weird") as s:
        a = s.log({"obj": object()})  # orjson falls back to str()
        b = s.log(Weird())
    assert log.flush(5)
    assert "object object" in fake.events[a].content
    assert fake.events[b].content is not None


def test_a_failing_store_is_retried(make_log, monkeypatch):
    monkeypatch.setattr(writer, "RETRY_DELAYS", (0.01, 0.01, 0.01))
    store = FakeStore(fail=2)
    log = make_log(store=store)
    with log.session("retry") as s:
        s.log("survives")
    assert log.flush(5) is True
    assert len(store.events) == 1 and log.lost == 0


def test_a_dead_store_never_raises_and_flush_says_so(make_log, monkeypatch, caplog):
    monkeypatch.setattr(writer, "RETRY_DELAYS", (0.01,))
    store = FakeStore(fail=10**9, exc=OSError("disk on fire"))
    log = make_log(store=store)
    with caplog.at_level(logging.WARNING, logger="agentlog"), log.session("dead") as s:
        for _ in range(3):
            s.log("lost")
    assert log.flush(5) is False
    assert log.lost == 4  # the session row and three events
    assert any("disk on fire" in r.getMessage() for r in caplog.records)
    # A later flush with nothing lost since is fine again.
    assert log.flush(5) is True


def test_an_unopenable_store_never_raises(make_log, tmp_path, monkeypatch):
    monkeypatch.setattr(writer, "RETRY_DELAYS", (0.01,))
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    log = make_log(db=str(blocker / "sub" / "agentlog.db"))
    with log.session("nowhere") as s:
        s.log("x")
    assert log.flush(5) is False
    assert log.lost == 2


def test_full_queue_drops_and_counts(make_log, fake):
    log = make_log(store=fake, max_queue=0)
    s = log.session("full")
    s.log("x")
    assert log.dropped == 1


def test_closed_log_ignores_new_records(make_log, fake):
    log = make_log(store=fake)
    s = log.session("closing")
    s.log("before")
    assert log.close(5)
    s.log("after")
    s.end()
    assert writer.current().flush(5)
    assert [e.content for e in fake.events.values()] == ["before"]
    assert fake.sessions[s.id].status == "active"


def test_store_refusing_a_batch_is_not_retried(make_log):
    from agentlog.errors import InvalidInput

    store = FakeStore(fail=1, exc=InvalidInput("batch is malformed"))
    log = make_log(store=store)
    with log.session("refused") as s:
        s.log("x")
    assert log.flush(5)
    assert store.calls == 1 and log.dropped == 2


def _nested(depth: int) -> dict:
    node: dict = {}
    for _ in range(depth):
        node = {"n": node}
    return node


@pytest.mark.parametrize("bad", [{"tags": [1, ["nested"]]}, {"metadata": "nope"}])
def test_bad_session_fields_never_raise(make_log, fake, bad):
    log = make_log(store=fake)
    with log.session("bad session", **bad) as s:
        s.log("event still lands")
    assert log.flush(5)
    assert len(fake.events) == 1


def test_a_dead_store_gets_one_attempt_per_batch_until_it_recovers(make_log, monkeypatch):
    monkeypatch.setattr(writer, "RETRY_DELAYS", (0.01, 0.01))
    store = FakeStore(fail=10**9)
    log = make_log(store=store)
    s = log.session("flapping")
    assert log.flush(5) is False
    assert store.calls == 3  # first failure: the full retry schedule
    s.log("second batch")
    assert log.flush(5) is False
    assert store.calls == 4  # while failing: one attempt
    store.fail = 0
    s.log("third batch")
    assert log.flush(5) is True
    assert [e.content for e in store.events.values()] == ["third batch"]
    assert log.lost == 2 and not log._sink.failing


def test_string_subclasses_are_logged_as_their_text(make_log, fake):
    from agentlog.model import EventType

    log = make_log(store=fake)
    with log.session("enum") as s:
        eid = s.log(EventType.LLM_CALL)
    log.flush(5)
    assert fake.events[eid].content == "LLM_CALL"


def test_a_single_tag_string_is_one_tag(make_log, fake):
    log = make_log(store=fake)
    with log.session("tags", tags="eval") as s:
        pass
    log.flush(5)
    assert fake.sessions[s.id].tags == ["eval"]


def test_an_adapters_emit_is_an_event_stamped_in_microseconds(make_log, fake):
    """`SessionHandle._emit` (the LangGraph handler's path) stores what `event` would."""
    from datetime import UTC, datetime

    from agentlog.model import EventType, new_id

    log = make_log(store=fake)
    s = log.session("emit", agent_id="me")
    eid = new_id()
    at = datetime(2026, 12, 3, 23, 0, 0, 123456, tzinfo=UTC)
    us = int(at.timestamp()) * 1_000_000 + at.microsecond
    s._emit(eid, us, EventType.LLM_CALL, "hi", "gpt", None, {"k": 1}, None, 2.5, "ok", 3, 4, 0.1)
    s._emit(new_id(), us + 1, EventType.LOG, {"not": "text"}, None, "other", None, eid, None, None)
    assert log.flush(5)
    first, second = sorted(fake.events.values(), key=lambda e: e.timestamp)
    assert (first.id, first.timestamp, first.type, first.content, first.name) == (
        eid,
        at,
        EventType.LLM_CALL,
        "hi",
        "gpt",
    )
    assert (first.agent_id, first.metadata, first.duration_ms, first.status.value) == (
        "me",
        {"k": 1},
        2.5,
        "ok",
    )
    assert (first.input_tokens, first.output_tokens, first.cost_usd) == (3, 4, 0.1)
    assert (second.content, second.agent_id, second.parent_id) == ('{"not":"text"}', "other", eid)
    assert second.status.value == "ok"


def test_emit_on_a_full_queue_drops_and_counts(make_log, fake):
    from agentlog.model import EventType, new_id

    log = make_log(store=fake, max_queue=0)
    s = log.session("full")
    s._emit(new_id(), 1, EventType.LOG, "x", None, None, None, None, None, None)
    assert log.dropped == 1


class _SlowStore:
    """A borrowed store, slow on its first write so a backlog builds behind it; it notes how
    many records still wait in the writer's queue at each write."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.calls: list[int] = []
        self.queued: list[int] = []

    def write(self, sessions=(), events=()):
        from agentlog.model import WriteResult

        if events:
            if not self.calls:
                time.sleep(0.3)
            self.calls.append(len(events))
            self.queued.append(len(writer.QUEUE))
        return WriteResult(inserted=len(events))

    def close(self) -> None:
        pass


@pytest.mark.parametrize("backend", ["remote", "sqlite"])
def test_a_backlog_is_gathered_up_to_what_the_store_takes_at_once(make_log, backend):
    """Behind a slow write, a local store's writer gathers the backlog for large transactions;
    a server's sends each request as soon as it is ready (gathering 10,000 rows first would
    leave the server idle while the writer prepares them)."""
    store = _SlowStore(backend)
    log = make_log(store=store, batch_size=1000, flush_interval=30)
    s = log.session("backlog")
    for i in range(12_000):
        s.log(f"line {i}")
    assert log.flush(30)
    assert sum(store.calls) == 12_000 and max(store.calls) <= MAX_BATCH_EVENTS
    # Records the writer took from its queue between one write and the next.
    taken = [a - b for a, b in zip(store.queued, store.queued[1:], strict=False)]
    if backend == "remote":
        assert max(taken) <= MAX_BATCH_EVENTS, store.queued  # one request's worth at a time
    else:
        assert max(taken) >= 5_000, store.queued  # the backlog gathered, then written
