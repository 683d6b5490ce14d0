"""The SDK end to end against the real SQLite store: durable, searchable, aggregated."""

from __future__ import annotations

import pytest

from agentlog.config import default_db_path
from agentlog.model import EventType
from agentlog.storage import EventQuery, SessionQuery, open_store


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "agentlog.db")


def read(db):
    store = open_store(db)
    return store


def test_issue_example_end_to_end(make_log, db):
    log = make_log(db=db)
    with log.session("triage bot", tags=["eval"], agent_id="planner") as s:
        s.user_input("why did the deploy fail?")
        s.llm_call(
            model="gpt-4o",
            prompt="summarise the deploy logs",
            response="the migration step timed out",
            input_tokens=812,
            output_tokens=96,
            cost_usd=0.0031,
            duration_ms=840,
        )
        with s.tool_call("search_logs", {"q": "deploy"}) as call:
            call.result({"hits": 3})
        child = s.child("researcher")
        with child:
            child.agent_output("found the failing migration")
        s.handoff(to_agent="researcher", child_session_id=child.id)
    assert log.flush(10)
    store = read(db)
    try:
        row = store.get_session(s.id)
        assert row.title == "triage bot" and row.tags == ["eval"]
        assert row.status == "completed" and row.ended_at is not None
        assert (
            row.event_count == 5
            and row.input_tokens == 812
            and row.cost_usd == pytest.approx(0.0031)
        )
        assert row.metadata["agentlog"]["sdk"] == "python"
        events = store.list_events(EventQuery(session_id=s.id)).items
        assert [e.type for e in events] == [
            EventType.USER_INPUT,
            EventType.LLM_CALL,
            EventType.TOOL_CALL,
            EventType.TOOL_RESULT,
            EventType.HANDOFF,
        ]
        assert events[3].parent_id == call.id == events[2].id
        kids = store.list_sessions(SessionQuery(parent_session_id=s.id)).items
        assert [k.id for k in kids] == [child.id] and kids[0].agents == ["researcher"]
        # A flushed event is found by search at once.
        hits = store.list_events(EventQuery(text="migration")).items
        assert {e.session_id for e in hits} == {s.id, child.id}
    finally:
        store.close()


def test_default_store_is_the_local_file(make_log):
    log = make_log()
    with log.session("default place") as s:
        s.log("hello")
    assert log.flush(10)
    assert log.url == str(default_db_path())
    store = read(str(default_db_path()))
    try:
        assert store.get_session(s.id).event_count == 1
    finally:
        store.close()


def test_flush_makes_events_visible_to_another_connection(make_log, db):
    log = make_log(db=db, flush_interval=60, batch_size=10_000)
    s = log.session("durable")
    for i in range(300):
        s.log(f"line {i}")
    store = read(db)
    try:
        assert log.flush(10)
        assert store.count_events(EventQuery(session_id=s.id)) == 300
        s.log("one more")
        assert log.flush(10)
        assert store.count_events(EventQuery(session_id=s.id)) == 301
    finally:
        store.close()


def test_two_logs_share_one_writer_thread(make_log, tmp_path):
    import threading

    a = make_log(db=str(tmp_path / "a.db"))
    b = make_log(db=str(tmp_path / "b.db"))
    with a.session("a") as sa, b.session("b") as sb:
        sa.log("to a")
        sb.log("to b")
    assert a.flush(10)
    writers = [t for t in threading.enumerate() if t.name == "agentlog-writer"]
    assert len(writers) == 1
    for path, sid in ((tmp_path / "a.db", sa.id), (tmp_path / "b.db", sb.id)):
        store = read(str(path))
        try:
            assert store.count_events(EventQuery()) == 1
            assert store.get_session(sid).event_count == 1
        finally:
            store.close()


def test_explicit_session_id_resumes_and_updates(make_log, db):
    log = make_log(db=db)
    with log.session("first run") as s:
        s.log("one")
    with log.session("second run", session_id=s.id) as again:
        again.log("two")
    assert log.flush(10)
    store = read(db)
    try:
        row = store.get_session(s.id)
        assert row.title == "second run" and row.event_count == 2
    finally:
        store.close()


def test_a_given_store_is_used_and_left_open(make_log, db):
    store = open_store(db)
    try:
        log = make_log(store=store)
        with log.session("borrowed") as s:
            s.log("through a caller's store")
        assert log.close(10)
        # The SDK wrote from its own thread and did not close the caller's store.
        assert store.get_session(s.id).event_count == 1
    finally:
        store.close()


def test_llm_call_records_cache_and_reasoning_tokens(make_log, db, caplog):
    log = make_log(db=db)
    with log.session("cached prompt") as s:
        cached = s.llm_call(
            model="claude-sonnet-4",
            input_tokens=1200,
            output_tokens=300,
            cache_read_tokens=1000,
            cache_creation_tokens=150,
            reasoning_tokens=120,
        )
        plain = s.llm_call(model="gpt-4o", input_tokens=10, output_tokens=2)
        s.event("LLM_CALL", name="o3", reasoning_tokens=7)
    assert log.flush(10)
    assert "ignored" not in caplog.text  # the SDK knows these keywords
    store = read(db)
    try:
        by_id = {e.id: e for e in store.list_events(EventQuery(session_id=s.id)).items}
        first = by_id[cached]
        assert (first.cache_read_tokens, first.cache_creation_tokens) == (1000, 150)
        assert first.reasoning_tokens == 120 and first.input_tokens == 1200
        assert by_id[plain].cache_read_tokens is None and by_id[plain].reasoning_tokens is None
        report = store.stats(EventQuery(session_id=s.id))
        assert (report.cache_read_tokens, report.reasoning_tokens) == (1000, 127)
    finally:
        store.close()


def test_a_bad_token_detail_drops_only_that_event(make_log, db):
    log = make_log(db=db)
    with log.session("bad detail") as s:
        s.llm_call(model="m", cache_read_tokens=-5)
        good = s.llm_call(model="m", cache_read_tokens=5)
    assert log.flush(10)
    store = read(db)
    try:
        events = store.list_events(EventQuery(session_id=s.id)).items
        assert [e.id for e in events] == [good]
    finally:
        store.close()
