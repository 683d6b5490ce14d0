"""The SDK's API against an in-memory Store: what each helper records."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from agentlog.model import EventType


def test_session_helpers_record_typed_events(make_log, fake):
    log = make_log(store=fake, agent_id="default-agent")
    with log.session("triage bot", tags=["eval"], agent_id="planner") as s:
        uid = s.user_input("why did the deploy fail?")
        s.llm_call(
            model="gpt-4o",
            prompt="p",
            response="r",
            input_tokens=812,
            output_tokens=96,
            cost_usd=0.0031,
            duration_ms=840,
            parent_id=uid,
        )
        s.agent_output("the migration timed out")
        s.mcp_message("tools/list", {"jsonrpc": "2.0"}, direction="incoming")
        s.state_update({"step": 2}, name="node")
        s.log("hello", level="debug")
        s.handoff(to_agent="researcher")
        s.error("plain message")
    assert log.flush(5)
    events = fake.ordered(s.id)
    assert [e.type for e in events] == [
        EventType.USER_INPUT,
        EventType.LLM_CALL,
        EventType.AGENT_OUTPUT,
        EventType.MCP_MESSAGE,
        EventType.STATE_UPDATE,
        EventType.LOG,
        EventType.HANDOFF,
        EventType.ERROR,
    ]
    assert all(e.agent_id == "planner" for e in events)
    llm = events[1]
    assert (llm.name, llm.input_tokens, llm.output_tokens, llm.cost_usd, llm.duration_ms) == (
        "gpt-4o",
        812,
        96,
        0.0031,
        840,
    )
    assert orjson.loads(llm.content) == {"prompt": "p", "response": "r"}
    assert llm.parent_id == uid
    assert events[3].metadata == {"direction": "incoming"} and events[3].name == "tools/list"
    assert orjson.loads(events[4].content) == {"step": 2}
    assert events[5].metadata == {"level": "debug"}
    assert events[6].metadata == {"from_agent": "planner", "to_agent": "researcher"}
    assert events[7].status == "error"
    session = fake.sessions[s.id]
    assert session.title == "triage bot" and session.tags == ["eval"]
    assert session.status == "completed" and session.ended_at is not None
    assert session.metadata["agentlog"]["sdk"] == "python"


def test_event_returns_id_and_accepts_every_field(make_log, fake):
    log = make_log(store=fake)
    s = log.session("generic")
    eid = s.event(
        "tool-call",
        {"a": 1},
        name="calc",
        agent_id="x",
        metadata={"k": "v"},
        duration_ms=3.5,
        status="error",
        input_tokens=1,
        output_tokens=2,
        cost_usd=0.5,
        timestamp="2026-01-02T03:04:05.123456Z",
    )
    s.end()
    assert log.flush(5)
    e = fake.events[eid]
    assert e.type == EventType.TOOL_CALL and e.name == "calc" and e.agent_id == "x"
    assert e.timestamp.isoformat() == "2026-01-02T03:04:05.123456+00:00"
    assert (e.duration_ms, e.status, e.input_tokens, e.output_tokens, e.cost_usd) == (
        3.5,
        "error",
        1,
        2,
        0.5,
    )


def test_content_is_snapshotted_at_call_time(make_log, fake):
    log = make_log(store=fake)
    with log.session("t") as s:
        state = {"n": 1}
        meta = {"m": 1}
        eid = s.state_update(state, metadata=meta)
        state["n"] = 2
        meta["m"] = 2
    log.flush(5)
    assert orjson.loads(fake.events[eid].content) == {"n": 1}
    assert fake.events[eid].metadata == {"m": 1}


def test_failed_session_logs_the_exception_and_reraises(make_log, fake):
    log = make_log(store=fake)
    with pytest.raises(KeyError), log.session("boom") as s:
        raise KeyError("missing")
    log.flush(5)
    assert fake.sessions[s.id].status == "failed"
    (err,) = fake.ordered(s.id)
    assert err.type == EventType.ERROR and "KeyError" in err.content
    assert err.metadata["exception"] == "KeyError"


def test_tool_call_is_timed_and_threads_parent_ids(make_log, fake):
    import time

    log = make_log(store=fake)
    with log.session("tools") as s:
        with s.tool_call("search_logs", {"q": "deploy"}) as call:
            inner = s.log("inside the tool", parent_id=call.id)
            time.sleep(0.02)
            call.result({"hits": 3})
    log.flush(5)
    tool, nested, result = fake.ordered(s.id)
    assert tool.id == call.id and tool.type == EventType.TOOL_CALL
    assert tool.name == "search_logs" and orjson.loads(tool.content) == {"q": "deploy"}
    assert tool.duration_ms >= 20 and tool.status == "ok"
    assert nested.id == inner and nested.parent_id == call.id
    assert result.type == EventType.TOOL_RESULT and result.parent_id == call.id
    assert orjson.loads(result.content) == {"hits": 3}


def test_tool_call_exception_is_error_and_reraised(make_log, fake):
    log = make_log(store=fake)
    with log.session("tools") as s:
        with pytest.raises(ValueError), s.tool_call("flaky") as call:
            raise ValueError("bad input")
    log.flush(5)
    assert fake.sessions[s.id].status == "completed"  # handled inside the session
    tool, err = fake.ordered(s.id)
    assert tool.status == "error"
    assert err.type == EventType.ERROR and err.parent_id == call.id and err.name == "flaky"
    assert "ValueError: bad input" in err.content


def test_child_session_and_handoff(make_log, fake):
    log = make_log(store=fake)
    with log.session("parent", agent_id="planner") as s:
        child = s.child("researcher")
        with child:
            child.log("researching")
        s.handoff(to_agent="researcher", child_session_id=child.id)
    log.flush(5)
    row = fake.sessions[child.id]
    assert row.parent_session_id == s.id and row.title == "researcher"
    assert fake.ordered(child.id)[0].agent_id == "researcher"
    (handoff,) = fake.ordered(s.id)
    assert handoff.metadata["child_session_id"] == child.id


def test_integration_is_recorded_in_session_metadata(make_log, fake):
    log = make_log(store=fake, integration="langgraph", integration_version="0.2.1")
    s = log.session("graph")
    other = log.session("override", integration="mcp")
    s.end()
    other.end()
    log.flush(5)
    info = fake.sessions[s.id].metadata["agentlog"]
    assert info["integration"] == "langgraph" and info["integration_version"] == "0.2.1"
    assert info["version"]
    assert fake.sessions[other.id].metadata["agentlog"]["integration"] == "mcp"


def test_decorator_sync_inside_and_outside_a_session(make_log, fake):
    log = make_log(store=fake)

    @log.tool
    def add(a, b=2):
        return a + b

    @log.tool("divide")
    def div(a, b):
        return a / b

    @log.tool(name="multiply")
    def mul(a, b):
        return a * b

    with log.session("calc") as s:
        assert add(1, b=5) == 6
        with pytest.raises(ZeroDivisionError):
            div(1, 0)
        assert mul(2, 3) == 6
    assert add(10) == 12  # no session: one is made for the call
    log.flush(5)
    events = fake.ordered(s.id)
    assert [(e.type, e.name) for e in events] == [
        (EventType.TOOL_CALL, "add"),
        (EventType.TOOL_RESULT, "add"),
        (EventType.TOOL_CALL, "divide"),
        (EventType.ERROR, "divide"),
        (EventType.TOOL_CALL, "multiply"),
        (EventType.TOOL_RESULT, "multiply"),
    ]
    assert orjson.loads(events[0].content) == {"a": 1, "b": 5}
    assert events[1].content == "6"
    own = [x for x in fake.sessions.values() if x.title.endswith("add")]
    assert len(own) == 1 and own[0].status == "completed"
    assert [e.type for e in fake.ordered(own[0].id)] == [EventType.TOOL_CALL, EventType.TOOL_RESULT]


def test_decorator_async(make_log, fake):
    log = make_log(store=fake)

    @log.tool
    async def fetch(url):
        await asyncio.sleep(0.001)
        return {"url": url}

    @log.tool
    async def broken():
        raise RuntimeError("nope")

    async def main():
        with log.session("async") as s:
            await asyncio.gather(fetch("a"), fetch("b"))
            with pytest.raises(RuntimeError):
                await broken()
        return s

    s = asyncio.run(main())
    log.flush(5)
    types = [e.type for e in fake.ordered(s.id)]
    assert types.count(EventType.TOOL_CALL) == 3
    assert types.count(EventType.TOOL_RESULT) == 2
    assert types.count(EventType.ERROR) == 1
    assert fake.sessions[s.id].status == "completed"


def test_decorated_method_does_not_record_self(make_log, fake):
    log = make_log(store=fake)

    class Tools:
        @log.tool
        def lookup(self, key):
            return key.upper()

    with log.session("m") as s:
        Tools().lookup("k")
    log.flush(5)
    assert orjson.loads(fake.ordered(s.id)[0].content) == {"key": "k"}
