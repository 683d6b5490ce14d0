"""The PostgreSQL write path of two checkouts, interleaved batch by batch, so both see the same load.

    AGENTLOG_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/bench_pg_ab.py --base /tmp/agentlog-main [--events 100000]

On a shared machine two benchmark runs minutes apart see different loads
(here the same code measured 55% and 84% of its ceiling in one hour). This
runs one worker process per checkout (`--base DIR`, e.g. a `git worktree` of
main, and this checkout), each with its own `PostgresStore` in a fresh
schema, and asks them in turn to write the same 1,000-event batch
(`bench.ceiling.make_events`, as `bench_postgres.py`), alternating which goes
first; then each brings its full-text index up to date (`flush_index`).
It prints each side's total and median batch time and the ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
BATCH = 1000

WORKER = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
from agentlog.model import Session
from agentlog.storage.postgres.testing import temporary_store
from bench.ceiling import make_events
n = int(sys.argv[2])
session = Session(title="bench")
events = make_events(n, session.id, seed=7)
store = temporary_store(pool_size=4)
store.write(sessions=[session])
print("ready", flush=True)
for line in sys.stdin:
    cmd = line.split()
    start = time.perf_counter()
    if cmd[0] == "w":
        lo = int(cmd[1])
        store.write(events=events[lo : lo + 1000])
    elif cmd[0] == "flush":
        store.flush_index()
    else:
        break
    print(f"{time.perf_counter() - start:.6f}", flush=True)
assert store.get_session(session.id).event_count == n
store.close()
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True, help="the other checkout (e.g. main's worktree)")
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    if not os.environ.get("AGENTLOG_TEST_POSTGRES_URL"):
        sys.exit("set AGENTLOG_TEST_POSTGRES_URL (e.g. postgresql://postgres@127.0.0.1:5432/test)")
    trees = {"base": str(Path(args.base).resolve()), "this": str(HERE)}
    workers = {
        name: subprocess.Popen(
            [sys.executable, "-c", WORKER, tree, str(args.events)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for name, tree in trees.items()
    }

    def ask(name: str, command: str) -> float:
        proc = workers[name]
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(command + "\n")
        proc.stdin.flush()
        return float(proc.stdout.readline())

    for proc in workers.values():
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    times: dict[str, list[float]] = {"base": [], "this": []}
    for k, lo in enumerate(range(0, args.events, BATCH)):
        order = ("base", "this") if k % 2 == 0 else ("this", "base")
        for name in order:
            times[name].append(ask(name, f"w {lo}"))
    flush = {name: ask(name, "flush") for name in ("base", "this")}
    for proc in workers.values():
        assert proc.stdin is not None
        proc.stdin.write("stop\n")
        proc.stdin.close()
        proc.wait()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{args.events:,} events in {BATCH:,}-event batches, interleaved; load after {load}")
    for name in ("base", "this"):
        total = sum(times[name])
        print(
            f"{name} ({trees[name]}): writes {total:.1f} s ({args.events / total:,.0f} events/s),"
            f" median batch {statistics.median(times[name]) * 1000:.1f} ms,"
            f" then flush_index {flush[name]:.1f} s;"
            f" until searchable {args.events / (total + flush[name]):,.0f} events/s"
        )
    ratio = sum(times["this"]) / sum(times["base"])
    both = (sum(times["this"]) + flush["this"]) / (sum(times["base"]) + flush["base"])
    med = statistics.median(times["this"]) / statistics.median(times["base"])
    print(
        f"this / base: writes {ratio:.2f}x the time (median batch {med:.2f}x),"
        f" until searchable {both:.2f}x"
    )


if __name__ == "__main__":
    main()
