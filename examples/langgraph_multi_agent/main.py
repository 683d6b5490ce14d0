"""A supervisor with two worker agents and hand-offs, recorded as a session with child sessions.

    python examples/langgraph_multi_agent/main.py [--db PATH]
    agentlog tui

Offline: every agent's model is scripted. In AgentLog the run is one session
("research_supervisor"); each agent (the supervisor's own model loop and each
worker) is a child session; each hand-off is a HANDOFF event naming the child
session it went to; each tool call is paired with its result; tokens and cost
are on every model call.
"""

from __future__ import annotations

import argparse
import sys

try:  # the example's own dependencies: `agentlog[langgraph]` alone does not bring them
    from langchain.agents import create_agent
    from langchain_core.messages import HumanMessage
    from langchain_core.tools import tool
    from langgraph_supervisor import create_supervisor
except ModuleNotFoundError as exc:
    sys.exit(
        f"This example needs {exc.name}, which is not installed: pip install 'agentlog[examples]'"
    )

from agentlog import AgentLog
from agentlog.integrations.langgraph import AgentLogCallback
from agentlog.integrations.langgraph.testing import ScriptedChatModel, reply


@tool
def web_search(query: str) -> str:
    """Search the web."""
    return "FAANG headcount 2024: Meta 67,317; Apple 164,000; Amazon 1,551,000."


@tool
def add(a: float, b: float) -> float:
    """Add two numbers."""
    return a + b


def build():
    researcher = create_agent(
        ScriptedChatModel(
            model_name="gpt-4o-mini",
            responses=[
                reply(tools=[("web_search", {"query": "FAANG headcount 2024"})], tokens=(220, 30)),
                reply("Meta 67,317; Apple 164,000 employees in 2024.", tokens=(310, 28)),
            ],
        ),
        [web_search],
        name="research_expert",
    )
    mathematician = create_agent(
        ScriptedChatModel(
            model_name="gpt-4o-mini",
            responses=[
                reply(tools=[("add", {"a": 67317, "b": 164000})], tokens=(260, 22)),
                reply("67,317 + 164,000 = 231,317.", tokens=(300, 15)),
            ],
        ),
        [add],
        name="math_expert",
    )
    supervisor_model = ScriptedChatModel(
        model_name="gpt-4o",
        responses=[
            reply(tools=[("transfer_to_research_expert", {})], tokens=(400, 18)),
            reply(tools=[("transfer_to_math_expert", {})], tokens=(520, 18)),
            reply("Meta and Apple had 231,317 employees combined in 2024.", tokens=(610, 20)),
        ],
    )
    return create_supervisor(
        [researcher, mathematician],
        model=supervisor_model,
        prompt="You manage a research expert and a math expert.",
    ).compile(name="research_supervisor")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="the AgentLog database (default: your local one)")
    args = parser.parse_args()
    log = AgentLog(args.db) if args.db else AgentLog()
    recorder = AgentLogCallback(log)
    result = build().invoke(
        {
            "messages": [
                HumanMessage("How many employees did Meta and Apple have together in 2024?")
            ]
        },
        config={"callbacks": [recorder]},
    )
    log.close()
    print(f"supervisor: {result['messages'][-1].content}")
    db = f" --db {args.db}" if args.db else ""
    sid = recorder.last_session_id
    print(f"\nsession {sid} (its workers are child sessions)")
    print(f"look at it:  agentlog{db} tui")
    print(
        f"         or  agentlog{db} sessions list   and   agentlog{db} events {sid} --type HANDOFF"
    )


if __name__ == "__main__":
    main()
