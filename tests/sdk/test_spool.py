"""The offline spool: circuit breaker, spooling while the server is down, sync in order, no doubles."""

from __future__ import annotations

import threading
import time

import pytest

from agentlog.errors import InvalidInput, ServerUnavailable
from agentlog.model import BatchError, Event, Session, WriteResult, new_id
from agentlog.sdk.spool import SPOOL_ROW_KEY, SpoolLock, open_spool, pending, sync
from agentlog.sdk.transport import CircuitBreaker, SpoolingTransport, is_outage
from agentlog.storage import EventQuery
from tests.sdk.fakes import FakeStore


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FailAt(FakeStore):
    """Answers normally except on the listed call numbers (1-based), where it is "down"."""

    def __init__(self, down: set[int]) -> None:
        super().__init__()
        self.down = down

    def write(self, sessions=(), events=()):
        if self.calls + 1 in self.down:
            self.calls += 1
            raise ServerUnavailable("the server is down")
        return super().write(sessions, events)


class Rejecting(FakeStore):
    """Rejects events whose content is "bad" (as a server answering 207 would)."""

    def write(self, sessions=(), events=()):
        good = [e for e in events if e.content != "bad"]
        result = super().write(sessions, good)
        errors = [
            BatchError(index=i, id=e.id, error="content: not allowed")
            for i, e in enumerate(events)
            if e.content == "bad"
        ]
        return WriteResult(inserted=result.inserted, duplicates=result.duplicates, errors=errors)


def _events(session_id: str, n: int, start: int = 0) -> list[Event]:
    return [Event(session_id=session_id, type="LOG", content=f"e{start + i}") for i in range(n)]


@pytest.fixture
def spool(tmp_path):
    store = open_spool(tmp_path / "spool.db")
    yield store
    store.close()


@pytest.fixture
def spool_path(tmp_path):
    return tmp_path / "spool.db"


def _transport(remote, spool_path, clock):
    return SpoolingTransport(
        remote=lambda: remote,
        spool=lambda: open_spool(spool_path),
        spool_path=spool_path,
        breaker=CircuitBreaker(base_delay=1.0, max_delay=8.0, clock=clock),
    )


def test_breaker_opens_probes_and_backs_off():
    clock = Clock()
    b = CircuitBreaker(base_delay=1.0, max_delay=4.0, clock=clock)
    assert b.allow() and b.state == "closed"
    b.failure()
    assert not b.allow() and b.state == "open"
    clock.now += 1.0
    assert b.allow() and b.state == "half-open"
    b.failure()  # the probe failed: twice as long
    clock.now += 1.5
    assert not b.allow()
    clock.now += 0.5
    assert b.allow()
    b.failure()
    b.failure()
    assert b.delay == 4.0  # capped
    b.success()
    assert b.allow() and b.state == "closed" and b.delay == 1.0


def test_what_counts_as_an_outage():
    from agentlog.errors import AuthError, PayloadTooLarge, RateLimited

    assert is_outage(ConnectionError("refused"))
    assert is_outage(ServerUnavailable("503"))
    assert is_outage(RateLimited("slow down"))
    assert is_outage(AuthError("bad key"))  # kept, to sync once the key is fixed
    assert not is_outage(InvalidInput("bad batch"))
    assert not is_outage(PayloadTooLarge("too big"))


def test_outage_spools_then_sends_in_order_when_back(spool_path):
    clock = Clock()
    remote = FakeStore(fail=10**9, exc=ServerUnavailable("down"))
    t = _transport(remote, spool_path, clock)
    session = Session(title="offline run")
    first = _events(session.id, 3)
    t.write([session], first)
    assert remote.calls == 1 and t.breaker.state == "open"
    second = _events(session.id, 2, start=3)
    t.write([], second)
    assert remote.calls == 1  # the breaker kept the dead server out of the way
    summary = pending(spool_path)
    assert (summary.sessions, summary.events) == (1, 5)

    remote.fail = 0  # the server is back
    clock.now += 1.0
    third = _events(session.id, 1, start=5)
    result = t.write([], third)
    assert result.inserted == 1
    assert pending(spool_path).empty
    assert [e.content for e in remote.ordered()] == [f"e{i}" for i in range(6)]
    # The session row went over without the spool's marker.
    assert remote.sessions[session.id].title == "offline run"
    assert SPOOL_ROW_KEY not in remote.sessions[session.id].metadata
    assert t.spooled == 5 and t.synced == 5
    t.close()


def test_idle_maintenance_sends_the_spool(spool_path):
    clock = Clock()
    remote = FakeStore(fail=1, exc=ServerUnavailable("down"))
    t = _transport(remote, spool_path, clock)
    s = Session(title="idle")
    t.write([s], _events(s.id, 4))
    t.maintain()  # breaker still open: nothing tried
    assert remote.calls == 1
    clock.now += 1.0
    t.maintain()
    assert len(remote.events) == 4 and pending(spool_path).empty
    t.close()


def test_a_spool_left_by_an_earlier_run_is_sent_first(spool_path, spool):
    old = Session(title="yesterday")
    spool.write([old.model_copy(update={"metadata": {SPOOL_ROW_KEY: True}})], _events(old.id, 2))
    remote = FakeStore()
    t = _transport(remote, spool_path, Clock())
    assert t.spool_pending
    new = Session(title="today")
    t.write([new], _events(new.id, 1, start=2))
    assert remote.sessions[old.id].title == "yesterday"
    assert remote.calls == 2 and len(remote.events) == 3
    t.close()


def test_client_errors_are_not_spooled(spool_path):
    remote = FakeStore(fail=1, exc=InvalidInput("events[0].type: unknown"))
    t = _transport(remote, spool_path, Clock())
    with pytest.raises(InvalidInput):
        t.write([], _events(new_id(), 1))
    assert not spool_path.exists() and t.breaker.state == "closed"


def test_sync_interrupted_midway_never_loses_or_doubles(spool):
    sessions = [Session(title=f"run {i}") for i in range(3)]
    total = 0
    for s in sessions:
        spool.write([s.model_copy(update={"metadata": {SPOOL_ROW_KEY: True}})], _events(s.id, 1500))
        total += 1500
    # Calls per session: 1000 + 500 events. Call 4 (session 2's second batch) fails.
    remote = FailAt(down={4})
    report = sync(spool, remote)
    assert not report.complete and "down" in report.error
    assert report.sessions_synced == 1
    assert pending(spool).sessions == 2  # the interrupted session stays whole in the spool
    again = sync(spool, remote)
    assert again.complete and again.sessions_synced == 2
    assert len(remote.events) == total  # every event exactly once
    assert report.inserted + again.inserted == total
    assert again.duplicates == 1000  # the half sent before the failure, re-sent harmlessly
    assert pending(spool).empty
    # Each session's events arrived in (timestamp, id) order.
    for s in sessions:
        contents = [e.content for e in remote.ordered(s.id)]
        assert contents == [f"e{i}" for i in range(1500)]


def test_sync_does_not_overwrite_rows_the_spool_only_guessed(spool):
    joined = new_id()  # e.g. a session joined through AGENTLOG_SESSION_ID
    spool.write([], _events(joined, 2))
    remote = FakeStore()
    report = sync(spool, remote)
    assert report.complete and len(remote.events) == 2
    assert remote.session_writes == []  # only events: the server keeps its own row


def test_rejected_events_stay_in_the_spool(spool):
    s = Session(title="partly bad")
    events = [*_events(s.id, 2), Event(session_id=s.id, type="LOG", content="bad")]
    spool.write([s.model_copy(update={"metadata": {SPOOL_ROW_KEY: True}})], events)
    report = sync(spool, Rejecting())
    assert report.complete and report.sessions_kept == 1 and report.inserted == 2
    assert [r.event_id for r in report.rejected] == [events[2].id]
    assert pending(spool).events == 3
    assert report.to_dict()["rejected"][0]["error"] == "content: not allowed"


def test_pending_of_a_missing_spool_creates_nothing(tmp_path):
    summary = pending(tmp_path / "nothing.db")
    assert summary.empty and not (tmp_path / "nothing.db").exists()
    assert summary.to_dict()["events"] == 0


def test_spool_lock_excludes_another_holder(tmp_path):
    a = SpoolLock(tmp_path / "spool.db")
    b = SpoolLock(tmp_path / "spool.db")
    order: list[str] = []
    with a:
        with a:  # re-entrant for its holder
            pass
        t = threading.Thread(target=lambda: (b.__enter__(), order.append("b"), b.__exit__()))
        t.start()
        time.sleep(0.1)
        order.append("a releases")
    t.join(5)
    assert order == ["a releases", "b"]


def test_agentlog_with_an_unreachable_server_spools_locally(make_log, tmp_path):
    spool_path = tmp_path / "spool.db"
    log = make_log(server="http://127.0.0.1:9", spool=str(spool_path))
    with log.session("server down") as s:
        for i in range(5):
            s.log(f"kept {i}")
    assert log.flush(30)
    assert log.lost == 0 and log.dropped == 0
    summary = pending(spool_path)
    assert (summary.sessions, summary.events) == (1, 5)
    # `agentlog sync` later: everything goes over, nothing stays behind.
    store = open_spool(spool_path)
    remote = FakeStore()
    try:
        report = sync(store, remote)
        assert report.complete and report.inserted == 5
        assert remote.sessions[s.id].status == "completed"
        assert store.count_events(EventQuery()) == 0
    finally:
        store.close()
