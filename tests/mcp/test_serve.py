"""`agentlog mcp serve` driven by the real `mcp` client over stdio against a real store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters

from agentlog.model import Event, EventType, Session, new_id
from agentlog.storage import open_store
from tests.mcp.conftest import AGENTLOG

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _seed(db: Path) -> dict[str, str]:
    """Two runs of an agent: the second fails at its last tool call."""
    store = open_store(str(db))
    ids = {}
    try:
        for run, fails in (("good", False), ("bad", True)):
            sid = new_id()
            ids[run] = sid
            events = [
                Event(
                    session_id=sid,
                    type=EventType.USER_INPUT,
                    content="book a flight to Oslo",
                    timestamp=T0,
                    agent_id="planner",
                ),
                Event(
                    session_id=sid,
                    type=EventType.TOOL_CALL,
                    name="search",
                    content='{"to":"OSL"}',
                    timestamp=T0 + timedelta(seconds=1),
                    agent_id="planner",
                ),
                Event(
                    session_id=sid,
                    type=EventType.TOOL_RESULT,
                    name="search",
                    content="3 flights",
                    timestamp=T0 + timedelta(seconds=2),
                    agent_id="planner",
                    duration_ms=900,
                ),
                Event(
                    session_id=sid,
                    type=EventType.ERROR if fails else EventType.TOOL_RESULT,
                    name="book",
                    content="card declined" if fails else "booked",
                    status="error" if fails else "ok",
                    timestamp=T0 + timedelta(seconds=3),
                    agent_id="planner",
                ),
                Event(
                    session_id=sid,
                    type=EventType.LOG,
                    name="big",
                    content="x" * 200_000,
                    timestamp=T0 + timedelta(seconds=4),
                    agent_id="planner",
                ),
            ]
            store.write(
                sessions=[
                    Session(
                        id=sid,
                        title=f"{run} run",
                        tags=["eval"],
                        created_at=T0,
                        status="failed" if fails else "completed",
                    )
                ],
                events=events,
            )
    finally:
        store.close()
    return ids


def _call(env: dict[str, str], calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    params = StdioServerParameters(
        command=AGENTLOG[0], args=[*AGENTLOG[1:], "mcp", "serve"], env=env
    )

    async def drive() -> list[Any]:
        out: list[Any] = []
        async with Client(params, mode="legacy") as client:
            tools = await client.list_tools()
            out.append(sorted(t.name for t in tools.tools))
            for name, args in calls:
                result = await client.call_tool(name, args)
                text = result.content[0].text if result.content else ""  # type: ignore[union-attr]
                out.append((result.is_error, json.loads(text) if not result.is_error else text))
            templates = await client.list_resource_templates()
            out.append([t.uri_template for t in templates.resource_templates])
        return out

    return anyio.run(drive)


def test_serve_answers_sessions_events_search_stats_compare(
    db_path: Path, child_env: dict[str, str]
) -> None:
    ids = _seed(db_path)
    got = _call(
        child_env,
        [
            ("list_sessions", {}),
            ("list_sessions", {"status": "failed"}),
            ("get_session", {"session": ids["bad"]}),
            ("list_events", {"session": ids["bad"], "types": ["ERROR"]}),
            ("search_events", {"text": "declined"}),
            ("list_events", {"session": ids["good"], "limit": 2}),
            ("stats", {"session": ids["bad"]}),
            ("compare_sessions", {"a": ids["good"], "b": ids["bad"]}),
            ("get_session", {"session": "ffffffff"}),
            ("list_events", {"session": ids["good"], "since": "yesterday-ish"}),
            ("list_events", {"session": ids["good"], "types": ["BIG"]}),
        ],
    )
    tools, *answers, templates = got
    assert tools == [
        "compare_sessions",
        "get_event",
        "get_session",
        "list_events",
        "list_sessions",
        "search_events",
        "stats",
    ]
    assert templates == ["agentlog://sessions/{session_id}"]
    (
        everything,
        failed,
        bad,
        errors,
        search,
        first_page,
        stats,
        compare,
        unknown,
        bad_time,
        bad_type,
    ) = answers
    assert {s["title"] for s in everything[1]["sessions"]} == {"good run", "bad run"}
    assert [s["title"] for s in failed[1]["sessions"]] == ["bad run"]
    assert bad[1]["id"] == ids["bad"] and bad[1]["by_type"]["ERROR"] == 1
    assert [e["content"] for e in errors[1]["events"]] == ["card declined"]
    assert [e["session_id"] for e in search[1]["events"]] == [ids["bad"]]
    assert len(first_page[1]["events"]) == 2 and first_page[1]["next_cursor"]
    assert stats[1]["errors"] == 1 and stats[1]["events"] == 5
    assert compare[1]["first_divergence"]["step"] == 3
    assert compare[1]["a"]["tools"] == {"search": 1}
    for answer in (unknown, bad_time, bad_type):
        assert answer[0] is True and "\n" not in answer[1].strip()
    assert "ffffffff" in unknown[1]


def test_serve_pages_by_cursor_and_caps_each_answer(
    db_path: Path, child_env: dict[str, str]
) -> None:
    ids = _seed(db_path)
    got = _call(
        child_env,
        [
            ("list_events", {"session": ids["good"], "content_chars": 65536, "limit": 200}),
        ],
    )
    _, (is_error, page), _ = got
    assert not is_error
    assert len(json.dumps(page)) <= 70_000
    big = [e for e in page["events"] if e["name"] == "big"]
    assert not big or big[0]["content_clipped"]
    # Every event appears once across the pages a client would follow.
    seen = [e["id"] for e in page["events"]]
    cursor = page["next_cursor"]
    while cursor:
        (_, (_, more), _) = _call(
            child_env,
            [("list_events", {"session": ids["good"], "cursor": cursor, "content_chars": 65536})],
        )
        seen += [e["id"] for e in more["events"]]
        cursor = more["next_cursor"]
    assert len(seen) == len(set(seen)) == 5


def test_get_event_returns_full_content_up_to_the_cap(
    db_path: Path, child_env: dict[str, str]
) -> None:
    ids = _seed(db_path)
    store = open_store(str(db_path))
    try:
        from agentlog.storage.base import EventQuery

        (big,) = store.list_events(EventQuery(session_id=ids["good"], names=["big"])).items
    finally:
        store.close()
    _, (is_error, event), _ = _call(child_env, [("get_event", {"event_id": big.id})])
    assert not is_error and event["content_clipped"] and len(event["content"]) == 32768
