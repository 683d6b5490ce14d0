"""`agentlog tail`: recent events first, then new ones as they are stored (the finding: tests/storage/test_follow.py)."""

from __future__ import annotations

import threading
import time

import orjson

from agentlog.model import Event, EventType
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


def test_bad_filter_is_one_line(cli):
    assert "--type" in cli.fails(2, "tail", "--type", "nope", "--timeout", "0")


def test_ndjson_lines_parse(cli, demo):
    out = cli.ok("tail", demo.sessions["mcp"], "--ndjson", "-n", "4", "--timeout", "0").stdout
    events = [orjson.loads(line) for line in out.splitlines()]
    assert len(events) == 4 and {e["session_id"] for e in events} == {demo.sessions["mcp"]}
