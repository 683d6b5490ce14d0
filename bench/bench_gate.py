"""The regression gate on two 10,000-event sessions vs. its ceiling: reading both sessions.

Run: .venv/bin/python bench/bench_gate.py [--events 10000] [--runs 5]

The ceiling is the part no gate can skip: streaming both sessions' events out of
the store (`iter_events`). The gate adds the alignment of the two step sequences
and every rule. A second figure times the whole `agentlog compare ... --fail-on`
process against `agentlog events SESSION --json` of both sessions (the same reads
through the CLI), in the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agentlog.gate.judge import judge
from agentlog.gate.rules import parse_rules
from agentlog.gate.runs import load_run
from agentlog.model import EventStatus, Session
from agentlog.storage import EventQuery, open_store
from agentlog.storage.base import iter_events
from bench.ceiling import make_events

RULES = "divergence,errors,status,tools,sequence,handoffs,drift,cost+10%,tokens+10%,latency+20%"


def build(db: Path, n: int) -> tuple[str, str]:
    base, run = Session(title="crawl"), Session(title="crawl")
    store = open_store(str(db))
    a = make_events(n, base.id, seed=1)
    b = make_events(n, run.id, seed=1)
    # The run diverges in its last tenth: some of its steps fail.
    b = [
        e.model_copy(update={"status": EventStatus.ERROR}) if i > n * 9 // 10 and i % 7 == 0 else e
        for i, e in enumerate(b)
    ]
    for chunk in range(0, n, 1000):
        store.write([base] if chunk == 0 else [], a[chunk : chunk + 1000])
        store.write([run] if chunk == 0 else [], b[chunk : chunk + 1000])
    store.close()
    return base.id, run.id


def timed(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-gate-"))
    db = folder / "gate.db"
    a, b = build(db, args.events)
    store = open_store(str(db))
    rules = parse_rules([RULES])

    def ceiling() -> None:
        for sid in (a, b):
            for _ in iter_events(store, EventQuery(session_id=sid)):
                pass

    def gate() -> None:
        base = load_run(store, store.get_session(a))
        run = load_run(store, store.get_session(b))
        verdict = judge(base, run, rules)
        assert verdict.broken

    ceiling()  # warm the page cache
    read_s = timed(ceiling, args.runs)
    gate_s = timed(gate, args.runs)
    store.close()
    exe = str(Path(sys.executable).with_name("agentlog"))
    env = {**os.environ, "AGENTLOG_HOME": str(folder / "home")}
    cmd_gate = [exe, "--db", str(db), "compare", a, b, "--fail-on", RULES]

    def run_cli(cmd: list[str]) -> None:
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    proc_gate = timed(lambda: run_cli(cmd_gate), args.runs)
    # The floor of any CLI command: start, open the store, read one session.
    proc_floor = timed(lambda: run_cli([exe, "--db", str(db), "sessions", "show", a]), args.runs)
    load = os.getloadavg()[0]
    print(f"events per session: {args.events:,}; runs: {args.runs}; load {load:.2f}")
    print(f"ceiling: read both sessions (iter_events)        {read_s * 1000:8.1f} ms")
    print(
        f"gate: load + align + {len(rules)} rules              {gate_s * 1000:8.1f} ms"
        f"  ({read_s / gate_s:.0%} of ceiling speed, {gate_s / read_s:.2f}x its time)"
    )
    print(f"whole process: agentlog compare --fail-on ...   {proc_gate * 1000:8.1f} ms")
    print(f"whole process floor: agentlog sessions show A    {proc_floor * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
