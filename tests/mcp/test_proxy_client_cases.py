"""The real `mcp.Client` through the proxy in the harder cases: concurrency, retries, odd servers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import mcp_types
import pytest
from mcp import Client, StdioServerParameters

from agentlog.model import Event, EventType
from agentlog.storage import open_store
from agentlog.storage.base import EventQuery, SessionQuery
from tests.mcp.conftest import AGENTLOG, TOOLS_SERVER


def _params(env: dict[str, str]) -> StdioServerParameters:
    command = [*AGENTLOG, "mcp", "proxy", "--", *TOOLS_SERVER]
    return StdioServerParameters(command=command[0], args=command[1:], env=env)


def _sessions(db: Path) -> list[tuple[Any, list[Event]]]:
    store = open_store(str(db))
    try:
        out = []
        for session in reversed(store.list_sessions(SessionQuery()).items):
            query = EventQuery(session_id=session.id, order="asc", limit=1000)
            out.append((session, list(store.list_events(query).items)))
        return out
    finally:
        store.close()


def _answers(events: list[Event]) -> dict[str, Event]:
    """Each TOOL_CALL's answer (TOOL_RESULT or ERROR), keyed by the call's id."""
    return {
        e.parent_id: e
        for e in events
        if e.type in (EventType.TOOL_RESULT, EventType.ERROR) and e.parent_id
    }


def test_concurrent_in_flight_calls_pair_correctly(
    db_path: Path, child_env: dict[str, str]
) -> None:
    async def drive() -> list[str]:
        results: list[str] = [""] * 6
        async with Client(_params(child_env), mode="legacy") as client:

            async def one(i: int) -> None:
                seconds = 0.05 * (6 - i)  # later calls finish first
                got = await client.call_tool("slow", {"seconds": seconds})
                results[i] = got.content[0].text  # type: ignore[union-attr]

            async with anyio.create_task_group() as tg:
                for i in range(6):
                    tg.start_soon(one, i)
        return results

    results = anyio.run(drive)
    assert results == [f"slept {0.05 * (6 - i)}" for i in range(6)]
    ((_, events),) = _sessions(db_path)
    calls = [e for e in events if e.type is EventType.TOOL_CALL]
    answers = _answers(events)
    assert len(calls) == 6 and all(c.id in answers for c in calls)
    for call in calls:
        seconds = float(call.content.split(":")[1].rstrip("}"))  # type: ignore[union-attr]
        answer = answers[call.id]
        assert f"slept {seconds}" in (answer.content or "")
        assert answer.duration_ms is not None and answer.duration_ms >= seconds * 1000 * 0.9


def test_input_required_retry_chain_is_one_call(db_path: Path, child_env: dict[str, str]) -> None:
    asked: list[str] = []

    async def elicit(context: Any, params: Any) -> mcp_types.ElicitResult:
        asked.append(params.message)
        await anyio.sleep(0.2)  # the user thinks
        return mcp_types.ElicitResult(action="accept", content={"ok": True})

    async def drive() -> str:
        async with Client(_params(child_env), mode="auto", elicitation_callback=elicit) as client:
            got = await client.call_tool("confirm", {"item": "tea"})
            return got.content[0].text  # type: ignore[union-attr]

    assert anyio.run(drive) == "ordered tea" and asked == ["Really order tea?"]
    ((_, events),) = _sessions(db_path)
    requests = [e for e in events if e.name == "tools/call" and e.metadata["mcp"] == "request"]
    assert len(requests) == 2  # the first call and its retry under a new id
    assert requests[0].metadata["jsonrpc_id"] != requests[1].metadata["jsonrpc_id"]
    assert requests[1].metadata["retry_of"] == requests[0].id
    (call,) = [e for e in events if e.type is EventType.TOOL_CALL]
    answer = _answers(events)[call.id]
    assert answer.type is EventType.TOOL_RESULT and "ordered tea" in (answer.content or "")
    assert answer.duration_ms is not None and answer.duration_ms >= 200  # includes think time


def test_server_printing_non_json_to_stdout(db_path: Path, child_env: dict[str, str]) -> None:
    env = dict(child_env, AGENTLOG_TEST_BANNER="this is not json")

    async def drive() -> str:
        async with Client(_params(env), mode="legacy") as client:
            got = await client.call_tool("echo", {"text": "still fine"})
            return got.content[0].text  # type: ignore[union-attr]

    assert anyio.run(drive) == "still fine"
    ((_, events),) = _sessions(db_path)
    junk = [e for e in events if e.name == "mcp.invalid_frame"]
    assert [e.content for e in junk] == ["this is not json"]
    assert junk[0].metadata["direction"] == "server->client"
    (call,) = [e for e in events if e.type is EventType.TOOL_CALL]
    assert _answers(events)[call.id].type is EventType.TOOL_RESULT


def test_server_crash_mid_call_with_a_real_client(db_path: Path, child_env: dict[str, str]) -> None:
    async def drive() -> None:
        async with Client(_params(child_env), mode="legacy", read_timeout_seconds=20) as client:
            await client.call_tool("crash", {})

    with pytest.raises(BaseException):  # noqa: B017 - the client's own error for a dead server
        anyio.run(drive)
    ((session, events),) = _sessions(db_path)
    assert session.status == "failed"
    (call,) = [e for e in events if e.type is EventType.TOOL_CALL]
    error = _answers(events)[call.id]
    assert error.type is EventType.ERROR and error.metadata["unanswered"]


def test_tool_list_change_between_two_sessions_is_flagged(
    db_path: Path, child_env: dict[str, str]
) -> None:
    async def drive(env: dict[str, str]) -> None:
        async with Client(_params(env), mode="legacy") as client:
            await client.list_tools()

    anyio.run(drive, child_env)
    anyio.run(drive, child_env)
    anyio.run(drive, dict(child_env, AGENTLOG_TEST_TOOLS_V2="1"))
    (first, _), (same, same_events), (changed, changed_events) = _sessions(db_path)
    assert "tools_drift" not in first.metadata["mcp"]
    assert same.metadata["mcp"]["tools_drift"] == {
        "previous_session": first.id,
        "added": [],
        "removed": [],
        "changed": [],
    }
    drift = changed.metadata["mcp"]["tools_drift"]
    assert drift["previous_session"] == same.id and drift["changed"] == ["add"]
    (flag,) = [e for e in changed_events if e.name == "mcp.tools_changed"]
    assert flag.metadata["changed"] == ["add"]
    assert not [e for e in same_events if e.name == "mcp.tools_changed"]


async def _cancel_then_call(params: StdioServerParameters) -> str:
    async with Client(params, mode="legacy") as client:
        with anyio.move_on_after(0.3):
            await client.call_tool("slow", {"seconds": 0.6})
        await anyio.sleep(0.6)  # the server may still answer the cancelled call: let it race
        after = await client.call_tool("echo", {"text": "still here"})
        return str(after.content[0].text)


def test_a_cancel_racing_the_result_links_to_the_call(
    db_path: Path, child_env: dict[str, str]
) -> None:
    assert anyio.run(_cancel_then_call, _params(child_env)) == "still here"
    ((session, events),) = _sessions(db_path)
    assert session.status == "completed"
    calls = {e.name: e for e in events if e.type == EventType.TOOL_CALL}
    (cancel,) = [e for e in events if e.name == "notifications/cancelled"]
    assert cancel.metadata["direction"] == "client->server"
    assert cancel.parent_id == calls["slow"].id
    assert cancel.metadata["cancels"] == calls["slow"].parent_id  # the tools/call request
    # Whichever won the race is kept, marked: a late result, or (the server dropped the
    # call, as the spec asks) one ERROR at the end saying the caller cancelled it.
    (answer,) = [
        e for e in events if e.parent_id == calls["slow"].id and e.type != EventType.MCP_MESSAGE
    ]
    if answer.metadata.get("after_cancel"):
        assert answer.type in (EventType.TOOL_RESULT, EventType.ERROR)
    else:
        assert answer.type == EventType.ERROR and answer.metadata["cancelled"] is True
        assert answer.content is not None and answer.content.startswith("cancelled by the caller")
    assert _answers(events)[calls["echo"].id].type == EventType.TOOL_RESULT
