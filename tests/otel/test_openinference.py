"""A LangGraph agent instrumented by OpenInference's own LangChain instrumentor, exported
over OTLP/HTTP by the OpenTelemetry SDK into `otel receive`: its runs become sessions."""

from __future__ import annotations

import pytest

from agentlog.model import EventType
from agentlog.otel.receiver import OTLPReceiver
from agentlog.storage import EventQuery, SessionQuery, Store

pytest.importorskip("openinference.instrumentation.langchain")
pytest.importorskip("langgraph")

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.tools import tool
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode
from openinference.instrumentation import using_session
from openinference.instrumentation.langchain import LangChainInstrumentor
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor


@tool
def lookup_order(order: int) -> str:
    """Where an order is."""
    return f"order {order} ships tomorrow"


def build_graph():
    model = GenericFakeChatModel(
        messages=iter(
            [
                AIMessage(
                    "",
                    tool_calls=[{"name": "lookup_order", "args": {"order": 1000}, "id": "c1"}],
                    usage_metadata={"input_tokens": 40, "output_tokens": 8, "total_tokens": 48},
                ),
                AIMessage(
                    "It ships tomorrow.",
                    usage_metadata={"input_tokens": 60, "output_tokens": 5, "total_tokens": 65},
                ),
            ]
        )
    )

    def agent(state: MessagesState) -> dict:
        return {"messages": [model.invoke(state["messages"])]}

    def route(state: MessagesState) -> str:
        return "tools" if state["messages"][-1].tool_calls else END

    graph = StateGraph(MessagesState)
    graph.add_node("agent", agent)
    graph.add_node("tools", ToolNode([lookup_order]))
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", route, ["tools", END])
    graph.add_edge("tools", "agent")
    return graph.compile()


def test_an_openinference_instrumented_langgraph_run_becomes_a_session(
    receiver: OTLPReceiver, store: Store
) -> None:
    provider = TracerProvider()
    provider.add_span_processor(
        SimpleSpanProcessor(OTLPSpanExporter(endpoint=receiver.url + "/v1/traces", timeout=10))
    )
    instrumentor = LangChainInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        with using_session("support-chat-7"):
            out = build_graph().invoke({"messages": [HumanMessage("where is order 1000?")]})
    finally:
        instrumentor.uninstrument()
        provider.shutdown()
    assert out["messages"][-1].content == "It ships tomorrow."
    (session,) = store.list_sessions(SessionQuery()).items
    assert session.title == "support-chat-7"
    events = store.list_events(EventQuery(session_id=session.id, limit=500)).items
    types = [e.type for e in events]
    assert types.count(EventType.LLM_CALL) == 2
    llm = [e for e in events if e.type == EventType.LLM_CALL]
    assert sorted((e.input_tokens, e.output_tokens) for e in llm) == [(40, 8), (60, 5)]
    call = next(e for e in events if e.type == EventType.TOOL_CALL)
    assert call.name == "lookup_order" and "1000" in (call.content or "")
    result = next(e for e in events if e.type == EventType.TOOL_RESULT)
    assert result.parent_id == call.id and "ships tomorrow" in (result.content or "")
    # Every span hangs under the graph's root run: one tree, parents resolved.
    ids = {e.id for e in events}
    roots = [e for e in events if e.parent_id is None]
    assert len(roots) == 1 and all(e.parent_id in ids for e in events if e.parent_id)
