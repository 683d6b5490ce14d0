"""A trace sent in several OTLP requests stays one session, whichever span names the conversation."""

from __future__ import annotations

import pytest

from agentlog.otel.receiver import OTLPReceiver
from agentlog.storage import Store
from agentlog.storage.base import EventQuery, SessionQuery

pytest.importorskip("opentelemetry.exporter.otlp.proto.http")

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor


def _tracer(receiver: OTLPReceiver) -> tuple[TracerProvider, object]:
    """The SDK's own exporter, one request per span as each ends (children before the root)."""
    provider = TracerProvider()
    exporter = OTLPSpanExporter(endpoint=receiver.url + "/v1/traces", timeout=10)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, provider.get_tracer("cross-batch")


def test_a_root_naming_the_conversation_after_its_children_keeps_one_session(
    receiver: OTLPReceiver, store: Store
) -> None:
    provider, tracer = _tracer(receiver)
    with tracer.start_as_current_span(  # type: ignore[attr-defined]
        "invoke_agent planner",
        attributes={"gen_ai.operation.name": "invoke_agent", "session.id": "conv-42"},
    ):
        with tracer.start_as_current_span(  # type: ignore[attr-defined]
            "chat gpt-4o", attributes={"gen_ai.operation.name": "chat"}
        ):
            with tracer.start_as_current_span(  # type: ignore[attr-defined]
                "execute_tool search",
                attributes={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search"},
            ):
                pass
    provider.shutdown()
    assert receiver.spans_received == 3  # three requests, the root's last
    sessions = store.list_sessions(SessionQuery()).items
    assert len(sessions) == 1, [s.title for s in sessions]
    session = sessions[0]
    assert session.title == "conv-42" and session.metadata.get("otel.session") == "conv-42"
    events = store.list_events(EventQuery(session_id=session.id)).items
    assert sorted(e.type.value for e in events) == [
        "HANDOFF",
        "LLM_CALL",
        "TOOL_CALL",
        "TOOL_RESULT",
    ]


def test_a_span_whose_parent_came_earlier_joins_the_parents_session(
    receiver: OTLPReceiver, store: Store
) -> None:
    provider, tracer = _tracer(receiver)
    with tracer.start_as_current_span(  # type: ignore[attr-defined]
        "invoke_agent root", attributes={"session.id": "conv-7"}
    ) as root:
        pass  # the root ends (and is sent) first ...
    from opentelemetry import trace

    context = trace.set_span_in_context(root)
    with tracer.start_as_current_span(  # type: ignore[attr-defined]
        "chat gpt-4o", context=context, attributes={"gen_ai.operation.name": "chat"}
    ):
        pass  # ... a late child without the session attribute comes in its own request
    provider.shutdown()
    sessions = store.list_sessions(SessionQuery()).items
    assert [s.title for s in sessions] == ["conv-7"]
    assert store.count_events(EventQuery(session_id=sessions[0].id)) == 2


def test_separate_traces_of_one_named_conversation_share_it(
    receiver: OTLPReceiver, store: Store
) -> None:
    provider, tracer = _tracer(receiver)
    for turn in ("first", "second"):
        with tracer.start_as_current_span(  # type: ignore[attr-defined]
            f"invoke_agent {turn}", attributes={"gen_ai.conversation.id": "chat-9"}
        ):
            pass
    provider.shutdown()
    sessions = store.list_sessions(SessionQuery()).items
    assert len(sessions) == 1 and store.count_events(EventQuery(session_id=sessions[0].id)) == 2
