"""Short sessions: what a session costs the SQLite store's write path beside its events.

An instrumented graph run (LangGraph's ReAct agent with a fake model) is one session of
~12 events; the SDK commits a few dozen such sessions at a time, each as it was last seen
(open, or ended). This times `Store.write_rows` of that workload on the writing thread's
CPU clock and sets it beside its ceiling from the same run: the same events written into
sessions that already exist (so the store's session statements are all that differ).

    .venv/bin/python bench/bench_short_sessions.py                 # ~20 s on 2 cores
    .venv/bin/python bench/bench_short_sessions.py --sessions 2000 --per-write 40

Prints µs of CPU a session for both, their difference (the session's own cost) and the
ratio, as medians over `--rounds` rounds in alternating order, each on a fresh store.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agentlog.model import Event, EventType, Session, SessionStatus, new_id, utcnow
from agentlog.storage.sql.rows import event_values
from agentlog.storage.sqlite.store import SQLiteStore

_TYPES = [
    EventType.USER_INPUT,
    EventType.STATE_UPDATE,
    EventType.LLM_CALL,
    EventType.STATE_UPDATE,
    EventType.TOOL_CALL,
    EventType.TOOL_RESULT,
    EventType.TOOL_CALL,
    EventType.TOOL_RESULT,
    EventType.STATE_UPDATE,
    EventType.LLM_CALL,
    EventType.STATE_UPDATE,
    EventType.AGENT_OUTPUT,
]


def _workload(sessions: int) -> list[tuple[Session, list[tuple[Any, ...]]]]:
    """`sessions` ended sessions of 12 events each, shaped like a ReAct run's."""
    out = []
    t = utcnow()
    for n in range(sessions):
        sid = new_id()
        start = t + timedelta(milliseconds=5 * n)
        session = Session(
            id=sid,
            title=f"ReAct agent run {n}: what is the weather in Paris and in Rome?",
            status=SessionStatus.COMPLETED,
            metadata={"framework": "langgraph", "thread_id": f"t-{n}"},
            created_at=start,
            updated_at=start + timedelta(milliseconds=4),
            ended_at=start + timedelta(milliseconds=4),
        )
        rows = []
        for k, kind in enumerate(_TYPES):
            llm = kind is EventType.LLM_CALL
            rows.append(
                event_values(
                    Event(
                        session_id=sid,
                        timestamp=start + timedelta(microseconds=300 * k),
                        type=kind,
                        agent_id="agent",
                        name="fake-model" if llm else f"step {k}",
                        content={"messages": [{"role": "user", "content": f"weather {n} {k}"}]},
                        input_tokens=120 if llm else None,
                        output_tokens=30 if llm else None,
                        duration_ms=0.2,
                    )
                )
            )
        out.append((session, rows))
    return out


def _run(
    path: Path, work: list[tuple[Session, list[tuple[Any, ...]]]], per_write: int, existing: bool
) -> float:
    """CPU seconds of this thread for writing `work` in writes of `per_write` sessions."""
    store = SQLiteStore(path)
    try:
        if existing:  # the ceiling: the sessions are there already, only events are new
            for lo in range(0, len(work), 500):
                store.write_rows([s for s, _ in work[lo : lo + 500]], [])
        t0 = time.thread_time()
        for lo in range(0, len(work), per_write):
            part = work[lo : lo + per_write]
            store.write_rows(
                [] if existing else [s for s, _ in part], [r for _, rows in part for r in rows]
            )
        return time.thread_time() - t0
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=1200)
    parser.add_argument("--per-write", type=int, default=40, help="sessions a commit holds")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    work = _workload(args.sessions)
    print(
        f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}, {os.cpu_count()} cpus,"
        f" loadavg {os.getloadavg()[0]:.2f}; {args.sessions} sessions x 12"
        f" events, {args.per_write} sessions a write, {args.rounds} rounds"
    )
    new_us: list[float] = []
    events_us: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        _run(Path(tmp) / "warm.db", work[:200], args.per_write, False)  # imports, first calls
        for r in range(args.rounds):
            order = (False, True) if r % 2 == 0 else (True, False)
            for existing in order:
                cpu = _run(Path(tmp) / f"r{r}-{existing}.db", work, args.per_write, existing)
                (events_us if existing else new_us).append(cpu / args.sessions * 1e6)
    a, b = statistics.median(new_us), statistics.median(events_us)
    print(f"  sessions and their events     {a:8.1f} µs cpu a session   {sorted(new_us)}")
    print(f"  ceiling: the events only      {b:8.1f} µs cpu a session   {sorted(events_us)}")
    print(f"  a session's own cost          {a - b:8.1f} µs   ratio {a / b:.3f} of the ceiling")


if __name__ == "__main__":
    main()
