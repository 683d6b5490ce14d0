"""Contract: writes are idempotent upserts that keep the per-session aggregates right."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agentlog.errors import InvalidInput, NotFound
from agentlog.model import EventStatus, EventType, SessionStatus, SessionUpdate, new_id
from agentlog.storage.base import EventQuery, SessionQuery


def test_session_round_trip(store, make):
    s = make.session(
        title="triage bot",
        description="why did it fail",
        tags=["eval", "ci"],
        metadata={"sdk": {"name": "agentlog"}},
    )
    store.write(sessions=[s])
    got = store.get_session(s.id)
    assert (got.id, got.title, got.description, got.tags) == (
        s.id,
        "triage bot",
        "why did it fail",
        ["eval", "ci"],
    )
    assert got.metadata == {"sdk": {"name": "agentlog"}}
    assert got.status == SessionStatus.ACTIVE
    assert got.created_at == s.created_at
    assert got.event_count == 0 and got.last_event_at is None and got.duration_ms is None


def test_events_are_idempotent_and_duplicates_counted(store, make):
    s = make.session()
    events = make.events(s.id, 5)
    first = store.write(sessions=[s], events=events)
    assert (first.inserted, first.duplicates, first.errors) == (5, 0, [])
    again = store.write(events=events[:3] + make.events(s.id, 2))
    assert (again.inserted, again.duplicates) == (2, 3)
    assert store.get_session(s.id).event_count == 7
    assert store.count_events(EventQuery(session_id=s.id)) == 7


def test_same_id_twice_in_one_batch_is_one_insert(store, make):
    s = make.session()
    e = make.event(s.id)
    result = store.write(sessions=[s], events=[e, e])
    assert (result.inserted, result.duplicates) == (1, 1)
    assert store.get_session(s.id).event_count == 1


def test_events_for_unknown_session_create_it(store, make):
    sid = new_id()
    store.write(events=make.events(sid, 2))
    got = store.get_session(sid)
    assert got.title == "" and got.status == SessionStatus.ACTIVE and got.event_count == 2
    # Writing the session later fills in its fields and keeps the events.
    store.write(sessions=[make.session(id=sid, title="late title")])
    got = store.get_session(sid)
    assert got.title == "late title" and got.event_count == 2


def test_bad_items_are_reported_by_index_and_good_ones_kept(store, make):
    s = make.session()
    good = make.event(s.id)
    bad_type = {"session_id": s.id, "type": "NOT_A_TYPE", "timestamp": "2026-03-01T12:00:00Z"}
    bad_id = {"id": "nope", "session_id": s.id, "type": "LOG"}
    result = store.write(sessions=[s], events=[bad_type, good, bad_id])
    assert result.inserted == 1
    assert [e.index for e in result.errors] == [0, 2]
    assert "unknown event type" in result.errors[0].error
    assert "not a valid UUID" in result.errors[1].error
    assert store.get_event(good.id).id == good.id


def test_bad_session_is_a_clear_error(store):
    with pytest.raises(InvalidInput, match="status"):
        store.write(sessions=[{"status": "sleeping"}])


def test_aggregates_follow_inserted_rows(store, make):
    s = make.session()
    events = [
        make.event(
            s.id,
            EventType.LLM_CALL,
            agent_id="planner",
            input_tokens=100,
            output_tokens=10,
            cost_usd=0.5,
        ),
        make.event(s.id, EventType.TOOL_CALL, agent_id="coder", status=EventStatus.ERROR),
        make.event(s.id, EventType.ERROR, agent_id="coder"),
        make.event(
            s.id,
            EventType.LLM_CALL,
            agent_id="planner",
            input_tokens=50,
            output_tokens=5,
            cost_usd=0.25,
        ),
    ]
    store.write(sessions=[s], events=events)
    store.write(events=events)  # duplicates change nothing
    got = store.get_session(s.id)
    assert got.event_count == 4
    assert got.error_count == 2
    assert (got.input_tokens, got.output_tokens) == (150, 15)
    assert got.cost_usd == pytest.approx(0.75)
    assert got.first_event_at == events[0].timestamp
    assert got.last_event_at == events[-1].timestamp
    assert got.duration_ms == pytest.approx(3000.0)
    assert got.agents == ["planner", "coder"]
    assert got.updated_at >= events[-1].timestamp


def test_aggregates_of_a_batch_mixing_sessions_agents_and_times(store, make):
    """One batch interleaving two sessions, out of time order, with and without agents,
    durations and every token count: each session's aggregates are its own events'."""
    a, b = make.session(), make.session()
    store.write(sessions=[a, b])
    events = []
    for k in range(40):
        sid = a.id if k % 3 else b.id
        events.append(
            make.event(
                sid,
                EventType.ERROR if k % 11 == 0 else EventType.LLM_CALL,
                timestamp=make.at(100 - 2 * k if k % 2 else k),
                agent_id=(None, "planner", "coder", "critic")[k % 4],
                status=EventStatus.ERROR if k % 7 == 0 else EventStatus.OK,
                duration_ms=(None, 0.0, 2500.0, 12.5)[k % 4],
                input_tokens=k if k % 5 else None,
                output_tokens=2 * k,
                cost_usd=0.001 * k if k % 2 else None,
                cache_read_tokens=k % 3 or None,
                cache_creation_tokens=k % 4,
                reasoning_tokens=None if k % 6 else k,
            )
        )
    store.write(events=events)
    for session in (a, b):
        mine = [e for e in events if e.session_id == session.id]
        got = store.get_session(session.id)
        assert got.event_count == len(mine)
        assert got.error_count == sum(e.is_error for e in mine)
        assert got.input_tokens == sum(e.input_tokens or 0 for e in mine)
        assert got.output_tokens == sum(e.output_tokens or 0 for e in mine)
        assert got.cost_usd == pytest.approx(sum(e.cost_usd or 0.0 for e in mine))
        assert got.cache_read_tokens == sum(e.cache_read_tokens or 0 for e in mine)
        assert got.cache_creation_tokens == sum(e.cache_creation_tokens or 0 for e in mine)
        assert got.reasoning_tokens == sum(e.reasoning_tokens or 0 for e in mine)
        first = min(e.timestamp for e in mine)
        ends = [e.timestamp + timedelta(milliseconds=e.duration_ms or 0) for e in mine]
        assert (got.first_event_at, got.last_event_at) == (first, max(e.timestamp for e in mine))
        assert got.duration_ms == pytest.approx((max(ends) - first).total_seconds() * 1000)
        assert sorted(got.agents) == sorted({e.agent_id for e in mine if e.agent_id})


def test_upsert_overwrites_fields(store, make):
    s = make.session(title="first")
    store.write(sessions=[s])
    store.write(
        sessions=[s.model_copy(update={"title": "second", "status": SessionStatus.COMPLETED})]
    )
    got = store.get_session(s.id)
    assert (got.title, got.status) == ("second", SessionStatus.COMPLETED)
    assert store.count_sessions(SessionQuery(text="second")) == 1
    assert store.count_sessions(SessionQuery(text="first")) == 0


def test_one_write_of_new_and_known_sessions(store, make):
    """Many sessions in one write (the SDK's commit of many short runs): the new ones are
    created, the known ones overwritten, an id given twice ends as its last version."""
    known = make.session(title="alpha before", created_at=make.at(1))
    store.write(sessions=[known])
    twice = make.session(title="gamma first")
    new = [make.session(title=f"beta {n}", created_at=make.at(10 + n)) for n in range(5)]
    untitled = make.session()
    store.write(
        sessions=[
            *new[:2],
            known.model_copy(update={"title": "alpha after", "created_at": make.at(5)}),
            *new[2:],
            untitled,
        ],
        events=[make.event(s.id) for s in new],
    )
    store.write(
        sessions=[
            twice,
            new[0],
            twice.model_copy(update={"title": "gamma last", "status": SessionStatus.COMPLETED}),
        ]
    )
    assert store.count_sessions(SessionQuery()) == 8
    got = store.get_session(known.id)
    assert got.title == "alpha after"
    assert got.created_at == make.at(1)  # created_at only moves earlier
    assert store.count_sessions(SessionQuery(text="beta")) == 5
    assert store.count_sessions(SessionQuery(text="alpha")) == 1
    assert store.count_sessions(SessionQuery(text="before")) == 0
    last = store.get_session(twice.id)
    assert (last.title, last.status) == ("gamma last", SessionStatus.COMPLETED)
    assert store.count_sessions(SessionQuery(text="first")) == 0
    assert [store.get_session(s.id).event_count for s in new] == [1] * 5
    assert store.get_session(untitled.id).title == ""


def test_update_session(store, make):
    s = make.session(title="old", tags=["a"])
    store.write(sessions=[s])
    got = store.update_session(
        s.id, SessionUpdate(title="new title", tags=["b", "c"], metadata={"k": 1})
    )
    assert (got.title, got.tags, got.metadata) == ("new title", ["b", "c"], {"k": 1})
    assert got.updated_at > s.updated_at
    ended = store.update_session(s.id, SessionUpdate(status=SessionStatus.COMPLETED))
    assert ended.status == SessionStatus.COMPLETED and ended.ended_at is not None
    assert ended.title == "new title"
    assert store.count_sessions(SessionQuery(text="new")) == 1
    with pytest.raises(NotFound):
        store.update_session(new_id(), SessionUpdate(title="x"))


def test_delete_session_erases_events_and_index(store, make):
    keep, gone = make.session(), make.session(title="doomed")
    store.write(
        sessions=[keep, gone],
        events=make.events(keep.id, 2, content="zebra") + make.events(gone.id, 3, content="zebra"),
    )
    assert store.count_events(EventQuery(text="zebra")) == 5
    assert store.delete_session(gone.id) == 3
    with pytest.raises(NotFound):
        store.get_session(gone.id)
    assert store.count_events(EventQuery(text="zebra")) == 2
    assert store.count_sessions(SessionQuery(text="doomed")) == 0
    assert [a.events for a in store.agents()] == []  # no agent ids were given
    with pytest.raises(NotFound):
        store.delete_session(gone.id)


def test_prune_erases_sessions_idle_before(store, make):
    old, new = make.session(), make.session(created_at=make.at(10_000))
    store.write(
        sessions=[old, new],
        events=[make.event(old.id), make.event(new.id, timestamp=make.at(20_000))],
    )
    assert store.prune(make.at(5_000)) == 1
    assert [s.id for s in store.list_sessions(SessionQuery())] == [new.id]
    assert store.prune(make.at(5_000)) == 0
    assert store.info().events == 1


def test_prune_counts_recent_events_as_activity(store, make):
    s = make.session()  # created long ago, but active recently
    store.write(
        sessions=[s], events=[make.event(s.id, timestamp=s.created_at + timedelta(days=30))]
    )
    assert store.prune(s.created_at + timedelta(days=1)) == 0
    assert store.get_session(s.id).event_count == 1


def test_nul_is_stored_the_same_on_every_backend(store, make):
    """One text rule: NUL becomes U+2400 before any backend sees it (PostgreSQL cannot hold
    NUL, SQLite can), so what one backend accepts, every backend stores identically."""
    s = make.session(title="a\x00b", tags=["t\x00"], metadata={"k\x00": "v\x00"})
    e = make.event(
        s.id,
        content="out\x00put",
        name="tool\x00",
        agent_id="ag\x00ent",
        metadata={"raw": ["x\x00"]},
    )
    store.write(sessions=[s], events=[e])
    got = store.get_session(s.id)
    assert (got.title, got.tags, got.metadata) == ("a\u2400b", ["t\u2400"], {"k\u2400": "v\u2400"})
    (back,) = store.list_events(EventQuery(session_id=s.id)).items
    assert (back.content, back.name, back.agent_id) == ("out\u2400put", "tool\u2400", "ag\u2400ent")
    assert back.metadata == {"raw": ["x\u2400"]}


@pytest.mark.parametrize(
    "query",
    [
        lambda: EventQuery(agents=["\x00"]),
        lambda: EventQuery(names=["a\x00"]),
        lambda: EventQuery(metadata={"k": "\x00"}),
        lambda: EventQuery(text="x\x00"),
        lambda: SessionQuery(tags=["\x00"]),
        lambda: SessionQuery(agent="\x00"),
    ],
)
def test_a_nul_in_a_filter_is_invalid_input_everywhere(query):
    with pytest.raises(InvalidInput, match="contains a NUL character"):
        query()


def test_delete_session_tree_erases_every_session_below_it(store, make):
    """A run's workers and their sub-agents go with it, at any depth; nothing else does."""
    root = make.session(title="supervisor run")
    worker = make.session(title="worker", parent_session_id=root.id)
    helper = make.session(title="helper", parent_session_id=worker.id)
    sibling = make.session(title="second worker", parent_session_id=root.id)
    other = make.session(title="unrelated")
    store.write(
        sessions=[root, worker, helper, sibling, other],
        events=make.events(root.id, 1, content="zebra")
        + make.events(worker.id, 2, content="zebra")
        + make.events(helper.id, 3, content="zebra")
        + make.events(other.id, 4, content="zebra"),
    )
    deleted = store.delete_session_tree(root.id)
    assert (deleted.sessions, deleted.sub_sessions, deleted.events) == (4, 3, 6)
    for gone in (root, worker, helper, sibling):
        with pytest.raises(NotFound):
            store.get_session(gone.id)
    assert [s.id for s in store.list_sessions(SessionQuery()).items] == [other.id]
    assert store.count_events(EventQuery(text="zebra")) == 4
    with pytest.raises(NotFound):
        store.delete_session_tree(root.id)


def test_delete_session_tree_of_a_middle_session_keeps_its_parent(store, make):
    root = make.session()
    worker = make.session(parent_session_id=root.id)
    helper = make.session(parent_session_id=worker.id)
    store.write(sessions=[root, worker, helper], events=make.events(helper.id, 2))
    assert store.delete_session_tree(worker.id).sessions == 2
    assert store.get_session(root.id).id == root.id
    assert store.count_sessions(SessionQuery()) == 1


def test_delete_session_tree_ends_on_a_cycle_of_parents(store, make):
    ids = [new_id() for _ in range(3)]
    store.write(sessions=[make.session(id=ids[i], parent_session_id=ids[i - 1]) for i in range(3)])
    assert store.delete_session_tree(ids[0]).sessions == 3
    assert store.count_sessions(SessionQuery()) == 0


def test_delete_session_alone_keeps_its_children(store, make):
    """The one-session erase (for writing a session again in place) leaves the tree."""
    root = make.session()
    child = make.session(parent_session_id=root.id)
    store.write(sessions=[root, child])
    store.delete_session(root.id)
    assert store.get_session(child.id).parent_session_id == root.id


def test_delete_session_tree_erases_only_its_teams_sessions(store, make):
    a, b = store.scoped("team-a", "alice"), store.scoped("team-b", "bob")
    root = make.session()
    a.write(sessions=[root, make.session(parent_session_id=root.id)])
    b.write(sessions=[make.session(parent_session_id=root.id)])  # ids are per team
    assert a.delete_session_tree(root.id).sessions == 2
    assert b.count_sessions(SessionQuery()) == 1
