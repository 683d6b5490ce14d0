"""The pure MCP mapping on single frames: pairing by (direction, id), tool calls, hostile input."""

from __future__ import annotations

import orjson

from agentlog.mcp import CLIENT_TO_SERVER as C2S
from agentlog.mcp import SERVER_TO_CLIENT as S2C
from agentlog.mcp import McpMapper, parse, tool_drift, tool_hash
from agentlog.mcp.frames import MAX_FRAME_BYTES
from agentlog.model import EventType, new_id


def _msg(**fields: object) -> bytes:
    return orjson.dumps({"jsonrpc": "2.0", **fields})


def _mapper() -> McpMapper:
    return McpMapper(new_id())


def test_int_and_string_ids_never_pair() -> None:
    m = _mapper()
    m.feed(_msg(id=1, method="tools/call", params={"name": "a", "arguments": {}}), C2S, at=10.0)
    (stray,) = m.feed(_msg(id="1", result={"content": []}), S2C, at=10.5)
    assert stray.metadata["unpaired"] is True and stray.parent_id is None
    events = m.feed(_msg(id=1, result={"content": []}), S2C, at=11.0)
    assert [e.type for e in events] == [EventType.MCP_MESSAGE, EventType.TOOL_RESULT]
    assert events[1].duration_ms == 1000.0


def test_same_id_both_directions_pairs_each_with_its_own_request() -> None:
    m = _mapper()
    (req_c,) = m.feed(_msg(id=7, method="ping"), C2S, at=1.0)
    (req_s,) = m.feed(_msg(id=7, method="roots/list"), S2C, at=1.1)
    (ans_s,) = m.feed(_msg(id=7, result={"roots": []}), C2S, at=1.2)
    (ans_c,) = m.feed(_msg(id=7, result={}), S2C, at=1.3)
    assert ans_s.parent_id == req_s.id and ans_s.name == "roots/list"
    assert ans_c.parent_id == req_c.id and ans_c.name == "ping"
    assert m.pending_count() == 0


def test_tool_call_success_is_error_result_and_jsonrpc_error() -> None:
    m = _mapper()
    req, call = m.feed(
        _msg(id=1, method="tools/call", params={"name": "add", "arguments": {"a": 1}}), C2S, at=0
    )
    assert call.type is EventType.TOOL_CALL and call.name == "add" and call.parent_id == req.id
    assert orjson.loads(call.content or "") == {"a": 1}
    _, ok = m.feed(_msg(id=1, result={"content": [{"type": "text", "text": "2"}]}), S2C, at=0.25)
    assert ok.type is EventType.TOOL_RESULT and ok.parent_id == call.id and ok.duration_ms == 250

    _, call2 = m.feed(_msg(id=2, method="tools/call", params={"name": "x"}), C2S, at=1)
    _, soft = m.feed(_msg(id=2, result={"content": [], "isError": True}), S2C, at=2)
    assert soft.type is EventType.ERROR and soft.status == "error" and soft.parent_id == call2.id

    _, call3 = m.feed(_msg(id=3, method="tools/call", params={"name": "nope"}), C2S, at=3)
    resp, hard = m.feed(_msg(id=3, error={"code": -32602, "message": "Unknown tool"}), S2C, at=4)
    assert resp.status == "error" and hard.type is EventType.ERROR
    assert hard.metadata["code"] == -32602 and hard.parent_id == call3.id


def test_malformed_frames_become_errors_with_raw_text() -> None:
    m = _mapper()
    cases = [
        b"not json at all",
        b'{"jsonrpc": "2.0", "id": 1, "method": "tools/ca',  # truncated
        b'{"jsonrpc": "1.0", "id": 1, "method": "ping"}',
        b'{"jsonrpc": "2.0"}',
        b"[]",
        b'"a string"',
        b'{"jsonrpc": "2.0", "id": true, "method": "ping"}',
        b'{"jsonrpc": "2.0", "id": 1, "method": 5}',
        b"\xff\xfe\x00garbage",
    ]
    for raw in cases:
        (event,) = m.feed(raw, S2C)
        assert event.type is EventType.ERROR and event.status == "error", raw
        assert event.content and event.metadata["problem"]
    big = b"x" * (MAX_FRAME_BYTES + 1)
    (event,) = m.feed(big, S2C)
    assert event.type is EventType.ERROR and "limit" in event.metadata["problem"]
    assert len((event.content or "").encode()) <= 1024 * 1024


def test_batch_members_each_recorded_and_paired() -> None:
    m = _mapper()
    batch = orjson.dumps(
        [
            {"jsonrpc": "2.0", "id": 1, "method": "ping"},
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
            {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "t"}},
            5,
        ]
    )
    events = m.feed(batch, C2S, at=0)
    kinds = [(e.type, e.metadata.get("batch_index")) for e in events]
    assert kinds[0] == (EventType.MCP_MESSAGE, 0)
    assert (EventType.TOOL_CALL, None) in kinds and kinds[-1] == (EventType.ERROR, 3)
    answers = m.feed(
        orjson.dumps(
            [{"jsonrpc": "2.0", "id": 2, "result": {}}, {"jsonrpc": "2.0", "id": 1, "result": {}}]
        ),
        S2C,
        at=1,
    )
    assert [e.type for e in answers] == [
        EventType.MCP_MESSAGE,
        EventType.TOOL_RESULT,
        EventType.MCP_MESSAGE,
    ]
    assert m.pending_count() == 0


def test_progress_and_cancel_link_to_the_call_and_late_result_is_kept() -> None:
    m = _mapper()
    params = {"name": "slow", "arguments": {}, "_meta": {"progressToken": 99}}
    _, call = m.feed(_msg(id=5, method="tools/call", params=params), C2S, at=0)
    (progress,) = m.feed(
        _msg(method="notifications/progress", params={"progressToken": 99, "progress": 1}), S2C
    )
    assert progress.parent_id == call.id
    (cancel,) = m.feed(
        _msg(method="notifications/cancelled", params={"requestId": 5, "reason": "x"}), C2S
    )
    assert cancel.parent_id == call.id
    resp, late = m.feed(_msg(id=5, result={"content": []}), S2C, at=2)
    assert resp.metadata["after_cancel"] and late.metadata["after_cancel"]
    assert late.parent_id == call.id


def test_handshake_context_and_agent_from_client_info() -> None:
    m = _mapper()
    m.feed(
        _msg(
            id=0,
            method="initialize",
            params={
                "protocolVersion": "2025-06-18",
                "capabilities": {"roots": {}},
                "clientInfo": {"name": "cursor", "version": "1.2"},
            },
        ),
        C2S,
    )
    m.feed(
        _msg(
            id=0,
            result={
                "protocolVersion": "2025-06-18",
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "time", "version": "0.1"},
            },
        ),
        S2C,
    )
    assert m.agent_id == "cursor"
    assert m.context["protocol_version"] == "2025-06-18" and m.context["era"] == "handshake"
    assert m.context["server"] == {"name": "time", "version": "0.1"}
    assert m.context["client_capabilities"] == {"roots": {}}
    given = McpMapper(new_id(), agent_id="mine")
    given.feed(_msg(id=0, method="initialize", params={"clientInfo": {"name": "other"}}), C2S)
    assert given.agent_id == "mine"


def test_stateless_meta_fills_context() -> None:
    m = _mapper()
    meta = {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "c", "version": "9"},
        "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}},
    }
    m.feed(_msg(id=1, method="server/discover", params={"_meta": meta}), C2S)
    m.feed(
        _msg(
            id=1,
            result={
                "supportedVersions": ["2026-07-28"],
                "capabilities": {},
                "serverInfo": {"name": "s", "version": "1"},
                "resultType": "complete",
            },
        ),
        S2C,
    )
    assert m.context["era"] == "stateless" and m.context["protocol_version"] == "2026-07-28"
    assert m.context["server"]["name"] == "s" and m.context["client"]["name"] == "c"


def test_input_required_retry_is_one_logical_call() -> None:
    m = _mapper()
    _, call = m.feed(
        _msg(id=1, method="tools/call", params={"name": "book", "arguments": {"d": 1}}), C2S, at=0
    )
    (first,) = m.feed(
        _msg(
            id=1, result={"resultType": "input_required", "requestState": "s1", "inputRequests": {}}
        ),
        S2C,
        at=1,
    )
    assert first.type is EventType.MCP_MESSAGE
    retry = m.feed(
        _msg(
            id=2,
            method="tools/call",
            params={
                "name": "book",
                "arguments": {"d": 1},
                "inputResponses": {},
                "requestState": "s1",
            },
        ),
        C2S,
        at=5,
    )
    assert [e.type for e in retry] == [EventType.MCP_MESSAGE]  # no second TOOL_CALL
    assert retry[0].metadata["retry_of"]
    _, done = m.feed(_msg(id=2, result={"content": [], "resultType": "complete"}), S2C, at=6)
    assert done.type is EventType.TOOL_RESULT and done.parent_id == call.id
    assert done.duration_ms == 6000


def test_ambiguous_retry_without_state_is_not_linked() -> None:
    m = _mapper()
    for i in (1, 2):
        m.feed(_msg(id=i, method="tools/call", params={"name": "t"}), C2S, at=0)
        m.feed(_msg(id=i, result={"resultType": "input_required", "inputRequests": {"k": {}}}), S2C)
    events = m.feed(
        _msg(id=3, method="tools/call", params={"name": "t", "inputResponses": {}}), C2S
    )
    assert events[0].metadata["retry_link"] == "ambiguous"
    assert events[1].type is EventType.TOOL_CALL


def test_task_polled_to_completion_closes_the_call() -> None:
    m = _mapper()
    _, call = m.feed(
        _msg(id=1, method="tools/call", params={"name": "long", "task": {"ttl": 1000}}), C2S, at=0
    )
    (created,) = m.feed(
        _msg(id=1, result={"task": {"taskId": "T1", "status": "working"}}), S2C, at=0.1
    )
    assert created.type is EventType.MCP_MESSAGE
    (poll,) = m.feed(_msg(id=2, method="tasks/get", params={"taskId": "T1"}), C2S, at=1)
    assert poll.parent_id == call.id
    m.feed(_msg(id=2, result={"taskId": "T1", "status": "completed"}), S2C, at=1.1)
    m.feed(_msg(id=3, method="tasks/result", params={"taskId": "T1"}), C2S, at=2)
    _, final = m.feed(_msg(id=3, result={"content": [{"type": "text", "text": "ok"}]}), S2C, at=3)
    assert final.type is EventType.TOOL_RESULT and final.parent_id == call.id
    assert final.duration_ms == 3000


def test_tool_hashes_and_drift() -> None:
    m = _mapper()
    tools = [{"name": "a", "description": "A", "inputSchema": {"type": "object"}}]
    m.feed(_msg(id=1, method="tools/list"), C2S)
    (listed,) = m.feed(_msg(id=1, result={"tools": tools}), S2C)
    assert listed.metadata["tool_hashes"] == {"a": tool_hash(tools[0])}
    changed = dict(tools[0], description="A, now different")
    assert tool_hash(changed) != tool_hash(tools[0])
    drift = tool_drift({"a": tool_hash(tools[0]), "b": "x"}, {"a": tool_hash(changed), "c": "y"})
    assert drift == {"added": ["c"], "removed": ["b"], "changed": ["a"]}


def test_parse_accepts_dicts_text_and_bytes_alike() -> None:
    one = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    assert parse(one)[0].kind == "request"
    assert parse(orjson.dumps(one).decode())[0].kind == "request"
    assert parse(bytearray(orjson.dumps(one)))[0].id == 1
    assert parse({"jsonrpc": "2.0", "method": "x"})[0].kind == "notification"


def test_mapping_imports_neither_the_mcp_package_nor_frameworks() -> None:
    import subprocess
    import sys

    probe = "import agentlog.mcp, sys; print('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    roots = {m.split(".")[0] for m in out.stdout.split()}
    assert not roots & {"mcp", "typer", "textual", "fastapi", "starlette", "anyio"}


def test_events_built_without_validation_are_what_validation_gives() -> None:
    """The mapping builds events directly (for speed); each must equal its validated copy."""
    from agentlog.model import NUL_STANDIN, Event

    m = McpMapper(new_id().upper(), agent_id="agent\x00one")
    hostile = "tool\x00é" + "x" * 3000
    frames: list[tuple[object, str]] = [
        ({"jsonrpc": "2.0", "id": 1, "method": hostile, "params": {"a": "\x00"}}, C2S),
        ({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": hostile}}, C2S),
        ({"jsonrpc": "2.0", "id": "é\x00" * 300, "method": "ping"}, C2S),
        ({"jsonrpc": "2.0", "id": 4, "result": {"content": [], "isError": True}}, S2C),
        (b'{"jsonrpc":"2.0","id":3,"method":"x\\u0000y"}', C2S),
        (b"not json \x00 \xff", S2C),
    ]
    events = [e for message, direction in frames for e in m.feed(message, direction, at=5.0)]
    assert len(events) >= 6 and any(e.type == EventType.TOOL_CALL for e in events)
    for event in events:
        assert Event.model_validate(event.model_dump()) == event
        for text in (event.name or "", event.agent_id or "", event.content or ""):
            assert "\x00" not in text and "\ud800" not in text
    assert events[0].agent_id == f"agent{NUL_STANDIN}one"
    assert events[0].session_id == events[0].session_id.lower()
