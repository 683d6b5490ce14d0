"""Contract: every event filter, keyset paging, counts, facets, ordering keys and stats."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentlog.errors import InvalidCursor, NotFound
from agentlog.model import EventStatus, EventType, new_id, to_us
from agentlog.storage.base import EventQuery, event_cursor, iter_events


@pytest.fixture
def filled(store, make):
    """A session with a mix of events, and a second session."""
    s, other = make.session(title="main"), make.session(title="other")
    events = [
        make.event(
            s.id, EventType.USER_INPUT, agent_id="planner", content="why did the deploy fail"
        ),
        make.event(
            s.id,
            EventType.LLM_CALL,
            agent_id="planner",
            name="gpt-4o",
            duration_ms=800.0,
            input_tokens=800,
            output_tokens=90,
            cost_usd=0.003,
        ),
    ]
    call = make.event(
        s.id,
        EventType.TOOL_CALL,
        agent_id="coder",
        name="search",
        duration_ms=10.0,
        metadata={"attempt": 1, "cached": True, "q": "deploy"},
    )
    events += [
        call,
        make.event(
            s.id,
            EventType.TOOL_RESULT,
            agent_id="coder",
            name="search",
            parent_id=call.id,
            duration_ms=30.0,
            metadata={"attempt": 2},
        ),
        make.event(
            s.id, EventType.ERROR, agent_id="coder", status=EventStatus.ERROR, content="timeout"
        ),
        make.event(
            s.id,
            EventType.LLM_CALL,
            agent_id="planner",
            name="gpt-4o",
            duration_ms=1200.0,
            input_tokens=1000,
            output_tokens=100,
            cost_usd=0.004,
        ),
        make.event(
            s.id,
            EventType.TOOL_CALL,
            agent_id="coder",
            name="read_file",
            duration_ms=5.0,
            status=EventStatus.ERROR,
        ),
    ]
    store.write(sessions=[s, other], events=events + make.events(other.id, 3, agent_id="other"))
    return s, other, events


def ids(page_or_list):
    return [e.id for e in page_or_list]


def test_get_event_round_trip(store, filled):
    _, _, events = filled
    for e in events:
        assert store.get_event(e.id).model_dump() == e.model_dump()
    with pytest.raises(NotFound):
        store.get_event(new_id())


def test_session_filter_in_time_order(store, filled):
    s, _, events = filled
    assert ids(store.list_events(EventQuery(session_id=s.id))) == ids(events)
    assert ids(store.list_events(EventQuery(session_id=s.id, order="desc"))) == ids(
        reversed(events)
    )


def test_missing_session_is_not_found(store, filled):
    with pytest.raises(NotFound):
        store.list_events(EventQuery(session_id=new_id()))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (dict(types=[EventType.LLM_CALL]), [1, 5]),
        (dict(types=["tool_call", "TOOL_RESULT"]), [2, 3, 6]),
        (dict(agents=["coder"]), [2, 3, 4, 6]),
        (dict(names=["search"]), [2, 3]),
        (dict(names=["gpt-4o", "read_file"]), [1, 5, 6]),
        (dict(status=EventStatus.ERROR), [4, 6]),
        (dict(status=EventStatus.OK, agents=["coder"]), [2, 3]),
        (dict(metadata={"attempt": "1"}), [2]),
        (dict(metadata={"attempt": "2"}), [3]),
        (dict(metadata={"cached": "true", "q": "deploy"}), [2]),
        (dict(metadata={"q": "nothing"}), []),
        (dict(metadata={"missing": "1"}), []),
    ],
)
def test_filters(store, filled, query, expected):
    s, _, events = filled
    q = EventQuery(session_id=s.id, **query)
    assert ids(store.list_events(q)) == [events[i].id for i in expected]
    assert store.count_events(q) == len(expected)


def test_parent_filter(store, filled):
    _, _, events = filled
    assert ids(store.list_events(EventQuery(parent_id=events[2].id))) == [events[3].id]


def test_time_window_since_inclusive_until_exclusive(store, filled):
    s, _, events = filled
    q = EventQuery(session_id=s.id, since=events[1].timestamp, until=events[4].timestamp)
    assert ids(store.list_events(q)) == ids(events[1:4])


def test_all_sessions_when_no_session_filter(store, filled):
    assert store.count_events(EventQuery()) == 10
    assert store.count_events(EventQuery(agents=["other"])) == 3


def test_paging_with_cursor(store, filled):
    s, _, events = filled
    q = EventQuery(session_id=s.id, limit=3)
    first = store.list_events(q)
    assert ids(first) == ids(events[:3]) and first.next_cursor
    second = store.list_events(replace(q, cursor=first.next_cursor))
    third = store.list_events(replace(q, cursor=second.next_cursor))
    assert ids(second) + ids(third) == ids(events[3:])
    assert third.next_cursor is None
    assert ids(iter_events(store, replace(q, limit=1000), page_size=2)) == ids(events)


def test_event_cursor_positions_a_page(store, filled):
    s, _, events = filled
    q = EventQuery(session_id=s.id, limit=2)
    cursor = event_cursor(q, to_us(events[2].timestamp), events[2].id)
    assert ids(store.list_events(replace(q, cursor=cursor))) == ids(events[3:5])


@pytest.mark.parametrize("cursor", ["garbage", "!!!", "eyJxIjoxfQ", ""])
def test_bad_cursor(store, filled, cursor):
    s, _, _ = filled
    if cursor == "":
        assert len(store.list_events(EventQuery(session_id=s.id, cursor=cursor))) == 7
        return
    with pytest.raises(InvalidCursor):
        store.list_events(EventQuery(session_id=s.id, cursor=cursor))


def test_cursor_from_another_query_is_refused(store, filled):
    s, _, _ = filled
    page = store.list_events(EventQuery(session_id=s.id, limit=2))
    with pytest.raises(InvalidCursor, match="different query"):
        store.list_events(
            EventQuery(session_id=s.id, limit=2, order="desc", cursor=page.next_cursor)
        )
    with pytest.raises(InvalidCursor):
        store.list_events(EventQuery(session_id=s.id, agents=["coder"], cursor=page.next_cursor))


def test_event_keys_in_order(store, filled):
    s, _, events = filled
    keys = [(to_us(e.timestamp), e.id) for e in events]
    assert store.event_keys(EventQuery(session_id=s.id, limit=1)) == keys
    assert store.event_keys(EventQuery(session_id=s.id, order="desc")) == keys[::-1]
    assert store.event_keys(EventQuery(session_id=s.id, types=[EventType.LLM_CALL])) == [
        keys[1],
        keys[5],
    ]


def test_facets(store, filled):
    s, _, _ = filled
    facets = store.facets(EventQuery(session_id=s.id))
    assert facets["type"] == {
        "USER_INPUT": 1,
        "LLM_CALL": 2,
        "TOOL_CALL": 2,
        "TOOL_RESULT": 1,
        "ERROR": 1,
    }
    assert facets["agent"] == {"planner": 3, "coder": 4}
    assert facets["status"] == {"ok": 5, "error": 2}
    assert store.facets(EventQuery(session_id=s.id, agents=["planner"]))["type"] == {
        "USER_INPUT": 1,
        "LLM_CALL": 2,
    }


def test_stats(store, filled, make):
    s, _, _events = filled
    report = store.stats(EventQuery(session_id=s.id))
    assert (report.sessions, report.events, report.errors) == (1, 7, 2)
    assert report.by_type["LLM_CALL"] == 2 and report.by_agent == {"coder": 4, "planner": 3}
    assert (report.input_tokens, report.output_tokens) == (1800, 190)
    assert report.cost_usd == pytest.approx(0.007)
    assert report.error_rate == pytest.approx(2 / 7)
    models = {m.name: m for m in report.models}
    assert models["gpt-4o"].count == 2
    assert models["gpt-4o"].p50_ms == pytest.approx(1000.0)  # interpolated between 800 and 1200
    assert models["gpt-4o"].p95_ms == pytest.approx(1180.0)
    assert models["gpt-4o"].max_ms == 1200.0
    tools = {t.name: t for t in report.tools}
    assert (tools["search"].count, tools["search"].p50_ms, tools["search"].max_ms) == (
        2,
        20.0,
        30.0,
    )
    assert (tools["read_file"].errors, tools["search"].errors) == (1, 0)
    assert [e.duration_ms for e in report.slowest] == [1200.0, 800.0, 30.0, 10.0, 5.0]
    everything = store.stats(EventQuery())
    assert (everything.sessions, everything.events) == (2, 10)


def test_stats_of_nothing(store, filled):
    report = store.stats(EventQuery(agents=["nobody"]))
    assert (report.events, report.errors, report.tools, report.slowest) == (0, 0, [], [])
    assert report.error_rate == 0.0


def test_stats_tokens_and_cost_per_model(store, make):
    """by_model sums the tokens and cost of every named model's LLM calls, timed or not
    (an unnamed call counts in the totals only, as an event with no agent does in by_agent)."""
    s = make.session()
    store.write(
        sessions=[s],
        events=[
            make.event(
                s.id,
                EventType.LLM_CALL,
                name="gpt-4o",
                duration_ms=800.0,
                input_tokens=800,
                output_tokens=90,
                cost_usd=0.003,
            ),
            make.event(
                s.id,
                EventType.LLM_CALL,
                name="gpt-4o",
                input_tokens=200,
                output_tokens=10,
                cost_usd=0.001,
            ),
            make.event(s.id, EventType.LLM_CALL, name="claude", input_tokens=50),
            make.event(s.id, EventType.LLM_CALL, input_tokens=7, output_tokens=3),
            make.event(s.id, EventType.TOOL_CALL, name="search", input_tokens=1),
        ],
    )
    by_model = store.stats(EventQuery(session_id=s.id)).by_model
    assert list(by_model) == ["gpt-4o", "claude"]  # most cost first
    gpt = by_model["gpt-4o"]
    assert (gpt.calls, gpt.input_tokens, gpt.output_tokens) == (2, 1000, 100)
    assert gpt.cost_usd == pytest.approx(0.004)
    claude = by_model["claude"]
    assert (claude.calls, claude.input_tokens, claude.output_tokens, claude.cost_usd) == (
        1,
        50,
        0,
        0.0,
    )
    assert store.stats(EventQuery(agents=["nobody"])).by_model == {}


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    stamps=st.lists(st.integers(min_value=0, max_value=6), min_size=0, max_size=25),
    page=st.integers(min_value=1, max_value=7),
    order=st.sampled_from(["asc", "desc"]),
)
def test_pages_have_no_gaps_or_duplicates(store, make, stamps, page, order):
    """Many events share a timestamp: (timestamp, id) keyset paging still visits each once."""
    sid = new_id()
    events = [make.event(sid, timestamp=make.at(t)) for t in stamps]
    store.write(events=events)
    expected = sorted(((to_us(e.timestamp), e.id) for e in events), reverse=order == "desc")
    seen: list[str] = []
    q = (
        EventQuery(session_id=sid, limit=page, order=order)
        if events
        else EventQuery(agents=[sid], limit=page, order=order)
    )
    while True:
        result = store.list_events(q)
        assert len(result) <= page
        seen.extend(ids(result))
        if not result.next_cursor:
            break
        q = replace(q, cursor=result.next_cursor)
    assert seen == [i for _, i in expected]
