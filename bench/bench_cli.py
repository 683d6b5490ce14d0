"""CLI benchmarks: `agentlog demo` and `sessions list` over 10,000 sessions, each beside a ceiling.

    .venv/bin/python bench/bench_cli.py            # everything (~1 minute)
    .venv/bin/python bench/bench_cli.py --runs 3   # fewer repetitions

Figures (medians; the ceiling of each is measured in the same run):
- demo (library): generate_demo into a fresh file, in-process (target < 5 s); and the
  same followed by the first search, which brings the full-text index up to date.
- demo (process): `python -m agentlog --db NEW demo`, whole process, beside `python -c pass`.
- sessions list query: SessionQuery first page of 50 over 10,000 sessions with their
  aggregates (target < 100 ms), beside a raw sqlite3 `SELECT * FROM sessions LIMIT 50`.
- sessions list command in-process: the Typer command (query + table) through CliRunner.
- sessions list process: `python -m agentlog --db DB sessions list`, whole process,
  beside `python -c pass` (interpreter start: the floor for any command).

The 10,000-session file is built once under bench/out/ (git-ignored) and reused.
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agentlog.demo import generate_demo  # noqa: E402
from agentlog.model import Event, EventType, Session  # noqa: E402
from agentlog.storage import open_store  # noqa: E402
from agentlog.storage.base import EventQuery, SessionQuery  # noqa: E402

OUT = ROOT / "bench" / "out"
SESSIONS = 10_000
EVENTS_PER_SESSION = 5


def timed(fn: Callable[[], object], runs: int, warmup: int = 1) -> tuple[float, float]:
    """Median wall seconds and median CPU seconds (this process + its children) per run.

    CPU time barely moves when other jobs share the cores; wall time does.
    """
    for _ in range(warmup):
        fn()
    walls, cpus = [], []
    for _ in range(runs):
        before = _cpu()
        start = time.perf_counter()
        fn()
        walls.append(time.perf_counter() - start)
        cpus.append(_cpu() - before)
    return statistics.median(walls), statistics.median(cpus)


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def p95_ms(fn: Callable[[], object], runs: int, warmup: int = 3) -> tuple[float, float]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]


def process(args: list[str]) -> Callable[[], object]:
    def run() -> None:
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    return run


def build_sessions_db(path: Path) -> None:
    """10,000 sessions, 5 events each, written through the Store like any producer."""
    store = open_store(str(path))
    base = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        for start in range(0, SESSIONS, 200):
            sessions, events = [], []
            for i in range(start, start + 200):
                at = base + timedelta(minutes=i)
                s = Session(
                    title=f"bench session {i}", tags=["bench"], created_at=at, updated_at=at
                )
                sessions.append(s)
                for j in range(EVENTS_PER_SESSION):
                    events.append(
                        Event(
                            session_id=s.id,
                            timestamp=at + timedelta(seconds=j),
                            type=EventType.LLM_CALL if j % 2 else EventType.TOOL_CALL,
                            agent_id=f"agent-{i % 7}",
                            name="gpt-4o" if j % 2 else "search",
                            content=f"step {j} of session {i}",
                            duration_ms=10.0 * j,
                            input_tokens=100 if j % 2 else None,
                            cost_usd=0.001 if j % 2 else None,
                        )
                    )
            store.write(sessions=sessions, events=events)
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    runs = max(1, args.runs)
    py = sys.executable
    print(f"python {sys.version.split()[0]}, sqlite {sqlite3.sqlite_version}", flush=True)

    # -- demo
    with tempfile.TemporaryDirectory() as tmp:
        counter = iter(range(1000))

        def demo_library(search: bool) -> Callable[[], None]:
            def run() -> None:
                store = open_store(str(Path(tmp) / f"lib-{next(counter)}.db"))
                try:
                    generate_demo(store, seed=0)
                    if search:  # the full-text index is brought up to date by the first search
                        assert store.list_events(EventQuery(text="timeout", limit=5)).items
                finally:
                    store.close()

            return run

        wall, cpu = timed(demo_library(False), runs, warmup=0)
        print(
            f"demo, library, fresh file:          {wall:6.2f} s wall  {cpu:5.2f} s cpu  (target < 5 s)"
        )
        wall, cpu = timed(demo_library(True), runs, warmup=0)
        print(f"demo + first search (index built):  {wall:6.2f} s wall  {cpu:5.2f} s cpu")

        def demo_process() -> None:
            db = Path(tmp) / f"proc-{next(counter)}.db"
            process([py, "-m", "agentlog", "--db", str(db), "demo"])()

        wall, cpu = timed(demo_process, runs)
        floor, floor_cpu = timed(process([py, "-c", "pass"]), runs)
        print(
            f"demo, whole process:                {wall:6.2f} s wall  {cpu:5.2f} s cpu  beside "
            f"python -c pass {floor:.3f} s wall {floor_cpu:.3f} s cpu  (target < 5 s)",
            flush=True,
        )

    # -- sessions list over 10,000 sessions
    OUT.mkdir(parents=True, exist_ok=True)
    db = OUT / f"cli-sessions-{SESSIONS}.db"
    if not db.exists():
        started = time.perf_counter()
        build_sessions_db(db)
        print(f"built {db.name} in {time.perf_counter() - started:.1f} s", flush=True)
    store = open_store(str(db))
    try:
        assert store.count_sessions(SessionQuery()) == SESSIONS
        q50, q95 = p95_ms(lambda: store.list_sessions(SessionQuery(limit=50)), runs * 20)
    finally:
        store.close()
    raw = sqlite3.connect(db)
    r50, _ = p95_ms(lambda: raw.execute("SELECT * FROM sessions LIMIT 50").fetchall(), runs * 20)
    raw.close()
    print(
        f"sessions list query, first page 50: p50 {q50:6.2f} ms  p95 {q95:6.2f} ms  "
        f"beside raw SELECT p50 {r50:.2f} ms (ratio {q50 / r50:.0f}x)  (target < 100 ms)",
        flush=True,
    )

    from typer.testing import CliRunner

    from agentlog.cli.app import app

    runner = CliRunner()

    def command() -> None:
        result = runner.invoke(app, ["--db", str(db), "sessions", "list"])
        assert result.exit_code == 0, result.stderr

    c50, c95 = p95_ms(command, runs * 4)
    print(
        f"sessions list command, in-process:  p50 {c50:6.2f} ms  p95 {c95:6.2f} ms  "
        f"(query + table of 50 rows)",
        flush=True,
    )
    whole, whole_cpu = timed(
        process([py, "-m", "agentlog", "--db", str(db), "sessions", "list"]), runs
    )
    floor, floor_cpu = timed(process([py, "-c", "pass"]), runs)
    print(
        f"sessions list, whole process:       {whole * 1000:6.0f} ms wall {whole_cpu * 1000:4.0f} ms cpu"
        f"  beside python -c pass {floor * 1000:.0f} ms wall {floor_cpu * 1000:.0f} ms cpu"
        f" (cpu ratio {whole_cpu / max(floor_cpu, 1e-3):.0f}x)",
        flush=True,
    )
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
