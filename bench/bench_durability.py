"""The cost of `sqlite.synchronous = full` (power-loss durability) against the default `normal`.

Run: .venv/bin/python bench/bench_durability.py [--events 20000] [--runs 3]

Both settings write the same realistic events through `SQLiteStore.write`, in
large batches (the SDK's and import's shape) and in small ones (an agent that
flushes every few events), alternating normal/full so drift hits both alike.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agentlog.model import Session
from agentlog.storage.sqlite.store import SQLiteStore
from bench.ceiling import make_events


def rate(folder: Path, synchronous: str, events: list, batch: int, tag: str) -> float:
    store = SQLiteStore(folder / f"{tag}-{synchronous}.db", synchronous=synchronous)
    session = Session(id=events[0].session_id, title="durability")
    start = time.perf_counter()
    for i in range(0, len(events), batch):
        store.write([session] if i == 0 else [], events[i : i + batch])
    elapsed = time.perf_counter() - start
    store.close()
    return len(events) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-durability-"))
    big = make_events(args.events, Session().id, seed=3)
    small = make_events(max(500, args.events // 20), Session().id, seed=4)
    print(f"load {os.getloadavg()[0]:.2f}; medians of {args.runs} alternating runs")
    for label, events, batch in (
        ("1,000-event batches", big, 1000),
        ("10-event batches", small, 10),
    ):
        normal, full = [], []
        for run in range(args.runs):
            normal.append(rate(folder, "normal", events, batch, f"{batch}-{run}"))
            full.append(rate(folder, "full", events, batch, f"{batch}-{run}"))
        n, f = statistics.median(normal), statistics.median(full)
        print(
            f"{label:<20} normal {n:9,.0f} ev/s   full {f:9,.0f} ev/s   full = {f / n:.0%} of normal"
        )


if __name__ == "__main__":
    main()
