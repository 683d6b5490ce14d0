"""A session tree's totals (`storage.tree`) on every backend: nesting, cycles, the limit, teams."""

from __future__ import annotations

import pytest

from agentlog.model import EventStatus, EventType, new_id
from agentlog.storage.base import SessionQuery
from agentlog.storage.tree import root_tree_totals, session_tree_totals


def llm(make, session_id, tokens, cost, cached=0, **fields):
    return make.event(
        session_id,
        EventType.LLM_CALL,
        input_tokens=tokens[0],
        output_tokens=tokens[1],
        cache_read_tokens=cached or None,
        cost_usd=cost,
        **fields,
    )


@pytest.fixture
def tree(store, make):
    """A supervisor's root (no model calls), two workers, and a grandchild under one worker."""
    root = make.session(title="supervisor run")
    a = make.session(title="worker a", parent_session_id=root.id)
    b = make.session(title="worker b", parent_session_id=root.id)
    grand = make.session(title="a's helper", parent_session_id=a.id)
    other = make.session(title="unrelated")
    store.write(sessions=[root, a, b, grand, other])
    store.write(
        events=[
            make.event(root.id, EventType.HANDOFF),
            llm(make, a.id, (100, 10), 0.01, cached=40),
            llm(make, a.id, (200, 20), 0.02),
            llm(make, b.id, (300, 30), 0.03),
            llm(make, grand.id, (400, 40), 0.04, status=EventStatus.ERROR),
            llm(make, other.id, (9999, 999), 9.0),
        ]
    )
    return root, a, b, grand


def test_the_root_sums_its_children_and_grandchildren(store, tree):
    root, a, _, _ = tree
    totals = session_tree_totals(store, root.id)
    assert (totals.sessions, totals.sub_sessions, totals.complete) == (4, 3, True)
    assert (totals.input_tokens, totals.output_tokens, totals.tokens) == (1000, 100, 1100)
    assert totals.cache_read_tokens == 40
    assert totals.cost_usd == pytest.approx(0.10)
    assert (totals.events, totals.errors) == (5, 1)
    # a summary works as well as an id, and a middle node sums its own subtree
    middle = session_tree_totals(store, store.get_session(a.id))
    assert (middle.sessions, middle.tokens, middle.errors) == (2, 770, 1)
    assert middle.to_json_dict()["sub_sessions"] == 1


def test_a_leaf_is_a_tree_of_one(store, tree):
    _, _, b, _ = tree
    totals = session_tree_totals(store, b.id)
    assert (totals.sessions, totals.sub_sessions, totals.tokens) == (1, 0, 330)


def test_a_page_of_sessions_is_summed_in_one_call(store, tree, make):
    """`Store.tree_totals`: every asked session's tree at once (what the lists show)."""
    root, _, b, _ = tree
    swarm = make.session(title="swarm")
    kids = [make.session(parent_session_id=swarm.id) for _ in range(7)]
    store.write(sessions=[swarm, *kids])
    store.write(events=[llm(make, k.id, (1, 1), 0.001) for k in kids])
    missing = new_id()
    totals = store.tree_totals([root.id, b.id, swarm.id, missing, root.id])
    assert set(totals) == {root.id, b.id, swarm.id}  # an unknown id is left out
    assert (totals[root.id].sessions, totals[root.id].tokens) == (4, 1100)
    assert totals[root.id] == session_tree_totals(store, root.id)
    assert (totals[b.id].sessions, totals[b.id].tokens) == (1, 330)
    assert (totals[swarm.id].sub_sessions, totals[swarm.id].tokens) == (7, 14)
    assert totals[swarm.id].cost_usd == pytest.approx(0.007)
    assert store.tree_totals([]) == {}


def test_root_tree_totals_keeps_the_roots_with_sessions_below(store, tree):
    root = tree[0]
    page = store.list_sessions(SessionQuery()).items
    totals = root_tree_totals(store, page)
    assert set(totals) == {root.id}  # a worker is no root; a lone session has no tree
    assert totals[root.id].tokens == 1100


def test_a_session_that_is_its_own_parent_counts_once(store, make):
    loop = make.session(title="own parent")
    loop = loop.model_copy(update={"parent_session_id": loop.id})
    child = make.session(parent_session_id=loop.id)
    store.write(sessions=[loop, child])
    store.write(events=[llm(make, loop.id, (5, 5), 0.5), llm(make, child.id, (1, 1), 0.1)])
    totals = session_tree_totals(store, loop.id)
    assert (totals.sessions, totals.tokens, totals.complete) == (2, 12, True)


def test_a_cycle_of_parents_ends_and_counts_each_session_once(store, make):
    ids = [new_id() for _ in range(3)]
    # 0 -> 1 -> 2 -> 0: every session is another's parent
    sessions = [make.session(id=ids[i], parent_session_id=ids[i - 1]) for i in range(3)]
    store.write(sessions=sessions)
    store.write(events=[llm(make, sid, (10, 0), 0.0) for sid in ids])
    for sid in ids:
        totals = session_tree_totals(store, sid)
        assert (totals.sessions, totals.tokens, totals.complete) == (3, 30, True)


def test_a_view_over_every_team_walks_the_roots_team_only(store, make):
    a, b = store.scoped("team-a", "alice"), store.scoped("team-b", "bob")
    root = make.session(title="a's root")
    a.write(sessions=[root, make.session(parent_session_id=root.id)])
    # ids are per team: team b's session may name the same parent id
    b.write(sessions=[make.session(parent_session_id=root.id)])
    seen = a.get_session(root.id)  # as a view over every team lists it: with its team
    assert session_tree_totals(store, seen).sessions == 2
    assert session_tree_totals(a, root.id).sessions == 2
