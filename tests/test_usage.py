"""The usage report (`agentlog.usage`): totals and slices from Store calls, and its checked range."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agentlog.errors import InvalidInput
from agentlog.model import Event, EventType, Session
from agentlog.storage.sqlite.store import SQLiteStore
from agentlog.usage import MAX_DAYS, usage_range, usage_report

DAY1 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)


def test_report_slices_by_user_agent_type_integration_and_day(tmp_path) -> None:
    store = SQLiteStore(tmp_path / "u.db")
    try:
        graph = Session(
            title="a",
            created_at=DAY1,
            updated_at=DAY1,
            metadata={"agentlog": {"integration": "langgraph"}},
        )
        plain = Session(title="b", created_at=DAY2, updated_at=DAY2)
        store.write(
            sessions=[graph, plain],
            events=[
                Event(
                    session_id=graph.id,
                    type=EventType.LLM_CALL,
                    agent_id="planner",
                    timestamp=DAY1,
                    input_tokens=7,
                    output_tokens=3,
                    cost_usd=0.5,
                ),
                Event(
                    session_id=graph.id, type=EventType.ERROR, agent_id="planner", timestamp=DAY1
                ),
                Event(session_id=plain.id, type=EventType.LOG, agent_id="coder", timestamp=DAY2),
            ],
        )
        start, end = usage_range(DAY1 - timedelta(hours=1), DAY2 + timedelta(hours=1), DAY2)
        report = usage_report(store, start, end, {"unknown": "nobody@example.com"})
    finally:
        store.close()
    assert report["totals"] == {
        "events": 3,
        "sessions": 2,
        "errors": 1,
        "input_tokens": 7,
        "output_tokens": 3,
        "cost_usd": 0.5,
        "cache_read_tokens": 0,
        "cache_creation_tokens": 0,
        "reasoning_tokens": 0,
    }
    assert [(r["agent_id"], r["events"]) for r in report["per_agent"]] == [
        ("planner", 2),
        ("coder", 1),
    ]
    assert {r["type"]: r["events"] for r in report["per_type"]} == {
        "LLM_CALL": 1,
        "ERROR": 1,
        "LOG": 1,
    }
    assert [(r["integration"], r["events"], r["cost_usd"]) for r in report["per_integration"]] == [
        ("langgraph", 2, 0.5),
        ("unknown", 1, 0.0),
    ]
    assert report["per_user"] == [
        {
            "user_id": "unknown",
            "email": "nobody@example.com",
            "sessions": 2,
            "events": 3,
            "errors": 1,
            "input_tokens": 7,
            "output_tokens": 3,
            "cost_usd": 0.5,
        }
    ]
    assert [(d["day"], d["events"], d["sessions"]) for d in report["per_day"]] == [
        ("2026-03-01", 2, 1),
        ("2026-03-02", 1, 1),
    ]


def test_range_defaults_to_thirty_days_and_refuses_bad_ranges() -> None:
    start, end = usage_range(None, None, DAY2)
    assert end == DAY2 and start == datetime(2026, 1, 31, tzinfo=UTC)
    with pytest.raises(InvalidInput, match="before until"):
        usage_range(DAY2, DAY1, DAY2)
    with pytest.raises(InvalidInput, match=f"over {MAX_DAYS} days"):
        usage_range(DAY1 - timedelta(days=MAX_DAYS + 1), DAY1, DAY2)
