"""Real LangGraph graphs the tests record: agents with tools, a supervisor, a swarm, subgraphs."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

from langchain_core.tools import ToolException, tool
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt

from agentlog.integrations.langgraph.testing import ScriptedChatModel, reply


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


@tool
def lookup(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


@tool
def broken(x: str) -> str:
    """A tool that always fails."""
    raise ValueError(f"broken tool got {x}")


@tool
def flaky(x: str) -> str:
    """A tool that fails with a ToolException it reports to the model."""
    raise ToolException(f"flaky refused {x}")


flaky.handle_tool_error = True


def react_model(model_name: str = "scripted") -> ScriptedChatModel:
    return ScriptedChatModel(
        model_name=model_name,
        responses=[
            reply(tools=[("add", {"a": 1, "b": 2}), ("lookup", {"city": "Oslo"})], tokens=(10, 5)),
            reply("3, and sunny in Oslo", tokens=(30, 7)),
        ],
    )


class Counter(TypedDict):
    n: int
    trail: Annotated[list[str], operator.add]


def fan_out_graph() -> Any:
    """START -> a -> (b, c in parallel) -> d -> END."""

    def step(name: str) -> Any:
        def run(state: Counter) -> dict[str, Any]:
            return {"trail": [name]}

        return run

    g = StateGraph(Counter)
    for name in "abcd":
        g.add_node(name, step(name))
    g.add_edge(START, "a")
    g.add_edge("a", "b")
    g.add_edge("a", "c")
    g.add_edge(["b", "c"], "d")
    g.add_edge("d", END)
    return g.compile()


def nested_graph() -> Any:
    """outer: prep -> research (a subgraph: gather -> deep (a subgraph: dig)) -> done."""
    inner = StateGraph(Counter)
    inner.add_node("dig", lambda s: {"n": s["n"] + 100, "trail": ["dig"]})
    inner.add_edge(START, "dig")
    deep = inner.compile()

    mid = StateGraph(Counter)
    mid.add_node("gather", lambda s: {"n": s["n"] + 10, "trail": ["gather"]})
    mid.add_node("deep", deep)
    mid.add_edge(START, "gather")
    mid.add_edge("gather", "deep")
    research = mid.compile()

    outer = StateGraph(Counter)
    outer.add_node("prep", lambda s: {"n": s["n"] + 1, "trail": ["prep"]})
    outer.add_node("research", research)
    outer.add_node("done", lambda s: {"trail": ["done"]})
    outer.add_edge(START, "prep")
    outer.add_edge("prep", "research")
    outer.add_edge("research", "done")
    return outer.compile(name="outer")


def routing_graph(checkpointer: Any = None) -> Any:
    """a -> ask (interrupt) -> route (Command(goto="b")) -> b."""

    def ask(state: Counter) -> dict[str, Any]:
        answer = interrupt({"question": "go on?"})
        return {"trail": [f"ask:{answer}"]}

    def route(state: Counter) -> Command[Any]:
        return Command(goto="b", update={"trail": ["route"]})

    g = StateGraph(Counter)
    g.add_node("a", lambda s: {"n": s["n"] + 1, "trail": ["a"]})
    g.add_node("ask", ask)
    g.add_node("route", route)
    g.add_node("b", lambda s: {"trail": ["b"]})
    g.add_edge(START, "a")
    g.add_edge("a", "ask")
    g.add_edge("ask", "route")
    return g.compile(checkpointer=checkpointer, name="router")


def supervisor_graph() -> Any:
    from langchain.agents import create_agent
    from langgraph_supervisor import create_supervisor

    math = create_agent(
        ScriptedChatModel(
            responses=[
                reply(tools=[("add", {"a": 2, "b": 2})], tokens=(11, 4)),
                reply("4", tokens=(15, 1)),
            ]
        ),
        [add],
        name="math_expert",
    )
    weather = create_agent(
        ScriptedChatModel(
            responses=[
                reply(tools=[("lookup", {"city": "Rome"})], tokens=(12, 6)),
                reply("sunny in Rome", tokens=(20, 3)),
            ]
        ),
        [lookup],
        name="weather_expert",
    )
    boss = ScriptedChatModel(
        responses=[
            reply(tools=[("transfer_to_weather_expert", {})], tokens=(40, 8)),
            reply(tools=[("transfer_to_math_expert", {})], tokens=(50, 8)),
            reply("Rome is sunny and 2+2=4", tokens=(60, 9)),
        ]
    )
    return create_supervisor([weather, math], model=boss).compile(name="supervisor")
