"""The LangGraph adapter's overhead: the same real graphs with and without `AgentLogCallback`.

Each round runs every variant once per graph, interleaved, so load on the
shared machine hits them alike; medians over rounds. Variants:
  none      no callbacks (the ceiling: the graph alone)
  noop      a do-nothing LangChain handler (LangChain's own cost of having one)
  agentlog  AgentLogCallback writing to a fresh SQLite file (its writer thread included)
CPU time is the whole process's, so the writer thread's work is counted when it
runs inside a timed block; it wakes on its own clock (every 0.5 s or 500 records),
so part of it lands in other variants' blocks or in the flush between rounds. The
writer thread's own CPU per recorded run is printed apart, measured on its clock.

Then the handler alone: one run's callbacks, recorded from the real graph, are
replayed straight into `AgentLogCallback` (and into the do-nothing handler) on
one thread, so LangChain's dispatch and the graph are out of the figure and a
loaded machine moves it less: the handler's own CPU per graph run (every
callback on one thread, those a graph makes on its worker threads included).

Run: .venv/bin/python bench/bench_langgraph.py [--rounds 30] [--runs 20] [--replays 2000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
import warnings
from pathlib import Path
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import HumanMessage
from langchain_core.tools import tool

from agentlog import AgentLog
from agentlog.integrations.langgraph import AgentLogCallback
from agentlog.integrations.langgraph.testing import ScriptedChatModel, reply
from agentlog.sdk import writer as sdk_writer

warnings.simplefilter("ignore")


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


@tool
def lookup(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def react_agent(latency: float | None = None) -> Any:
    from langchain.agents import create_agent

    model = ScriptedChatModel(
        model_name="gpt-4o-mini",
        sleep=latency,
        responses=[
            reply(
                tools=[("add", {"a": 1, "b": 2}), ("lookup", {"city": "Oslo"})], tokens=(120, 30)
            ),
            reply("3, and sunny in Oslo", tokens=(180, 12)),
        ],
    )
    return create_agent(model, [add, lookup])


def supervisor() -> Any:
    from langchain.agents import create_agent
    from langgraph_supervisor import create_supervisor

    def worker(name: str, t: Any, args: dict[str, Any], answer: str) -> Any:
        model = ScriptedChatModel(
            responses=[
                reply(tools=[(t.name, args)], tokens=(50, 10)),
                reply(answer, tokens=(70, 5)),
            ]
        )
        return create_agent(model, [t], name=name)

    boss = ScriptedChatModel(
        responses=[
            reply(tools=[("transfer_to_weather", {})], tokens=(90, 8)),
            reply(tools=[("transfer_to_math", {})], tokens=(110, 8)),
            reply("done", tokens=(130, 4)),
        ]
    )
    workers = [
        worker("weather", lookup, {"city": "Rome"}, "sunny"),
        worker("math", add, {"a": 2, "b": 2}, "4"),
    ]
    return create_supervisor(workers, model=boss).compile()


class Noop(BaseCallbackHandler):
    """Does nothing, but takes the same calls as AgentLogCallback (chat models included)."""

    run_inline = True

    def on_chat_model_start(self, *args: Any, **kwargs: Any) -> None:
        pass


def timed(graph: Any, config: dict[str, Any], runs: int) -> tuple[float, float, float]:
    """(wall, process cpu, calling thread's cpu) seconds per run, for `runs` runs."""
    inputs = {"messages": [HumanMessage("add 1 and 2, and the weather?")]}
    w0, c0, t0 = time.perf_counter(), time.process_time(), time.thread_time()
    for _ in range(runs):
        graph.invoke(inputs, config)
    return (
        (time.perf_counter() - w0) / runs,
        (time.process_time() - c0) / runs,
        (time.thread_time() - t0) / runs,
    )


_CALLBACKS = (
    "on_chain_start",
    "on_chain_end",
    "on_chain_error",
    "on_chat_model_start",
    "on_llm_start",
    "on_llm_end",
    "on_llm_error",
    "on_tool_start",
    "on_tool_end",
    "on_tool_error",
)


def recorded_callbacks(graph: Any) -> list[tuple[str, tuple[Any, ...], dict[str, Any]]]:
    """The callbacks one run of `graph` makes, in the order they came (any thread)."""
    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
    lock = threading.Lock()

    class Recorder(BaseCallbackHandler):
        run_inline = True

    def recorder(name: str) -> Any:
        def record(self: Any, *args: Any, **kwargs: Any) -> None:
            with lock:
                calls.append((name, args, kwargs))

        return record

    for name in _CALLBACKS:
        setattr(Recorder, name, recorder(name))
    inputs = {"messages": [HumanMessage("add 1 and 2, and the weather?")]}
    graph.invoke(inputs, {"callbacks": [Recorder()]})
    return calls


def replayed(log: AgentLog, graph: Any, replays: int) -> tuple[float, float, float, int]:
    """(AgentLogCallback's, Noop's, the writer thread's) CPU seconds per replayed run, callbacks."""
    calls = recorded_callbacks(graph)
    handler, noop = AgentLogCallback(log), Noop()
    ours = [(getattr(handler, n), a, k) for n, a, k in calls]
    theirs = [(getattr(noop, n, None) or (lambda *a, **k: None), a, k) for n, a, k in calls]

    def play(seq: list[Any], times: int) -> float:
        t0 = time.thread_time()
        for _ in range(times):
            for fn, a, k in seq:
                fn(*a, **k)
        return (time.thread_time() - t0) / times

    play(ours, 20)
    log.flush()
    writer = sdk_writer.current()
    assert writer is not None
    clock = time.pthread_getcpuclockid(writer.thread.ident or 0)
    block = max(1, replays // 20)
    mine, bare, wrote = [], [], []
    for _ in range(20):
        bare.append(play(theirs, block))
        w0 = time.clock_gettime(clock)
        mine.append(play(ours, block))
        log.flush()
        wrote.append((time.clock_gettime(clock) - w0) / block)
    return statistics.median(mine), statistics.median(bare), statistics.median(wrote), len(calls)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--runs", type=int, default=20, help="graph runs per variant per round")
    parser.add_argument("--replays", type=int, default=2000, help="replayed runs per graph")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="lg-bench-"))
    log = AgentLog(tmp / "bench.db")
    handler = AgentLogCallback(log)
    variants = {
        "none": {},
        "noop": {"callbacks": [Noop()]},
        "agentlog": {"callbacks": [handler]},
    }
    graphs = (
        ("ReAct agent (2 LLM calls, 2 tools), instant fake model", react_agent),
        ("supervisor + 2 workers (7 LLM calls, 4 tools), instant fake model", supervisor),
        ("the same ReAct agent, fake model answering in 20 ms", lambda: react_agent(0.02)),
    )
    for label, build in graphs:
        graph = build()
        for config in variants.values():  # warm up every path once
            timed(graph, config, 3)
        log.flush()
        writer = sdk_writer.current()
        assert writer is not None
        writer_clock = time.pthread_getcpuclockid(writer.thread.ident or 0)
        writer_cpu = time.clock_gettime(writer_clock)
        samples: dict[str, list[tuple[float, float, float]]] = {k: [] for k in variants}
        for r in range(args.rounds):
            order = list(variants.items())
            if r % 2:
                order.reverse()
            for name, config in order:
                samples[name].append(timed(graph, config, args.runs))
            log.flush()  # the writer's work for this round ends before the next round starts
        writer_cpu = time.clock_gettime(writer_clock) - writer_cpu
        print(f"\n{label}: {args.rounds} rounds x {args.runs} runs, median per run")
        # Each round's variants ran side by side: compare within a round, then take
        # the median of those ratios (robust to load that shifts between rounds).
        for name in variants:
            fig = [statistics.median(x[i] for x in samples[name]) for i in range(3)]
            ratios = [
                statistics.median(
                    a[i] / b[i] - 1 for a, b in zip(samples[name], samples["none"], strict=True)
                )
                for i in range(3)
            ]
            print(
                f"  {name:9}"
                + "".join(
                    f"   {what} {fig[i] * 1000:7.3f} ms ({ratios[i] * 100:+5.1f}%)"
                    for i, what in enumerate(("wall", "cpu", "calling-thread cpu"))
                )
            )
        # The part AgentLog controls: agentlog against the do-nothing handler, round by round.
        own = [
            statistics.median(
                a[i] / b[i] - 1 for a, b in zip(samples["agentlog"], samples["noop"], strict=True)
            )
            for i in range(3)
        ]
        print(
            "  agentlog vs noop"
            + "".join(
                f"   {what} {own[i] * 100:+5.1f}%"
                for i, what in enumerate(("wall", "cpu", "calling-thread cpu"))
            )
            + "   (target < 5% against none; load average {:.2f} {:.2f} {:.2f})".format(
                *os.getloadavg()
            )
        )
        none_cpu = statistics.median(x[1] for x in samples["none"])
        per_run = writer_cpu / (args.rounds * args.runs)
        print(
            f"  agentlog's writer thread: {per_run * 1000:.3f} ms cpu per recorded run"
            f" ({per_run / none_cpu * 100:.1f}% of the graph's cpu), on its own thread"
        )
    print(f"\nthe handler alone, {args.replays} replays of one run's callbacks, median per run")
    for label, build in (("ReAct agent", react_agent), ("supervisor + 2 workers", supervisor)):
        mine, bare, wrote, n = replayed(log, build(), args.replays)
        print(
            f"  {label:22} {n:3} callbacks   AgentLogCallback {mine * 1e6:6.1f} µs cpu"
            f" (do-nothing handler {bare * 1e6:4.1f} µs)   its writer thread {wrote * 1e6:6.1f} µs cpu"
        )
    log.close()
    print(f"\nrecorded: {log.written:,} events, dropped {log.dropped}, lost {log.lost}")


if __name__ == "__main__":
    main()
