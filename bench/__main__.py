"""`python -m bench`: run every benchmark script, print one summary, rewrite RESULTS.md's generated section.

Each benchmark is the existing script under `bench/`, run as its own process with the sizes below
(`--quick` uses the small ones), so one figure's memory and threads never disturb the next. Its
output (every figure beside its ceiling from the same run) is kept verbatim; the lines that carry
a ratio are collected into the summary table. A script that cannot run here (no PostgreSQL, a
missing extra) is reported as skipped with its own last line as the reason.

    python -m bench                 # full sizes
    python -m bench --quick         # small sizes, under two minutes
    python -m bench --only otel     # one benchmark (repeatable)
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
BEGIN = "<!-- python -m bench: generated section, rewritten on every run -->"
END = "<!-- end of generated section -->"
RATIO = re.compile(r"\d+(\.\d+)?\s*(%|×|x\b)")


@dataclass(frozen=True)
class Bench:
    """One benchmark script and its arguments at full and quick sizes."""

    name: str
    script: str
    full: tuple[str, ...]
    quick: tuple[str, ...]
    needs_postgres: bool = False
    needs_env: str = ""  # runs only when this environment variable is set (a peer's executable)


BENCHES = (
    Bench("sdk", "bench_sdk.py", (), ("--calls", "10000", "--events", "5000")),
    Bench("store", "bench_store.py", (), ("ingest", "pages", "--quick")),
    Bench("ingest", "bench_ingest.py", (), ("local", "--events", "5000", "--repeat", "1")),
    Bench("validation", "bench_validation.py", (), ()),
    Bench(
        "tui",
        "bench_tui.py",
        (),
        ("--runs", "1", "--events", "10000", "--big", "5000", "--sessions", "500"),
    ),
    Bench(
        "server",
        "bench_server.py",
        (),
        ("--events", "2000", "--search-events", "5000", "--samples", "10"),
    ),
    Bench(
        "postgres",
        "bench_postgres.py",
        (),
        ("--events", "5000", "--runs", "20"),
        needs_postgres=True,
    ),
    Bench(
        "pg_retention",
        "bench_pg_retention.py",
        (),
        ("--events", "20000"),
        needs_postgres=True,
    ),
    Bench(
        "portability",
        "bench_portability.py",
        (),
        ("--events", "2000", "--per-session", "500", "--server-events", "500"),
    ),
    Bench("mcp", "bench_mcp.py", (), ("--calls", "50", "--messages", "5000")),
    Bench("langgraph", "bench_langgraph.py", (), ("--rounds", "3", "--runs", "5")),
    Bench("otel", "bench_otel.py", (), ("--spans", "2000")),
    Bench(
        "phoenix",
        "bench_phoenix.py",
        (),
        ("--spans", "2000"),
        needs_env="AGENTLOG_PEER_PHOENIX",
    ),
    Bench(
        "llm-fts",
        "bench_llm_fts.py",
        (),
        ("--events", "5000"),
        needs_env="AGENTLOG_PEER_LLM_PYTHON",
    ),
    Bench("cli", "bench_cli.py", (), ("--runs", "1")),
    Bench("gate", "bench_gate.py", (), ("--events", "2000", "--runs", "1")),
    Bench("durability", "bench_durability.py", (), ("--events", "2000", "--runs", "1")),
)


@dataclass
class Outcome:
    """What one benchmark printed and how it ended."""

    bench: Bench
    status: str
    seconds: float
    output: str


def run(bench: Bench, quick: bool, timeout: float) -> Outcome:
    """Run one benchmark script in its own process and keep what it printed."""
    if bench.needs_postgres and not os.environ.get("AGENTLOG_TEST_POSTGRES_URL"):
        return Outcome(bench, "skipped: AGENTLOG_TEST_POSTGRES_URL is not set", 0.0, "")
    if bench.needs_env and not os.environ.get(bench.needs_env):
        return Outcome(
            bench,
            f"skipped: {bench.needs_env} is not set (a peer from bench/requirements-peers.txt)",
            0.0,
            "",
        )
    command = [
        sys.executable,
        str(ROOT / "bench" / bench.script),
        *(bench.quick if quick else bench.full),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    started = time.perf_counter()
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return Outcome(
            bench, f"timed out after {timeout:.0f} s", time.perf_counter() - started, out
        )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        return Outcome(bench, f"failed: {last[:160]}", seconds, done.stdout)
    return Outcome(bench, "ok", seconds, done.stdout)


def ratio_lines(output: str) -> list[str]:
    """The printed lines that state a figure beside its ceiling (they carry a ratio)."""
    return [line.strip() for line in output.splitlines() if RATIO.search(line) and line.strip()]


def machine() -> str:
    """One line naming the machine and the versions the figures were measured with."""
    from agentlog import __version__

    return (
        f"{os.cpu_count()} cores ({platform.processor() or platform.machine()}), "
        f"load {os.getloadavg()[0]:.1f}, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, AgentLog {__version__}, "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
    )


def section(outcomes: list[Outcome], command: str) -> str:
    """The generated RESULTS.md section: summary table, then each script's output verbatim."""
    lines = [BEGIN, "## Latest `python -m bench` run (generated)", "", f"Command: `{command}`", ""]
    lines += [
        f"Machine: {machine()}.",
        "",
        "| benchmark | status | seconds | figures with their ceilings |",
    ]
    lines += ["| --- | --- | --- | --- |"]
    for o in outcomes:
        figures = "<br>".join(x.replace("|", "\\|") for x in ratio_lines(o.output)) or "—"
        lines.append(f"| {o.bench.name} | {o.status} | {o.seconds:.1f} | {figures} |")
    for o in outcomes:
        if o.output.strip():
            lines += [
                "",
                f"### {o.bench.name} (`bench/{o.bench.script}`)",
                "",
                "```",
                o.output.rstrip(),
                "```",
            ]
    lines.append(END)
    return "\n".join(lines) + "\n"


def rewrite_results(text: str) -> None:
    """Replace the generated section of RESULTS.md (or append it), keeping the hand-written history."""
    current = RESULTS.read_text(encoding="utf-8")
    if BEGIN in current and END in current:
        head, rest = current.split(BEGIN, 1)
        tail = rest.split(END, 1)[1].lstrip("\n")
        updated = head + text + ("\n" + tail if tail else "")
    else:
        updated = current.rstrip("\n") + "\n\n" + text
    RESULTS.write_text(updated, encoding="utf-8")


def main() -> None:
    names = [b.name for b in BENCHES]
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (under two minutes)")
    parser.add_argument("--only", action="append", choices=names, help="run only this benchmark")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per benchmark")
    parser.add_argument(
        "--no-write", action="store_true", help="print only; leave RESULTS.md alone"
    )
    args = parser.parse_args()
    timeout = args.timeout or (60.0 if args.quick else 1800.0)
    chosen = [b for b in BENCHES if not args.only or b.name in args.only]
    outcomes = []
    for bench in chosen:
        print(f"== {bench.name} ...", flush=True)
        outcome = run(bench, args.quick, timeout)
        print(f"   {outcome.status} ({outcome.seconds:.1f} s)", flush=True)
        for line in ratio_lines(outcome.output):
            print(f"   {line}")
        outcomes.append(outcome)
    command = "python -m bench" + (" --quick" if args.quick else "")
    command += "".join(f" --only {n}" for n in args.only or [])
    print()
    print(f"{'benchmark':12} {'status':40} seconds")
    for o in outcomes:
        print(f"{o.bench.name:12} {o.status[:40]:40} {o.seconds:7.1f}")
    if not args.no_write:
        rewrite_results(section(outcomes, command))
        print(f"\nwrote the generated section of {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
