"""A ReAct agent with two tools, recorded by AgentLog with one line, offline (no API key).

    python examples/langgraph_basic/main.py [--db PATH]

The model is scripted (agentlog.integrations.langgraph.testing.ScriptedChatModel):
swap in any LangChain chat model (ChatOpenAI, ChatAnthropic, ...) and nothing
else changes.
"""

from __future__ import annotations

import argparse
import sys

try:  # the example's own dependencies: `agentlog[langgraph]` alone does not bring them
    from langchain.agents import create_agent
    from langchain_core.messages import HumanMessage
    from langchain_core.tools import tool
except ModuleNotFoundError as exc:
    sys.exit(
        f"This example needs {exc.name}, which is not installed: pip install 'agentlog[examples]'"
    )

from agentlog import AgentLog
from agentlog.integrations.langgraph import AgentLogCallback
from agentlog.integrations.langgraph.testing import ScriptedChatModel, reply


@tool
def search_docs(query: str) -> str:
    """Search the team's runbooks."""
    return "Runbook 12: a deploy fails when migration 0042 takes longer than 30 s."


@tool
def deploy_status(service: str) -> str:
    """The last deploy of a service."""
    return f"{service}: failed 2h ago at step 'migrate' (timeout)"


def build_agent():
    model = ScriptedChatModel(
        model_name="gpt-4o-mini",
        responses=[
            reply(tools=[("deploy_status", {"service": "billing"})], tokens=(180, 24)),
            reply(tools=[("search_docs", {"query": "migrate timeout"})], tokens=(260, 20)),
            reply(
                "The billing deploy failed because migration 0042 hit the 30 s timeout "
                "(runbook 12): raise the timeout or run the migration ahead of the deploy.",
                tokens=(340, 45),
            ),
        ],
    )
    return create_agent(model, [search_docs, deploy_status], name="deploy_helper")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="the AgentLog database (default: your local one)")
    args = parser.parse_args()
    log = AgentLog(args.db) if args.db else AgentLog()
    recorder = AgentLogCallback(log)

    result = build_agent().invoke(
        {"messages": [HumanMessage("Why did the billing deploy fail?")]},
        config={"callbacks": [recorder]},  # the one line that records the run
    )
    log.close()
    print(f"agent: {result['messages'][-1].content}")
    db = f" --db {args.db}" if args.db else ""
    print(f"\nsession {recorder.last_session_id}")
    print(f"look at it:  agentlog{db} tui   or   agentlog{db} events {recorder.last_session_id}")


if __name__ == "__main__":
    main()
