"""The shared presentation vocabulary: glyphs, distinct agent colours, stale state, short ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agentlog.model import SessionStatus, SessionSummary
from agentlog.present import (
    AGENT_PALETTE,
    TYPES,
    agent_colour,
    agent_colours,
    duration,
    headline,
    one_line,
    plural,
    session_state,
    short_ids,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_the_showcase_agents_get_distinct_colours() -> None:
    # planner and researcher hash to the same slot: within one session they still differ.
    assert agent_colour("planner") == agent_colour("researcher")
    colours = agent_colours(["planner", "researcher", "coder"])
    assert len(set(colours.values())) == 3
    assert colours["planner"] == agent_colour("planner")  # the first keeps its usual colour


def test_more_agents_than_colours_reuse_colours_without_failing() -> None:
    names = [f"agent-{i}" for i in range(len(AGENT_PALETTE) + 3)]
    colours = agent_colours(names)
    assert set(colours) == set(names)
    assert len(set(colours.values())) == len(AGENT_PALETTE)


def test_every_event_type_has_one_glyph() -> None:
    glyphs = [g for g, _, _ in TYPES.values()]
    assert len(glyphs) == len(set(glyphs)) == 10


def _session(status: SessionStatus, last: datetime) -> SessionSummary:
    return SessionSummary(
        title="t", status=status, created_at=last, updated_at=last, last_event_at=last
    )


def test_a_quiet_active_session_is_stale() -> None:
    quiet = _session(SessionStatus.ACTIVE, NOW - timedelta(hours=2))
    assert session_state(quiet, NOW) == "stale"
    assert session_state(quiet, NOW, timedelta(hours=3)) == "active"
    assert session_state(quiet, NOW, None) == "active"
    done = _session(SessionStatus.COMPLETED, NOW - timedelta(days=9))
    assert session_state(done, NOW) == "completed"


def test_short_ids_grow_until_they_differ() -> None:
    ids = ["0190a1b2-c3d4-7000-8000-000000000001", "0190a1b2-c3d5-7000-8000-000000000002"]
    assert short_ids(ids, 8) == 13
    assert short_ids(ids[:1], 8) == 8


def test_words_and_safe_lines() -> None:
    assert plural(1, "session") == "1 session" and plural(2, "error") == "2 errors"
    assert one_line("a\x1b[31mb\nc") == "a␛[31mb ⏎ c"


def test_one_duration_format_for_every_face():
    assert duration(None) == ""
    assert duration(5.25) == "5.2ms"
    assert duration(840) == "840ms"
    assert duration(1200) == "1.2s"
    assert duration(185_000) == "3m05s"
    assert duration(2 * 3600_000 + 600_000) == "2h10m"
    assert duration(3 * 86_400_000 + 4 * 3600_000) == "3d04h"


def _traceback_of(fn) -> str:
    import traceback

    try:
        fn()
    except Exception as exc:
        return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    raise AssertionError("fn did not raise")


def test_headline_puts_a_tracebacks_error_first():
    def explode():
        raise ValueError("node exploded")

    text = _traceback_of(explode)
    assert text.startswith("Traceback (most recent call last):")
    shown = headline(text)
    assert shown.startswith("ValueError: node exploded\nTraceback (most recent call last):")
    assert sorted(shown.splitlines()) == sorted(text.splitlines())  # nothing lost
    assert one_line(shown, 40).startswith("ValueError: node exploded ⏎ ")


def test_headline_of_a_chained_exception_and_a_multi_line_message():
    def chained():
        try:
            {}["key"]
        except KeyError as exc:
            raise RuntimeError("lookup failed\nsecond line") from exc

    shown = headline(_traceback_of(chained))
    assert shown.startswith("RuntimeError: lookup failed\nsecond line\nTraceback")


def test_headline_leaves_other_content_alone():
    for text in (
        None,
        "",
        "plain words",
        "  Traceback (most recent call last):",
        "Traceback (most recent call last):\n  File x",
    ):
        assert headline(text) == text


# ---------------------------------------------------------------- structured content
_CALL = {"id": "call_1", "name": "transfer_to_research_expert", "args": {}}


def test_a_model_calls_preview_is_its_answer_not_its_prompt():
    """The SDK, LangGraph and the OpenAI Agents adapter record {"prompt": ..., "response": ...}:
    every call of one agent starts with the same system prompt, so the answer is what tells
    the rows apart."""
    import orjson

    def body(response):
        prompt = [{"role": "system", "content": "You manage two experts."}]
        return orjson.dumps({"prompt": prompt, "response": response}).decode()

    assert headline(body({"role": "assistant", "content": "231,317 in all"})) == "231,317 in all"
    assert headline(body({"role": "assistant", "content": "", "tool_calls": [_CALL]})) == (
        "→ transfer_to_research_expert()"
    )
    add = {"name": "add", "args": {"a": 1, "b": 2}}
    assert headline(
        body({"role": "assistant", "content": "Let me add.", "tool_calls": [add, _CALL]})
    ) == ('Let me add. → add({"a":1,"b":2}), transfer_to_research_expert()')
    assert headline(body("plain answer")) == "plain answer"
    parts = [
        {"type": "text", "text": "first"},
        {"type": "image_url"},
        {"type": "text", "text": "second"},
    ]
    assert headline(body({"role": "assistant", "content": parts})) == "first second"
    assert headline(body({"role": "tool", "content": "odd"})) == "tool: odd"
    # OpenTelemetry GenAI: {"input": ..., "output": ...}, messages with parts
    otel = {
        "input": [{"role": "user", "parts": [{"type": "text", "content": "hi"}]}],
        "output": [{"role": "assistant", "parts": [{"type": "text", "content": "hello"}]}],
    }
    assert headline(orjson.dumps(otel).decode()) == "hello"


def test_a_graph_state_update_shows_its_newest_message():
    import orjson

    state = {
        "messages": [
            {"role": "user", "content": "How many employees?"},
            {"role": "tool", "content": "Successfully transferred", "name": "transfer_to_x"},
        ],
        "remaining_steps": 10006,
    }
    assert headline(orjson.dumps(state).decode()) == "tool transfer_to_x: Successfully transferred"
    command = {"graph": "__parent__", "goto": ["research_expert"], "update": state}
    assert headline(orjson.dumps(command).decode()) == "goto research_expert"
    assert headline('{"goto": "math_expert", "graph": null}') == "goto math_expert"


def test_other_json_is_shown_as_it_was_recorded():
    for text in (
        '{"hits": 3}',
        '{"messages": []}',
        '{"messages": ["not a message"]}',
        '{"response": {"no": "text"}}',
        '{"prompt": "p"}',
        "{not json",
        '["a", "list"]',
        '{"messages": [{"role": "assistant", "content": ""}]}',
    ):
        assert headline(text) == text, text


def test_a_huge_structured_body_is_not_parsed_for_a_preview():
    import orjson

    big = orjson.dumps({"prompt": "x" * 300_000, "response": "short"}).decode()
    assert headline(big) == big


def test_mcp_messages_preview_what_they_ask_and_answer():
    """Recorded MCP params and results (the proxy, the tracer): the tool and its arguments,
    the answer's text, what a server offers, who is talking."""
    cases = {
        '{"name":"list_directory","arguments":{"path":"/srv/app"}}': (
            'list_directory({"path":"/srv/app"})'
        ),
        '{"content":[{"type":"text","text":"app.py\\nrequirements.txt"}]}': (
            "app.py\nrequirements.txt"
        ),
        '{"content":[{"type":"text","text":"no weather station"}],"isError":true}': (
            "error: no weather station"
        ),
        '{"tools":[{"name":"read_file","inputSchema":{}},{"name":"write_file"}]}': (
            "2 tools: read_file, write_file"
        ),
        '{"prompts":[{"name":"review"}]}': "1 prompt: review",
        '{"resources":[{"uri":"file:///a","name":"a"}]}': "1 resource: file:///a",
        '{"contents":[{"uri":"file:///a","text":"hello"}]}': "hello",
        '{"protocolVersion":"2025-06-18","serverInfo":{"name":"filesystem","version":"0.6.2"}}': (
            "filesystem 0.6.2"
        ),
        '{"_meta":{"io.modelcontextprotocol/clientInfo":{"name":"mcp","version":"0.1.0"}}}': (
            "mcp 0.1.0"
        ),
        '{"code":-32602,"message":"Unknown tool: nope"}': "error -32602: Unknown tool: nope",
    }
    for content, shown in cases.items():
        assert headline(content) == shown, content
