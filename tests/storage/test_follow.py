"""The live-follow primitive (`agentlog.storage.follow.Follower`) on every backend: late arrivals, filters, start keys."""

from __future__ import annotations

from datetime import timedelta

from agentlog.model import Event, EventType, Session, utcnow
from agentlog.storage.base import EventQuery, Store
from agentlog.storage.follow import Follower


def test_backlog_then_a_late_batch_once(store: Store) -> None:
    first = Event(session_id="01900000-0000-7000-8000-0000000000aa", type="LOG", content="a")
    store.write(events=[first])
    follower = Follower(store, EventQuery(), backlog=5)
    assert [e.content for e in follower.first()] == ["a"]
    assert follower.poll() == []
    # A batch flushed late: stamped before the newest event seen, stored after it.
    late = Event(
        session_id=first.session_id,
        type="LOG",
        content="late",
        timestamp=first.timestamp.replace(microsecond=0),
    )
    store.write(events=[late])
    assert [e.content for e in follower.poll()] == ["late"]
    assert follower.poll() == []


def test_an_event_stored_long_after_its_timestamp(store: Store) -> None:
    """A timed tool call is stamped at its start and stored at its end, minutes later."""
    sid = "01900000-0000-7000-8000-0000000000bb"
    now = utcnow()
    store.write(events=[Event(session_id=sid, type="LOG", content="before", timestamp=now)])
    follower = Follower(store, EventQuery(), backlog=0)
    assert follower.first() == []
    store.write(events=[Event(session_id=sid, type="LLM_CALL", content="next", timestamp=now)])
    assert [e.content for e in follower.poll()] == ["next"]
    tool = Event(
        session_id=sid,
        type="TOOL_CALL",
        content="slow tool",
        timestamp=now - timedelta(minutes=3),
        duration_ms=180_000,
    )
    store.write(events=[tool])
    assert [e.content for e in follower.poll()] == ["slow tool"]
    assert follower.poll() == []


def test_a_filter_reports_only_matching_late_events(store: Store) -> None:
    sid = "01900000-0000-7000-8000-0000000000cc"
    now = utcnow()
    store.write(events=[Event(session_id=sid, type="LOG", content="x", timestamp=now)])
    follower = Follower(store, EventQuery(types=[EventType.TOOL_CALL]), backlog=5)
    assert follower.first() == []
    old = now - timedelta(minutes=10)
    store.write(
        events=[
            Event(session_id=sid, type="LOG", content="noise", timestamp=old),
            Event(session_id=sid, type="TOOL_CALL", content="tool", timestamp=old),
        ]
    )
    assert [e.content for e in follower.poll()] == ["tool"]
    # A session born while following: all of its matching events are new.
    other = Session(title="new run")
    store.write(
        sessions=[other],
        events=[Event(session_id=other.id, type="TOOL_CALL", content="t2", timestamp=old)],
    )
    assert [e.content for e in follower.poll()] == ["t2"]


def test_start_gives_the_keys_already_stored_and_poll_only_later_ones(store: Store) -> None:
    """How a view that loaded its keys first begins following (the TUI timeline)."""
    sid = "01900000-0000-7000-8000-0000000000dd"
    now = utcnow()
    stored = [
        Event(session_id=sid, type=t, content=t, timestamp=now + timedelta(seconds=i))
        for i, t in enumerate(["LOG", "TOOL_CALL", "LOG"])
    ]
    store.write(events=stored)
    whole = Follower(store, EventQuery(session_id=sid))
    tools = Follower(store, EventQuery(session_id=sid, types=[EventType.TOOL_CALL]))
    assert whole.start() == store.event_keys(EventQuery(session_id=sid))
    assert [k[1] for k in tools.start()] == [stored[1].id]
    late = Event(session_id=sid, type="TOOL_CALL", content="late", timestamp=now)
    store.write(events=[late])
    assert [e.id for e in whole.poll()] == [late.id]
    assert [e.id for e in tools.poll()] == [late.id]
    assert whole.poll() == [] and tools.poll() == []


def test_a_late_event_of_any_running_session_is_seen(store: Store) -> None:
    """Not only the 20 most recent sessions: every running one's late tool call is caught."""
    from agentlog.storage.follow import KNOWN_AT_START

    now = utcnow()
    sids = [f"01900000-0000-7000-8000-{n:012x}" for n in range(KNOWN_AT_START + 5)]
    for age, sid in enumerate(reversed(sids)):  # the first id is the least recently active
        store.write(
            events=[
                Event(session_id=sid, type="LOG", content="x", timestamp=now - timedelta(hours=age))
            ]
        )
    follower = Follower(store, EventQuery(), backlog=0)
    assert follower.first() == []
    quiet = sids[0]  # not among the most recent sessions, still running
    tool = Event(
        session_id=quiet,
        type="TOOL_CALL",
        content="slow tool",
        timestamp=utcnow() - timedelta(minutes=3),
        duration_ms=180_000,
    )
    store.write(events=[tool])
    assert [(e.session_id, e.content) for e in follower.poll()] == [(quiet, "slow tool")]
