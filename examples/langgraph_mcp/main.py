"""A LangGraph agent whose tools come from an MCP server, recorded into one AgentLog session.

Runs offline: a scripted model (no API key) asks the MCP server (server.py, over
stdio) for a temperature, converts it, and tries a city with no station. Each
MCP message is recorded in the graph's session, under the tool call that sent it.

    python examples/langgraph_mcp/main.py [--db PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

try:  # the example's own dependencies: `agentlog[langgraph]` alone does not bring them
    from langchain.agents import create_agent
    from langchain_core.messages import HumanMessage
    from mcp import Client, StdioServerParameters
except ModuleNotFoundError as exc:
    sys.exit(
        f"This example needs {exc.name}, which is not installed: pip install 'agentlog[examples,mcp]'"
    )

import agentlog.mcp
from agentlog import AgentLog
from agentlog.integrations.langgraph import AgentLogCallback
from agentlog.integrations.langgraph.mcp_tools import load_mcp_tools
from agentlog.integrations.langgraph.testing import ScriptedChatModel, reply

SERVER = StdioServerParameters(
    command=sys.executable, args=[str(Path(__file__).with_name("server.py"))]
)


def model() -> ScriptedChatModel:
    """What a real model would decide, scripted: two rounds of MCP tool calls, then an answer."""
    return ScriptedChatModel(
        model_name="gpt-4o-mini",
        responses=[
            reply(
                tools=[("temperature", {"city": "Rome"}), ("temperature", {"city": "Atlantis"})],
                tokens=(210, 40),
            ),
            reply(tools=[("to_fahrenheit", {"celsius": 19})], tokens=(290, 22)),
            reply("Rome is 19 °C (66.2 °F); Atlantis has no weather station.", tokens=(330, 25)),
        ],
    )


async def run(log: AgentLog) -> str:
    # The client is traced: its MCP traffic lands in whatever session is calling it.
    async with agentlog.mcp.trace(Client(SERVER), log=log, title="MCP connection") as client:
        tools = await load_mcp_tools(client)
        agent = create_agent(model(), tools, name="weather_agent")
        result = await agent.ainvoke(
            {"messages": [HumanMessage("How warm is it in Rome and in Atlantis, in Fahrenheit?")]},
            config={"callbacks": [AgentLogCallback(log)]},
        )
    return result["messages"][-1].content


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="the AgentLog database (default: your local one)")
    args = parser.parse_args()
    log = AgentLog(args.db) if args.db else AgentLog()
    answer = asyncio.run(run(log))
    log.close()
    print(f"agent: {answer}")
    where = f" --db {args.db}" if args.db else ""
    print(f"\nRecorded. Look at it with:  agentlog tui{where}   or   agentlog sessions list{where}")


if __name__ == "__main__":
    main()
