"""`agentlog tail`: recent events first, then new ones as they are stored."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import orjson

from agentlog.cli.tail import Follower
from agentlog.model import Event, EventType, Session, utcnow
from agentlog.storage import open_store
from agentlog.storage.base import EventQuery


def test_backlog_then_stops_on_timeout(cli, demo):
    sid = demo.sessions["triage"]
    started = time.monotonic()
    rows = cli.ndjson("tail", sid, "--lines", "3", "--timeout", "0.3", "--interval", "0.1")
    assert time.monotonic() - started < 5
    assert len(rows) == 3 and all(r["session_id"] == sid for r in rows)
    assert rows[-1]["type"] == "AGENT_OUTPUT"  # the session's last event, printed last


def test_follows_new_events_written_while_tailing(cli, demo_db, demo):
    sid = demo.sessions["eval_pass"]

    def writer() -> None:
        store = open_store(str(demo_db))
        try:
            for i in range(3):
                time.sleep(0.3)
                store.write(events=[Event(session_id=sid, type=EventType.LOG, content=f"live {i}")])
        finally:
            store.close()

    thread = threading.Thread(target=writer)
    thread.start()
    rows = cli.ndjson(
        "tail", sid, "--lines", "0", "--count", "3", "--interval", "0.1", "--timeout", "10"
    )
    thread.join()
    assert [r["content"] for r in rows] == ["live 0", "live 1", "live 2"]


def test_table_lines_across_sessions(cli, demo_db):
    store = open_store(str(demo_db))
    try:
        newest = store.list_events(EventQuery(order="desc", limit=2)).items
    finally:
        store.close()
    result = cli.ok("tail", "--lines", "2", "--timeout", "0")
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    # Without a SESSION each line names its session (a 13-character id prefix).
    assert lines[1].split()[1] == newest[0].session_id[:13]
    assert newest[0].type.value in lines[1]


def test_follower_prints_late_arrivals_once(tmp_path):
    store = open_store(str(tmp_path / "t.db"))
    try:
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
    finally:
        store.close()


def test_bad_filter_is_one_line(cli):
    assert "--type" in cli.fails(2, "tail", "--type", "nope", "--timeout", "0")


def test_ndjson_lines_parse(cli, demo):
    out = cli.ok("tail", demo.sessions["mcp"], "--ndjson", "-n", "4", "--timeout", "0").stdout
    events = [orjson.loads(line) for line in out.splitlines()]
    assert len(events) == 4 and {e["session_id"] for e in events} == {demo.sessions["mcp"]}


def test_follower_finds_an_event_stored_long_after_its_timestamp(tmp_path):
    """A timed tool call is stamped at its start and stored at its end, minutes later."""
    store = open_store(str(tmp_path / "t.db"))
    try:
        sid = "01900000-0000-7000-8000-0000000000bb"
        now = utcnow()
        store.write(events=[Event(session_id=sid, type="LOG", content="before", timestamp=now)])
        follower = Follower(store, EventQuery(), backlog=0)
        assert follower.first() == []
        later = Event(session_id=sid, type="LLM_CALL", content="next", timestamp=now)
        store.write(events=[later])
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
    finally:
        store.close()


def test_follower_with_a_filter_prints_only_matching_late_events(tmp_path):
    store = open_store(str(tmp_path / "t.db"))
    try:
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
        # A session born while tailing: all of its matching events are new.
        other = Session(title="new run")
        store.write(
            sessions=[other],
            events=[Event(session_id=other.id, type="TOOL_CALL", content="t2", timestamp=old)],
        )
        assert [e.content for e in follower.poll()] == ["t2"]
    finally:
        store.close()
