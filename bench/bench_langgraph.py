"""The LangGraph adapter's overhead: the same real graphs with and without `AgentLogCallback`.

Each round runs every variant once per graph, interleaved (the order reversed every
other round), so load on the shared machine hits them alike; figures are medians
over rounds, and overheads medians of per-round ratios with their quartiles. Variants:
  none      no callbacks (the ceiling: the graph alone)
  noop      a do-nothing LangChain handler (LangChain's own cost of having one)
  agentlog  AgentLogCallback writing to a fresh SQLite file (its writer thread included)
Each block of runs records its wall time (what the user feels), the process's CPU,
the calling thread's CPU and the SDK writer thread's CPU (its own clock). The writer
commits on its own clock (every 500 events or 0.5 s, as in use; `--flush-rounds`
flushes between rounds instead), so its work lands in any variant's block or between
blocks: "graph threads cpu" is a block's process CPU minus the writer's in that block,
and the machine's whole bill for agentlog is its graph threads' CPU plus the writer's
CPU per recorded run over the whole phase (final flush included). The report says
where the writer's CPU fell and in how many agentlog blocks a commit landed.

The floor: LangChain's dispatch to the do-nothing handler plus plain sqlite3 storing the
same rows again (a fresh file with the store's events table, indexes and full-text index, in the
writer's batches): the least any recorder keeping every event searchable on disk costs, and
agentlog's total as a ratio of the graph at that floor.

Then the handler alone: one run's callbacks, recorded from the real graph, are
replayed straight into `AgentLogCallback` (and into the do-nothing handler) on
one thread, so LangChain's dispatch and the graph are out of the figure and a
loaded machine moves it less: the handler's own CPU per graph run (every
callback on one thread, those a graph makes on its worker threads included).

Run: .venv/bin/python bench/bench_langgraph.py [--rounds 30] [--runs 20] [--replays 2000]
     [--flush-rounds] [--only react|supervisor|slow] [--latency MS ...]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import HumanMessage
from langchain_core.tools import tool

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agentlog import AgentLog
from agentlog.integrations.langgraph import AgentLogCallback
from agentlog.integrations.langgraph.testing import ScriptedChatModel, reply
from agentlog.sdk import writer as sdk_writer
from bench.ceiling import raw_schema

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


def timed(graph: Any, config: dict[str, Any], runs: int, writer_clock: int) -> Block:
    """One block of `runs` runs: its wall, process, calling-thread and writer-thread seconds."""
    inputs = {"messages": [HumanMessage("add 1 and 2, and the weather?")]}
    wc = time.clock_gettime(writer_clock)
    w0, c0, t0 = time.perf_counter(), time.process_time(), time.thread_time()
    for _ in range(runs):
        graph.invoke(inputs, config)
    wall, cpu, own = time.perf_counter() - w0, time.process_time() - c0, time.thread_time() - t0
    return Block(wall, cpu, own, time.clock_gettime(writer_clock) - wc, runs)


@dataclass(frozen=True, slots=True)
class Block:
    """A timed block's seconds (all of its runs); `graph` is the process's CPU minus the writer's."""

    wall: float
    cpu: float
    thread: float
    writer: float
    runs: int

    @property
    def graph(self) -> float:
        return self.cpu - self.writer


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


_COLUMNS = (
    "id, session_id, ts, type, agent_id, name, status, parent_id, duration_ms,"
    " input_tokens, output_tokens, cost_usd, metadata, content"
)


def raw_store_cpu(db: Path, events: int, batch: int) -> float:
    """CPU seconds plain `sqlite3` takes to store the latest `events` rows of `db` again.

    The same rows the SDK stored, into a fresh file with the store's events table,
    its secondary indexes and full-text index, in `batch`-event transactions as the
    writer commits them: what any recorder that keeps each event searchable on disk
    pays at the least (sessions, checks and queues not counted)."""
    src = sqlite3.connect(db)
    rows = src.execute(
        f"SELECT {_COLUMNS} FROM events ORDER BY rid DESC LIMIT ?", (events,)
    ).fetchall()[::-1]
    src.close()
    insert = f"INSERT INTO events ({_COLUMNS}) VALUES ({','.join('?' * 14)})"
    with tempfile.TemporaryDirectory() as tmp:
        conn = raw_schema(Path(tmp) / "floor.db")
        t0 = time.thread_time()
        for lo in range(0, len(rows), batch):
            chunk = rows[lo : lo + batch]
            conn.execute("BEGIN")
            cur = conn.executemany(insert, chunk)
            last = conn.execute("SELECT max(rid) FROM events").fetchone()[0]
            first = last - cur.rowcount + 1
            conn.executemany(
                "INSERT INTO events_fts (rowid, name, content) VALUES (?, ?, ?)",
                [(first + k, r[5], r[13]) for k, r in enumerate(chunk)],
            )
            conn.execute("COMMIT")
        spent = time.thread_time() - t0
        conn.close()
    return spent


def _ratios(samples: dict[str, list[Block]], a: str, b: str, what: str) -> list[float]:
    """Round by round, variant `a`'s figure over `b`'s, minus one (runs per block are equal)."""
    return [
        getattr(x, what) / getattr(y, what) - 1 for x, y in zip(samples[a], samples[b], strict=True)
    ]


def _spread(values: list[float]) -> str:
    """The median and the middle half (quartiles) of per-round ratios, in percent."""
    q = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
    return f"{q[1] * 100:+5.1f}% [{q[0] * 100:+.1f}, {q[2] * 100:+.1f}]"


def compare(
    label: str, graph: Any, variants: dict[str, Any], log: AgentLog, db: Path, args: Any
) -> None:
    """Interleaved rounds of every variant on one graph; prints what the user and the machine pay."""
    for config in variants.values():  # warm up every path once
        timed(graph, config, 3, _writer_clock())
    log.flush()
    clock = _writer_clock()
    writer_start, written_start = time.clock_gettime(clock), log.written
    samples: dict[str, list[Block]] = {k: [] for k in variants}
    landed = 0  # agentlog blocks during which the writer committed a batch
    load = os.getloadavg()[0]
    for r in range(args.rounds):
        order = list(variants.items())
        if r % 2:
            order.reverse()
        for name, config in order:
            before = log.written
            samples[name].append(timed(graph, config, args.runs, clock))
            landed += name == "agentlog" and log.written != before
        if args.flush_rounds:  # the old way: the writer's batch lands between rounds
            log.flush()
    log.flush()  # every run's rows committed: the writer's whole bill is counted below
    writer_total = time.clock_gettime(clock) - writer_start
    recorded = args.rounds * args.runs
    in_blocks = {k: sum(b.writer for b in v) for k, v in samples.items()}
    per_run = {
        k: {w: statistics.median(getattr(b, w) / b.runs for b in v) for w in _FIGURES}
        for k, v in samples.items()
    }
    none = per_run["none"]
    writer_run = writer_total / recorded
    print(
        f"\n{label}: {args.rounds} rounds x {args.runs} runs per variant, interleaved;"
        f" load average {load:.2f} -> {os.getloadavg()[0]:.2f}"
    )
    print(
        "  median per run     wall ms   process cpu ms   graph threads cpu ms   calling thread ms"
    )
    for name in variants:
        f = per_run[name]
        print(
            f"  {name:9}        {f['wall'] * 1000:8.3f}   {f['cpu'] * 1000:14.3f}"
            f"   {f['graph'] * 1000:20.3f}   {f['thread'] * 1000:17.3f}"
        )
    print("  per-round ratios, median [quartiles]")
    for a, b in (("noop", "none"), ("agentlog", "none"), ("agentlog", "noop")):
        print(
            f"  {a} vs {b:5}  wall {_spread(_ratios(samples, a, b, 'wall'))}"
            f"   process cpu {_spread(_ratios(samples, a, b, 'cpu'))}"
            f"   graph threads cpu {_spread(_ratios(samples, a, b, 'graph'))}"
        )
    # The machine's whole bill: the graph threads' CPU in the block plus the writer's CPU for
    # these runs, wherever it ran (in this block, another variant's, between blocks, the flush).
    total = [
        (a.graph / a.runs + writer_run) / (n.graph / n.runs) - 1
        for a, n in zip(samples["agentlog"], samples["none"], strict=True)
    ]
    dispatch = statistics.median(_ratios(samples, "noop", "none", "graph"))
    handler = statistics.median(
        (a.graph - b.graph) / n.graph
        for a, b, n in zip(samples["agentlog"], samples["noop"], samples["none"], strict=True)
    )
    base = none["graph"]
    print(
        f"  total cpu (graph threads + writer's {writer_run * 1000:.3f} ms per run) vs none:"
        f" {_spread(total)}   target < 5%"
    )
    print(
        f"  parts, % of the graph's own cpu ({base * 1000:.3f} ms): dispatch (noop - none)"
        f" {dispatch * 100:+.1f}%, handler (agentlog - noop) {handler * 100:+.1f}%,"
        f" writer thread {writer_run / base * 100:+.1f}%"
    )
    # The floor: LangChain's dispatch to a do-nothing handler plus plain sqlite3 storing the
    # same rows (no sessions, no checks): what a recorder keeping every event costs at least.
    stored = log.written - written_start
    raw_run = raw_store_cpu(db, stored, log._sink.batch_size) / recorded
    floor = dispatch + raw_run / base
    median_total = statistics.median(total)
    print(
        f"  floor: dispatch {dispatch * 100:+.1f}% + plain sqlite3 storing the same"
        f" {stored / recorded:.0f} events a run ({raw_run * 1e6:.0f} µs, {raw_run / base * 100:+.1f}%)"
        f" = {floor * 100:+.1f}%; agentlog's total {median_total * 100:+.1f}% is"
        f" {(1 + median_total) / (1 + floor):.3f}x the graph at the floor"
    )
    outside = writer_total - sum(in_blocks.values())
    print(
        f"  writer thread: {writer_total * 1000:.1f} ms cpu for {recorded} runs"
        f" ({log.written - written_start:,} events); inside agentlog blocks"
        f" {in_blocks['agentlog'] / writer_total * 100:.0f}%, inside none/noop blocks"
        f" {(in_blocks['none'] + in_blocks['noop']) / writer_total * 100:.0f}%, outside"
        f" {outside / writer_total * 100:.0f}%; a commit landed in {landed} of"
        f" {args.rounds} agentlog blocks"
    )


_FIGURES = ("wall", "cpu", "graph", "thread")


def _writer_clock() -> int:
    writer = sdk_writer.current()
    assert writer is not None
    return time.pthread_getcpuclockid(writer.thread.ident or 0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--runs", type=int, default=20, help="graph runs per variant per round")
    parser.add_argument("--replays", type=int, default=2000, help="replayed runs per graph")
    parser.add_argument(
        "--flush-rounds",
        action="store_true",
        help="flush the writer between rounds (default: it commits on its own clock, as in use)",
    )
    parser.add_argument("--only", choices=("react", "supervisor", "slow"), action="append")
    parser.add_argument(
        "--latency",
        type=float,
        action="append",
        help="ms the fake model takes to answer in the 'slow' graph (repeatable; default 20)",
    )
    args = parser.parse_args()
    latencies = args.latency or [20.0]
    tmp = Path(tempfile.mkdtemp(prefix="lg-bench-"))
    db = tmp / "bench.db"
    log = AgentLog(db)
    handler = AgentLogCallback(log)
    variants = {
        "none": {},
        "noop": {"callbacks": [Noop()]},
        "agentlog": {"callbacks": [handler]},
    }
    graphs = (
        ("react", "ReAct agent (2 LLM calls, 2 tools), instant fake model", react_agent),
        (
            "supervisor",
            "supervisor + 2 workers (7 LLM calls, 4 tools), instant fake model",
            supervisor,
        ),
        *(
            (
                "slow",
                f"the same ReAct agent, fake model answering in {ms:g} ms",
                lambda ms=ms: react_agent(ms / 1000),
            )
            for ms in latencies
        ),
    )
    print(
        f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC, {os.cpu_count()} cpus,"
        f" /proc/loadavg {' '.join(f'{x:.2f}' for x in os.getloadavg())},"
        f" writer batch {log._sink.batch_size} events / {log._sink.flush_interval} s,"
        f" {'flush between rounds' if args.flush_rounds else 'no flush between rounds'}"
    )
    for key, label, build in graphs:
        if not args.only or key in args.only:
            compare(label, build(), variants, log, db, args)
    replays = [
        (label, build)
        for key, label, build in (
            ("react", "ReAct agent", react_agent),
            ("supervisor", "supervisor + 2 workers", supervisor),
        )
        if not args.only or key in args.only
    ]
    if replays:
        print(f"\nthe handler alone, {args.replays} replays of one run's callbacks, median per run")
    for label, build in replays:
        mine, bare, wrote, n = replayed(log, build(), args.replays)
        print(
            f"  {label:22} {n:3} callbacks   AgentLogCallback {mine * 1e6:6.1f} µs cpu"
            f" (do-nothing handler {bare * 1e6:4.1f} µs)   its writer thread {wrote * 1e6:6.1f} µs cpu"
        )
    log.close()
    print(f"\nrecorded: {log.written:,} events, dropped {log.dropped}, lost {log.lost}")


if __name__ == "__main__":
    main()
