"""Hypothesis over the ways in that parse untrusted bytes: the MCP framing and mapping, the
OTLP decoders and the importer. Only clear errors come out (an AgentLogError, or an ERROR event
for MCP), never a crash; every event produced is a valid `Event`; an import either writes
whole valid records or reports them rejected, and never leaves a half-written store.
"""

from __future__ import annotations

from pathlib import Path

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentlog.errors import AgentLogError
from agentlog.mcp.framing import LineFramer, SseFramer
from agentlog.mcp.mapping import McpMapper
from agentlog.model import Event, new_id
from agentlog.otel.decode import decode
from agentlog.storage.base import EventQuery
from agentlog.storage.sqlite.store import SQLiteStore
from agentlog.transfer.importer import import_file

FUZZ = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,  # the same 150 inputs in every CI run; random seeds were run locally
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
jsonrpc = st.fixed_dictionaries(
    {"jsonrpc": st.just("2.0")},
    optional={
        "id": st.integers() | st.text(max_size=8) | st.none(),
        "method": st.sampled_from(
            ["tools/call", "tools/list", "initialize", "tasks/get", "notifications/progress",
             "notifications/cancelled", "elicitation/create"]
        ) | st.text(max_size=12),
        "params": json_values,
        "result": json_values,
        "error": json_values,
    },
)  # fmt: skip


@FUZZ
@given(st.binary(max_size=400), st.integers(min_value=1, max_value=64))
def test_mcp_framing_takes_any_bytes_in_any_chunks(data: bytes, step: int) -> None:
    for framer in (LineFramer(limit=200), SseFramer(limit=200)):
        for i in range(0, len(data), step):
            for piece in framer.feed(data[i : i + step]):
                assert isinstance(piece.data, bytes)


@FUZZ
@given(st.lists(jsonrpc | json_values | st.binary(max_size=40), max_size=8), st.booleans())
def test_mcp_mapping_turns_anything_into_valid_events(messages: list, server_side: bool) -> None:
    mapper = McpMapper(new_id())
    direction = "server->client" if server_side else "client->server"
    for n, message in enumerate(messages):
        raw = message if isinstance(message, bytes) else orjson.dumps(message)
        for event in mapper.feed(raw, direction, at=float(n)):
            assert Event.model_validate(event.model_dump()) == event


@FUZZ
@given(
    st.binary(max_size=300) | json_values.map(orjson.dumps),
    st.sampled_from(["application/x-protobuf", "application/json", "text/plain", None]),
    st.sampled_from([None, "gzip", "br"]),
)
def test_otlp_decode_answers_anything_with_spans_or_a_clear_error(
    body: bytes, ctype: str | None, encoding: str | None
) -> None:
    try:
        spans = decode(body, ctype, encoding)
    except AgentLogError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    for span in spans:
        assert isinstance(span.trace_id, str) and isinstance(span.span_id, str)


@FUZZ
@given(st.lists(json_values | st.text(max_size=60), min_size=1, max_size=6))
def test_import_writes_whole_valid_records_or_rejects_them(tmp_path: Path, lines: list) -> None:
    path = tmp_path / "fuzz.ndjson"
    path.write_bytes(
        b"\n".join(x.encode() if isinstance(x, str) else orjson.dumps(x) for x in lines) + b"\n"
    )
    db = tmp_path / "fuzz.db"
    db.unlink(missing_ok=True)
    with SQLiteStore(db) as store:
        try:
            report = import_file(store, path, fmt="ndjson")
        except AgentLogError as exc:
            assert str(exc) and "\n" not in str(exc)
            assert store.count_events(EventQuery()) == 0  # nothing half-written
            return
        assert store.check() == []
        stored = store.count_events(EventQuery())
        assert stored == report.events.imported
