"""MCP: latency `agentlog mcp proxy` adds per tool call (stdio and Streamable HTTP), and parser speed.

Each proxied figure sits beside its ceiling from the same run: a real `mcp.Client`
calls the same real server directly and through the recording proxy, one call
each in turn, in a shuffled order each round (so machine noise, and the work one
path's process does after its call, hit all alike); the added latency is the
proxied percentile minus the direct one. Over HTTP more clients go through bare
byte relays, the floors: `mcp_relay_floor.py` (asyncio, what any relay in one more
Python process pays) and `mcp_relay_floor.c` (what one more process on the path
costs at all; compiled when a C compiler is there). Each process's CPU time over the timed
calls is printed per round (one call down every path). `--beside DIR` runs a second proxy
from another checkout (DIR, e.g. an export of main) in the same rounds, so a change is
compared with the code before it under the very same load. The parser+mapping rate sits
beside `orjson.loads` alone over the same frames.

Run: .venv/bin/python bench/bench_mcp.py [--calls 1000] [--messages 100000] [--beside DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import orjson
from mcp import Client, StdioServerParameters

from agentlog.mcp.frames import CLIENT_TO_SERVER, SERVER_TO_CLIENT
from agentlog.mcp.mapping import McpMapper

ROOT = Path(__file__).resolve().parent.parent
SERVER = [sys.executable, str(ROOT / "tests" / "mcp" / "servers" / "tools_server.py")]
AGENTLOG = [sys.executable, "-m", "agentlog"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def interleaved(
    clients: list[Any], calls: int, warmed: Callable[[], None] | None = None
) -> list[list[float]]:
    """Per-call latency (ms) of `echo` through each client, each round in a shuffled order;
    `warmed` is called once every path has been warmed, before the timed calls.

    Shuffled, not rotated: in a fixed rotation the same path always came right after the
    proxy, so whatever the proxy's process does after a call (recording) fell on that path's
    calls alone; shuffled it falls on every path alike (the proxy's own included). Seeded, so
    every run makes the same orders.
    """
    took: list[list[float]] = [[] for _ in clients]
    for i in range(20):  # warm every path
        for c in clients:
            await c.call_tool("echo", {"text": f"warm {i}"})
    if warmed is not None:
        warmed()
    n = len(clients)
    orders = random.Random(17)
    for i in range(calls):
        for which in orders.sample(range(n), n):
            start = time.perf_counter()
            result = await clients[which].call_tool("echo", {"text": f"call {i}"})
            took[which].append((time.perf_counter() - start) * 1000)
            assert result.content[0].text == f"call {i}"
    return took


def report(
    label: str,
    direct: list[float],
    proxied: list[float],
    names: tuple[str, str] = ("direct", "proxied"),
) -> dict[str, float]:
    """Percentiles of both paths and what the second adds; `names` label them in the line."""
    out = {
        "direct_p50": percentile(direct, 0.5),
        "direct_p95": percentile(direct, 0.95),
        "proxied_p50": percentile(proxied, 0.5),
        "proxied_p95": percentile(proxied, 0.95),
    }
    out["added_p50"] = out["proxied_p50"] - out["direct_p50"]
    out["added_p95"] = out["proxied_p95"] - out["direct_p95"]
    diffs = [p - d for d, p in zip(direct, proxied, strict=True)]
    out["paired_median"] = statistics.median(diffs)
    print(
        f"{label:6} {names[0]} p50 {out['direct_p50']:.3f} ms p95 {out['direct_p95']:.3f} ms | "
        f"{names[1]} p50 {out['proxied_p50']:.3f} ms p95 {out['proxied_p95']:.3f} ms | "
        f"added p50 {out['added_p50']:+.3f} ms p95 {out['added_p95']:+.3f} ms "
        f"(median of paired differences {out['paired_median']:+.3f} ms)"
    )
    return out


async def bench_stdio(calls: int, env: dict[str, str]) -> dict[str, float]:
    direct = StdioServerParameters(command=SERVER[0], args=SERVER[1:], env=env)
    proxied_cmd = [*AGENTLOG, "mcp", "proxy", "--title", "bench", "--", *SERVER]
    proxied = StdioServerParameters(command=proxied_cmd[0], args=proxied_cmd[1:], env=env)
    async with Client(direct, mode="legacy") as d, Client(proxied, mode="legacy") as p:
        a, b = await interleaved([d, p], calls)
    return report("stdio", a, b)


def _start(
    command: list[str], env: dict[str, str], pattern: str, stderr: bool, cwd: Path | None = None
) -> tuple[Any, int]:
    proc = subprocess.Popen(
        command,
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE if not stderr else subprocess.DEVNULL,
        stderr=subprocess.PIPE if stderr else subprocess.DEVNULL,
        text=True,
    )
    pipe = proc.stderr if stderr else proc.stdout
    assert pipe is not None
    found = re.search(pattern, pipe.readline())
    if found is None:
        proc.kill()
        raise SystemExit(f"could not start {command}")
    return proc, int(found.group(1))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def c_floor(workdir: Path) -> list[str] | None:
    """`mcp_relay_floor.c` compiled into `workdir`, or None without a C compiler."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return None
    binary = workdir / "mcp_relay_floor"
    source = ROOT / "bench" / "mcp_relay_floor.c"
    done = subprocess.run([cc, "-O2", "-o", str(binary), str(source)], capture_output=True)
    return [str(binary)] if done.returncode == 0 else None


async def bench_http(
    calls: int, env: dict[str, str], workdir: Path, beside: Path | None = None
) -> dict[str, float]:
    """Direct, through the bare relay floors (Python's and C's), through `beside`'s proxy if
    given and through the proxy."""
    upstream, port = _start([*SERVER, "http"], env, r"PORT (\d+)", stderr=False)
    url = f"http://127.0.0.1:{port}/mcp"
    relays = {"floor": [sys.executable, str(ROOT / "bench" / "mcp_relay_floor.py")]}
    compiled = c_floor(workdir)
    if compiled is not None:
        relays["cfloor"] = compiled
    names, procs, urls = ["direct"], [upstream], [url]
    for name, command in relays.items():
        proc, rport = _start([*command, str(port)], env, r"PORT (\d+)", stderr=False)
        names.append(name)
        procs.append(proc)
        urls.append(f"http://127.0.0.1:{rport}/mcp")
    # `python -m agentlog` takes the current directory first on sys.path: that tree's code.
    for name, tree in ([("beside", beside)] if beside is not None else []) + [("proxied", ROOT)]:
        proc, pport = _start(
            [*AGENTLOG, "mcp", "proxy", "--upstream", url, "--port", "0"],
            env,
            r"http://127\.0\.0\.1:(\d+)/",
            stderr=True,
            cwd=tree,
        )
        names.append(name)
        procs.append(proc)
        urls.append(f"http://127.0.0.1:{pport}/mcp")
    print("http   pids: " + ", ".join(f"{n} {p.pid}" for n, p in zip(names, procs, strict=True)))
    try:
        async with contextlib.AsyncExitStack() as stack:
            clients = [await stack.enter_async_context(Client(u, mode="legacy")) for u in urls]
            cpu: dict[str, float] = {}

            def warmed() -> None:
                cpu.update((n, cpu_seconds(p.pid)) for n, p in zip(names, procs, strict=True))

            took = await interleaved(clients, calls, warmed)
        used = {n: cpu_seconds(p.pid) - cpu[n] for n, p in zip(names, procs, strict=True)}
        print(
            "http   CPU per timed round, ms (user+sys; direct is the server, on every path): "
            + ", ".join(f"{n} {used[n] * 1000 / calls:.2f}" for n in names)
        )
    finally:
        for proc in reversed(procs):
            proc.terminate()
            proc.wait(30)
    out = report("http", took[0], took[-1])
    out.update({f"cpu_{n}": used[n] * 1000 / calls for n in names})
    for name, times in zip(names[1:-1], took[1:-1], strict=True):
        floor_out = report(name, took[0], times, ("direct", name))
        over = report("http", times, took[-1], (name, "proxied"))  # the proxy beyond that floor
        out.update({f"{name}_{k}": v for k, v in floor_out.items()})
        out.update({f"over_{name}_{k}": v for k, v in over.items()})
    return out


def make_frames(n: int) -> list[tuple[bytes, str]]:
    """A tool-calling conversation: call, progress, result, the odd error and list."""
    frames: list[tuple[bytes, str]] = []
    i = 0
    while len(frames) < n:
        i += 1
        frames.append(
            (
                orjson.dumps(
                    {
                        "jsonrpc": "2.0",
                        "id": i,
                        "method": "tools/call",
                        "params": {
                            "name": "search_docs",
                            "arguments": {"query": f"how do I configure retries {i}", "k": 5},
                            "_meta": {"progressToken": i},
                        },
                    }
                ),
                CLIENT_TO_SERVER,
            )
        )
        frames.append(
            (
                orjson.dumps(
                    {
                        "jsonrpc": "2.0",
                        "method": "notifications/progress",
                        "params": {"progressToken": i, "progress": 1, "total": 2},
                    }
                ),
                SERVER_TO_CLIENT,
            )
        )
        result: dict[str, Any] = {
            "content": [{"type": "text", "text": "Retries are set with max_retries. " * 8}],
            "isError": i % 10 == 0,
        }
        frames.append(
            (orjson.dumps({"jsonrpc": "2.0", "id": i, "result": result}), SERVER_TO_CLIENT)
        )
    return frames[:n]


def _rates(n: int, run: Any) -> tuple[float, float]:
    """Messages/s of one pass of `run`, by the wall clock and by this thread's CPU time."""
    wall, cpu = time.perf_counter(), time.thread_time()
    run()
    return n / (time.perf_counter() - wall), n / (time.thread_time() - cpu)


def bench_parser(n: int, rounds: int = 5) -> dict[str, float]:
    """Alternate `orjson.loads` and the mapper over the same frames; the best of `rounds` each.

    On shared cores every pass is slowed by the other jobs by a varying amount, so
    the least disturbed (fastest) pass of each is the figure; CPU time of this
    thread is given beside the wall clock, and the mapper's median beside its best.
    """
    frames = make_frames(n)

    def ceiling() -> None:
        for data, _ in frames:
            orjson.loads(data)

    counted = {"events": 0}

    def mapping() -> None:
        mapper = McpMapper("00000000-0000-7000-8000-000000000000")
        at = time.time()
        counted["events"] = sum(len(mapper.feed(data, d, at)) for data, d in frames)

    pairs = [(_rates(n, ceiling), _rates(n, mapping)) for _ in range(rounds)]
    out = {
        "ceiling": max(c[0] for c, _ in pairs),
        "ceiling_cpu": max(c[1] for c, _ in pairs),
        "rate": max(m[0] for _, m in pairs),
        "rate_cpu": max(m[1] for _, m in pairs),
        "rate_median": statistics.median(m[0] for _, m in pairs),
    }
    print(
        f"parser+mapping {out['rate']:,.0f} messages/s wall, {out['rate_cpu']:,.0f} by CPU "
        f"(best of {rounds}; median {out['rate_median']:,.0f} wall; {counted['events']:,} events) "
        f"beside orjson.loads alone {out['ceiling']:,.0f} wall, {out['ceiling_cpu']:,.0f} by CPU "
        f"({out['rate'] / out['ceiling']:.1%} / {out['rate_cpu'] / out['ceiling_cpu']:.1%} of it)"
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--only", choices=["stdio", "http", "parser"])
    parser.add_argument(
        "--beside",
        type=Path,
        help="another checkout whose proxy runs in the same rounds (HTTP), e.g. main's",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ)
        env["AGENTLOG_DB"] = str(Path(tmp) / "bench.db")
        env.pop("AGENTLOG_SERVER", None)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, sys.path)])
        if args.only in (None, "parser"):
            bench_parser(args.messages)
        if args.only in (None, "stdio"):
            anyio.run(bench_stdio, args.calls, env)
        if args.only in (None, "http"):
            beside = args.beside.resolve() if args.beside else None
            anyio.run(bench_http, args.calls, env, Path(tmp), beside)


if __name__ == "__main__":
    main()
