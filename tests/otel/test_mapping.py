"""The span -> event mapping: GenAI conventions (current and legacy), OpenInference, ids."""

from __future__ import annotations

from agentlog.model import EventStatus, EventType
from agentlog.otel.mapping import Span, SpanEvent, event_id, map_spans

TRACE = "5b8efff798038103d269b633813fc60c"


def _span(span_id: str, name: str, attrs: dict, parent: str = "", status: int = 0) -> Span:
    return Span(
        trace_id=TRACE,
        span_id=span_id,
        parent_span_id=parent,
        name=name,
        start_unix_nano=1_700_000_000_000_000_000,
        end_unix_nano=1_700_000_000_250_000_000,
        attributes=attrs,
        status_code=status,
    )


def test_genai_chat_tool_and_agent_spans_map_to_events() -> None:
    spans = [
        _span(
            "eee19b7ec3c1b174",
            "invoke_agent weather",
            {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "weather"},
        ),
        _span(
            "eee19b7ec3c1b175",
            "chat gpt-4o",
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.usage.input_tokens": 12,
                "gen_ai.usage.output_tokens": 7,
                "gen_ai.usage.cache_read.input_tokens": 3,
            },
            parent="eee19b7ec3c1b174",
        ),
        _span(
            "eee19b7ec3c1b176",
            "execute_tool get_weather",
            {
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "get_weather",
                "gen_ai.tool.call.arguments": '{"city": "Paris"}',
                "gen_ai.tool.call.result": "rainy",
            },
            parent="eee19b7ec3c1b174",
            status=2,
        ),
    ]
    mapped = map_spans(spans)
    assert not mapped.rejected
    assert len(mapped.sessions) == 1
    kinds = [(e.type, e.name) for e in mapped.events]
    assert kinds == [
        (EventType.HANDOFF, "weather"),
        (EventType.LLM_CALL, "gpt-4o"),
        (EventType.TOOL_CALL, "get_weather"),
        (EventType.TOOL_RESULT, "get_weather"),
    ]
    agent, chat, call, result = mapped.events
    assert chat.input_tokens == 12 and chat.output_tokens == 7
    assert chat.parent_id == agent.id == event_id(TRACE, "eee19b7ec3c1b174")
    assert chat.cache_read_tokens == 3  # a first-class field, not left in metadata
    assert "gen_ai.usage.cache_read.input_tokens" not in chat.metadata["attributes"]
    assert chat.metadata["attributes"]["gen_ai.provider.name"] == "openai"
    assert call.content == '{"city":"Paris"}' and result.content == "rainy"
    assert result.parent_id == call.id and call.status == EventStatus.ERROR
    assert chat.duration_ms == 250.0


def test_legacy_keys_openinference_and_session_id() -> None:
    spans = [
        _span(
            "0000000000000001",
            "ChatOpenAI",
            {
                "openinference.span.kind": "LLM",
                "llm.model_name": "gpt-4o-mini",
                "llm.token_count.prompt": 5,
                "llm.token_count.completion": 2,
                "session.id": "conv-42",
            },
        ),
        _span(
            "0000000000000002",
            "openai.chat",
            {
                "gen_ai.system": "openai",
                "gen_ai.request.model": "gpt-3.5",
                "gen_ai.usage.prompt_tokens": 9,
                "gen_ai.usage.completion_tokens": 4,
                "gen_ai.prompt.0.role": "user",
                "gen_ai.prompt.0.content": "hi",
                "gen_ai.completion.0.content": "hello",
                "gen_ai.conversation.id": "conv-42",
            },
        ),
    ]
    mapped = map_spans(spans)
    assert len(mapped.sessions) == 1  # both join the named conversation
    oi, legacy = mapped.events
    assert (oi.type, oi.name, oi.input_tokens, oi.output_tokens) == (
        EventType.LLM_CALL,
        "gpt-4o-mini",
        5,
        2,
    )
    assert (legacy.input_tokens, legacy.output_tokens) == (9, 4)
    assert "hello" in (legacy.content or "") and "hi" in (legacy.content or "")


def test_content_in_span_events_and_exceptions() -> None:
    span = _span(
        "0000000000000003",
        "chat m",
        {"gen_ai.operation.name": "chat", "gen_ai.request.model": "m"},
        status=2,
    )
    span.events = [
        SpanEvent(
            "gen_ai.client.inference.operation.details",
            1_700_000_000_100_000_000,
            {
                "gen_ai.input.messages": '[{"role":"user","parts":[{"type":"text","content":"q"}]}]',
                "gen_ai.output.messages": '[{"role":"assistant","parts":[]}]',
            },
        ),
        SpanEvent(
            "exception",
            1_700_000_000_200_000_000,
            {"exception.type": "TimeoutError", "exception.message": "took too long"},
        ),
    ]
    mapped = map_spans([span])
    llm, err = mapped.events
    assert '"q"' in (llm.content or "") and llm.status == EventStatus.ERROR
    assert (err.type, err.name, err.content) == (EventType.ERROR, "TimeoutError", "took too long")


def test_resent_batch_maps_to_same_ids() -> None:
    span = _span("00000000000000aa", "step", {"openinference.span.kind": "CHAIN"})
    first = [e.id for e in map_spans([span]).events]
    again = [e.id for e in map_spans([span]).events]
    assert first == again
    assert map_spans([span]).events[0].type == EventType.STATE_UPDATE


def test_mcp_span_is_mcp_message() -> None:
    span = _span("00000000000000ab", "tools/call add", {"mcp.method.name": "tools/call"})
    assert map_spans([span]).events[0].type == EventType.MCP_MESSAGE


def test_children_join_the_session_named_in_their_batch() -> None:
    root = _span("00000000000000b1", "workflow", {"gen_ai.conversation.id": "c-9"})
    child = _span("00000000000000b2", "chat", {"gen_ai.request.model": "m"}, parent=root.span_id)
    mapped = map_spans([child, root])
    assert len({e.session_id for e in mapped.events}) == 1
    assert next(iter(mapped.sessions.values())).title == "c-9"


def test_session_title_attribute_wins_over_the_root_span_name() -> None:
    """agentlog's own export names the title in the resource; another producer may use a span."""
    on_resource = _span("eee19b7ec3c1b174", "ls", {})
    on_resource.resource = {"service.name": "agentlog", "agentlog.session.title": "Fix the build"}
    assert map_spans([on_resource]).sessions.popitem()[1].title == "Fix the build"
    on_span = _span("eee19b7ec3c1b174", "ls", {"agentlog.session.title": "Triage"})
    assert map_spans([on_span]).sessions.popitem()[1].title == "Triage"
    plain = _span("eee19b7ec3c1b174", "ls", {})
    assert map_spans([plain]).sessions.popitem()[1].title == "ls"


def test_agent_from_agentlogs_attribute_else_the_conventions() -> None:
    """agentlog.agent_id decides ("" is none); without it (other producers) as before."""
    resource = {"service.name": "agentlog"}
    cases = [
        ({"agentlog.event.type": "LOG", "agentlog.agent_id": "coder"}, "coder"),
        ({"agentlog.event.type": "LOG", "agentlog.agent_id": ""}, None),
        (
            {"agentlog.event.type": "HANDOFF", "agentlog.agent_id": "", "gen_ai.agent.name": "x"},
            None,
        ),
        ({"gen_ai.agent.name": "weather", "agent.name": "x"}, "weather"),
        ({"agent.name": "x"}, "x"),
        ({}, "agentlog"),  # another producer's service stands in for its agent
    ]
    for attrs, agent in cases:
        span = _span("eee19b7ec3c1b174", "s", attrs)
        span.resource = resource
        (event,) = map_spans([span]).events
        assert event.agent_id == agent, attrs


def _llm_cost(attrs: dict) -> float | None:
    mapped = map_spans(
        [_span("eee19b7ec3c1b174", "chat", {"gen_ai.operation.name": "chat", **attrs})]
    )
    (event,) = mapped.events
    assert event.type == EventType.LLM_CALL
    return event.cost_usd


def test_a_priced_model_gets_its_cost_from_the_shared_price_table() -> None:
    from agentlog.integrations import pricing

    tokens = {"gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 50}
    expected = pricing.cost_usd("gpt-4o-mini", 1000, 50)
    assert expected
    assert _llm_cost({"gen_ai.request.model": "gpt-4o-mini", **tokens}) == expected
    # The response's model stands in when the request names none.
    assert _llm_cost({"gen_ai.response.model": "gpt-4o-mini-2024-07-18", **tokens}) == expected
    assert _llm_cost({"gen_ai.request.model": "house-model-7", **tokens}) is None
    assert _llm_cost({"gen_ai.request.model": "gpt-4o-mini"}) is None  # no tokens, no cost
    explicit = {"gen_ai.request.model": "gpt-4o-mini", "agentlog.cost_usd": 0.5, **tokens}
    assert _llm_cost(explicit) == 0.5


def test_cached_input_tokens_are_priced_at_the_cache_rate() -> None:
    """GenAI's input_tokens include the cached ones; they are billed once, at the cache rate."""
    from agentlog.integrations import pricing

    attrs = {
        "gen_ai.request.model": "claude-sonnet-4-5",
        "gen_ai.usage.input_tokens": 1000,
        "gen_ai.usage.output_tokens": 50,
        "gen_ai.usage.cache_read.input_tokens": 800,
    }
    expected = pricing.usage_cost(
        "claude-sonnet-4-5", input_tokens=200, output_tokens=50, cache_read_tokens=800
    )
    assert _llm_cost(attrs) == expected < pricing.cost_usd("claude-sonnet-4-5", 1000, 50)


def test_a_rejected_span_says_which_field_was_wrong() -> None:
    """The reason was pydantic's first line, '1 validation error for Event', naming nothing."""
    deep: dict = {"leaf": 1}
    for _ in range(40):
        deep = {"k": deep}
    mapped = map_spans([_span("eee19b7ec3c1b177", "step", {"deep": deep})])
    ((span_id, why),) = mapped.rejected
    assert span_id == "eee19b7ec3c1b177"
    assert why == "metadata: metadata is nested deeper than 32 levels", why
