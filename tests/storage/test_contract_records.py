"""Contract: `list_event_records` is `list_events` as export records, on every backend."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import orjson
import pytest

from agentlog.model import EventStatus, EventType, Session
from agentlog.storage.base import EventQuery, event_record, ts_text, ts_text_us


@pytest.fixture
def mixed(store, make):
    """A session whose events cover nulls, empty strings, unicode, metadata and every number field."""
    s = make.session(title="records")
    events = [
        make.event(s.id, EventType.USER_INPUT, content='héllo "quoted"\nline ✓ 🚀', agent_id=""),
        make.event(
            s.id,
            EventType.LLM_CALL,
            name="gpt-4o",
            duration_ms=812.5,
            input_tokens=800,
            output_tokens=90,
            cost_usd=0.0031,
            metadata={"model": {"t": 0.2}, "tags": [1, "x", None]},
        ),
        make.event(
            s.id,
            EventType.TOOL_RESULT,
            name="",
            content="",
            status=EventStatus.ERROR,
            timestamp=datetime(2026, 3, 1, 12, 0, 2, 500007, tzinfo=UTC),
        ),
        make.event(
            s.id, EventType.LOG, content=None, metadata={"n": 10**15, "ok": True, "f": 1e-7}
        ),
    ]
    events.append(make.event(s.id, EventType.TOOL_CALL, parent_id=events[1].id, content="x" * 3000))
    store.write([s], events)
    return s, events


def test_records_equal_the_events_export_records_page_by_page(store, mixed):
    s, events = mixed
    for order in ("asc", "desc"):
        query = EventQuery(session_id=s.id, order=order, limit=2)
        seen = []
        while True:
            page = store.list_events(query)
            records = store.list_event_records(query)
            assert records.items == [event_record(e) for e in page.items]
            assert records.next_cursor == page.next_cursor
            seen.extend(records.items)
            if not page.next_cursor:
                break
            query = replace(query, cursor=page.next_cursor)
        assert len(seen) == len(events)
    # The records are JSON-ready: plain values, and they round-trip unchanged.
    rec = store.list_event_records(EventQuery(session_id=s.id, order="asc")).items
    assert orjson.loads(orjson.dumps(rec)) == rec
    assert rec[0]["content"] == 'héllo "quoted"\nline ✓ 🚀' and rec[0]["agent_id"] == ""
    assert rec[1]["metadata"] == {"model": {"t": 0.2}, "tags": [1, "x", None]}
    assert rec[2]["timestamp"] == "2026-03-01T12:00:02.500007Z"
    assert (rec[2]["type"], rec[2]["status"], rec[2]["name"]) == ("TOOL_RESULT", "error", "")
    assert rec[3]["content"] is None and rec[3]["metadata"] == {"n": 10**15, "ok": True, "f": 1e-7}


def test_records_follow_filters_and_full_text(store, mixed, make):
    s, _ = mixed
    other = Session(title="other", created_at=make.at(0), updated_at=make.at(0))
    store.write([other], [make.event(other.id, EventType.LOG, content="quoted elsewhere")])
    for query in (
        EventQuery(types=[EventType.LLM_CALL, EventType.LOG]),
        EventQuery(status=EventStatus.ERROR),
        EventQuery(text="quoted"),
        EventQuery(text="quoted", session_id=s.id),
        EventQuery(session_id=other.id, order="asc"),
    ):
        records = store.list_event_records(query)
        assert records.items == [event_record(e) for e in store.list_events(query).items]
        assert records.items


def test_timestamp_text_matches_isoformat_for_any_microsecond():
    for dt in (
        datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC),
        datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 59, 1, tzinfo=UTC),
        datetime(1, 1, 1, 0, 0, 0, 5, tzinfo=UTC),
    ):
        us = (dt - datetime(1970, 1, 1, tzinfo=UTC)) // __import__("datetime").timedelta(
            microseconds=1
        )
        assert ts_text_us(us) == ts_text(dt) == dt.isoformat(timespec="microseconds")[:-6] + "Z"
