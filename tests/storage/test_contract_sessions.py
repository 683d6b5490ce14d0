"""Contract: listing, filtering, sorting and paging sessions; agents and store info."""

from __future__ import annotations

from dataclasses import replace

import pytest

from agentlog.errors import InvalidCursor, NotFound
from agentlog.model import EventStatus, EventType, SessionStatus, new_id
from agentlog.storage.base import SessionQuery, iter_sessions


@pytest.fixture
def sessions(store, make):
    """Five sessions with different activity, tags, agents and costs."""
    made = []
    for i in range(5):
        s = make.session(
            title=f"run {i}",
            created_at=make.at(i * 100),
            tags=["eval"] + (["ci"] if i % 2 else []),
            status=SessionStatus.COMPLETED if i == 4 else SessionStatus.ACTIVE,
        )
        made.append(s)
    parent = made[0]
    made[3] = made[3].model_copy(update={"parent_session_id": parent.id})
    store.write(sessions=made)
    # Activity: session i gets i+1 events at 1000+10*i seconds; session 1 is idle.
    for i, s in enumerate(made):
        if i == 1:
            continue
        events = [
            make.event(
                s.id,
                EventType.LLM_CALL,
                agent_id="planner" if i < 3 else "coder",
                timestamp=make.at(1000 + 10 * i + k),
                input_tokens=10 * (i + 1),
                output_tokens=i,
                cost_usd=0.1 * i,
                status=EventStatus.ERROR if k == 0 and i == 2 else EventStatus.OK,
            )
            for k in range(i + 1)
        ]
        store.write(events=events)
    return made


def listed(store, **query):
    return [s.id for s in iter_sessions(store, SessionQuery(**query), page_size=2)]


def test_default_is_last_activity_newest_first(store, sessions):
    # Session 1 has no events: its activity is its creation time (the oldest but one).
    expect = [sessions[i].id for i in (4, 3, 2, 0, 1)]
    assert [s.id for s in store.list_sessions(SessionQuery())] == expect


@pytest.mark.parametrize(
    "sort",
    [
        "last_event_at",
        "created_at",
        "updated_at",
        "title",
        "event_count",
        "error_count",
        "duration_ms",
        "input_tokens",
        "output_tokens",
        "cost_usd",
    ],
)
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_every_sort_pages_without_gaps(store, sessions, sort, order):
    everything = store.list_sessions(SessionQuery(sort=sort, order=order, limit=100)).items
    assert sorted(s.id for s in everything) == sorted(s.id for s in sessions)
    paged = listed(store, sort=sort, order=order)
    assert paged == [s.id for s in everything]
    values = [
        getattr(s, sort) if sort != "last_event_at" else (s.last_event_at or s.created_at)
        for s in everything
    ]
    values = [(-1 if v is None else v) for v in values]
    assert values == sorted(values, reverse=order == "desc")


def test_aggregates_in_the_list(store, sessions):
    by_id = {s.id: s for s in store.list_sessions(SessionQuery())}
    third = by_id[sessions[2].id]
    assert (third.event_count, third.error_count, third.input_tokens, third.output_tokens) == (
        3,
        1,
        90,
        6,
    )
    assert third.cost_usd == pytest.approx(0.6)
    assert third.agents == ["planner"]
    assert third.duration_ms == 2000.0
    assert by_id[sessions[1].id].event_count == 0


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (dict(status=SessionStatus.COMPLETED), [4]),
        (dict(tags=["ci"]), [3, 1]),
        (dict(tags=["ci", "eval"]), [3, 1]),
        (dict(tags=["nope"]), []),
        (dict(agent="coder"), [4, 3]),
        (dict(text="run"), [4, 3, 2, 0, 1]),
        (dict(parent_session_id="parent"), [3]),
    ],
)
def test_filters(store, sessions, query, expected):
    if query.get("parent_session_id") == "parent":
        query = {**query, "parent_session_id": sessions[0].id}
    assert listed(store, **query) == [sessions[i].id for i in expected]
    assert store.count_sessions(SessionQuery(**query)) == len(expected)


def test_time_filters(store, sessions, make):
    # since: last activity at or after; until: created before.
    assert listed(store, since=make.at(1030)) == [sessions[4].id, sessions[3].id]
    assert listed(store, until=make.at(150)) == [sessions[0].id, sessions[1].id]


def test_bad_and_foreign_cursors(store, sessions):
    page = store.list_sessions(SessionQuery(limit=2))
    with pytest.raises(InvalidCursor):
        store.list_sessions(SessionQuery(limit=2, sort="title", cursor=page.next_cursor))
    with pytest.raises(InvalidCursor):
        store.list_sessions(SessionQuery(cursor="not-a-cursor"))
    nxt = store.list_sessions(replace(SessionQuery(limit=2), cursor=page.next_cursor))
    assert {s.id for s in nxt}.isdisjoint({s.id for s in page})


def test_get_missing_session(store, sessions):
    with pytest.raises(NotFound, match="not found"):
        store.get_session(new_id())


def test_agents(store, sessions, make):
    agents = {a.agent_id: a for a in store.agents()}
    assert set(agents) == {"planner", "coder"}
    planner = agents["planner"]
    assert (planner.sessions, planner.events, planner.errors) == (2, 4, 1)
    assert planner.first_seen == make.at(1000) and planner.last_seen == make.at(1022)
    assert (agents["coder"].sessions, agents["coder"].events) == (2, 9)
    assert [a.agent_id for a in store.agents(since=make.at(1030))] == ["coder"]
    assert planner.error_rate == pytest.approx(0.25)


def test_info(store, sessions, make):
    info = store.info()
    assert (info.sessions, info.events) == (5, 13)
    assert info.oldest_event_at == make.at(1000)
    assert info.newest_event_at == make.at(1044)
    assert info.schema_version >= 1 and info.backend


def test_duration_runs_to_the_end_of_the_last_event(store, make):
    """A session holding one 840 ms LLM call lasts 840 ms, not 0 (first to last timestamp)."""
    one = make.session(title="one call")
    store.write(
        sessions=[one],
        events=[make.event(one.id, EventType.LLM_CALL, timestamp=make.at(10), duration_ms=840)],
    )
    assert store.get_session(one.id).duration_ms == pytest.approx(840)
    # a later, shorter event does not cut it short; the longest-running end wins
    two = make.session(title="two calls")
    store.write(
        sessions=[two],
        events=[
            make.event(two.id, EventType.TOOL_CALL, timestamp=make.at(10), duration_ms=5000),
            make.event(two.id, EventType.LOG, timestamp=make.at(11)),
        ],
    )
    assert store.get_session(two.id).duration_ms == pytest.approx(5000)
    longest = store.list_sessions(SessionQuery(sort="duration_ms", order="desc", limit=2)).items
    assert [s.id for s in longest][:1] == [two.id]


def test_replay_of_filter_finds_only_that_sessions_replays(store, make) -> None:
    original = make.session(title="original")
    first = make.session(title="replay 1", metadata={"replay_of": original.id})
    second = make.session(
        title="replay 2", metadata={"replay_of": original.id, "replay_fork_at": 2}
    )
    unrelated = make.session(title="other", metadata={"replay_of": new_id()})
    plain = make.session(title="plain", metadata={"note": original.id})
    store.write([original, first, second, unrelated, plain], [])
    found = store.list_sessions(SessionQuery(replay_of=original.id)).items
    assert sorted(s.title for s in found) == ["replay 1", "replay 2"]
    assert store.count_sessions(SessionQuery(replay_of=original.id)) == 2
    assert store.list_sessions(SessionQuery(replay_of=new_id())).items == []
