"""Errors an agent survives, recorded: a node retried after timeouts, a tool that fails, a recovery.

    python examples/error_handling/main.py [--db PATH]

1. `fetch_report` times out twice; LangGraph's RetryPolicy runs it again and the
   third attempt succeeds. Each failed attempt is a STATE_UPDATE with status
   error and an ERROR under it; the session still completes.
2. The agent calls `lookup_order`, which fails (the tool turns its exception into
   a message for the model): a TOOL_CALL with status error and an ERROR under it.
   The model recovers by calling `search_orders` instead.
Offline: the model is scripted.
"""

from __future__ import annotations

import argparse
import operator
import sys
from typing import Annotated, Any, TypedDict

try:  # the example's own dependencies: `agentlog[langgraph]` alone does not bring them
    from langchain.agents import create_agent
    from langchain_core.messages import AnyMessage, HumanMessage
    from langchain_core.tools import ToolException, tool
    from langgraph.graph import START, StateGraph
    from langgraph.graph.message import add_messages
    from langgraph.types import RetryPolicy
except ModuleNotFoundError as exc:
    sys.exit(
        f"This example needs {exc.name}, which is not installed: pip install 'agentlog[examples]'"
    )

from agentlog import AgentLog
from agentlog.integrations.langgraph import AgentLogCallback
from agentlog.integrations.langgraph.testing import ScriptedChatModel, reply


class State(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]
    report: str
    attempts: Annotated[list[int], operator.add]


_calls = {"fetch": 0}


def fetch_report(state: State) -> dict[str, Any]:
    """A flaky upstream: the first two calls time out."""
    _calls["fetch"] += 1
    if _calls["fetch"] < 3:
        raise TimeoutError(f"report service timed out (attempt {_calls['fetch']})")
    return {"report": "order 1042 is delayed", "attempts": [_calls["fetch"]]}


@tool
def lookup_order(order_id: str) -> str:
    """Look an order up by id."""
    raise ToolException(f"order service is down, cannot look up {order_id}")


lookup_order.handle_tool_error = True  # the model sees the error and can try something else


@tool
def search_orders(text: str) -> str:
    """Search orders by free text (slower, but on another service)."""
    return "order 1042: shipped late from the Lyon warehouse, arriving Friday"


def build():
    model = ScriptedChatModel(
        model_name="gpt-4o-mini",
        responses=[
            reply(tools=[("lookup_order", {"order_id": "1042"})], tokens=(150, 20)),
            reply(tools=[("search_orders", {"text": "1042"})], tokens=(210, 18)),
            reply("Order 1042 shipped late from Lyon and arrives on Friday.", tokens=(260, 16)),
        ],
    )
    agent = create_agent(model, [lookup_order, search_orders], name="support_agent")
    graph = StateGraph(State)
    graph.add_node(
        "fetch_report",
        fetch_report,
        retry_policy=RetryPolicy(max_attempts=3, initial_interval=0.01, retry_on=TimeoutError),
    )
    graph.add_node("support_agent", agent)
    graph.add_edge(START, "fetch_report")
    graph.add_edge("fetch_report", "support_agent")
    return graph.compile(name="support_desk")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="the AgentLog database (default: your local one)")
    args = parser.parse_args()
    log = AgentLog(args.db) if args.db else AgentLog()
    recorder = AgentLogCallback(log)
    result = build().invoke(
        {"messages": [HumanMessage("Where is order 1042?")], "attempts": []},
        config={"callbacks": [recorder]},
    )
    log.close()
    print(f"agent: {result['messages'][-1].content}")
    db = f" --db {args.db}" if args.db else ""
    sid = recorder.last_session_id
    print(f"\nsession {sid}")
    print(
        f"its errors:  agentlog{db} events {sid} --type ERROR   (the agent's are in its child session)"
    )
    print(f"everything:  agentlog{db} tui")


if __name__ == "__main__":
    main()
