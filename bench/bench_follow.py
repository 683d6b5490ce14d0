"""What one poll of a followed session costs: the old "keys after the last one" vs `Follower.poll`.

The TUI timeline of an active session polls once a second. Before: one
`event_keys(since=<newest shown>)` per poll (it misses an event stored late
but stamped earlier). Now: `agentlog.storage.follow.Follower.poll`, one
`changed_sessions` when nothing happened, a window read when something did.
Figures are medians per poll on a SQLite store holding one session of EVENTS
events, and through a RemoteStore over an in-process server; the ceiling is
the cheapest Store call (one `get_session`) timed in the same run.

    .venv/bin/python bench/bench_follow.py [--events 100000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from agentlog.model import Event, EventType, Session, from_us, utcnow
from agentlog.server.testing import start_test_server
from agentlog.storage.base import CHANGE_MARGIN_US, EventQuery, Store
from agentlog.storage.follow import Follower
from agentlog.storage.remote import RemoteStore
from agentlog.storage.sqlite.store import SQLiteStore
from bench.ceiling import make_events

ROUNDS = 40


def timed(fn: Callable[[], object], rounds: int = ROUNDS) -> float:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def measure(store: Store, sid: str) -> dict[str, float]:
    query = EventQuery(session_id=sid, order="asc", limit=200)
    last = store.event_keys(query)[-1]
    time.sleep(CHANGE_MARGIN_US / 1e6 + 0.5)  # idle: past the margin a change token re-reads
    follower = Follower(store, query)
    follower.start()

    def old_idle() -> None:
        store.event_keys(replace(query, since=from_us(last[0])))

    def new_idle() -> None:
        assert follower.poll() == []

    written = 0

    def new_one() -> None:  # one event arrived since the last poll
        nonlocal written
        written += 1
        store.write(events=[Event(session_id=sid, type=EventType.LOG, content=f"n{written}")])
        start = time.perf_counter()
        assert len(follower.poll()) == 1
        timings.append(time.perf_counter() - start)

    timings: list[float] = []
    figures = {
        "old idle": timed(old_idle),
        "new idle": timed(new_idle),
        "ceiling": timed(lambda: store.get_session(sid)),
    }
    for _ in range(ROUNDS):
        new_one()
    figures["new, one event"] = statistics.median(timings) * 1000
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        session = Session(title="followed", created_at=utcnow())
        events = make_events(args.events, session.id, seed=3)
        local = SQLiteStore(Path(tmp) / "follow.db")
        local.write(sessions=[session])
        for start in range(0, len(events), 5000):
            local.write(events=events[start : start + 5000])
        results = {"sqlite": measure(local, session.id)}
        local.close()
        folder = Path(tmp) / "server"
        folder.mkdir(mode=0o700)
        server = start_test_server(folder, rate_limit_per_minute=0)
        remote = RemoteStore(
            "http://testserver", api_key=server.admin_key.secret, client=server.client
        )
        remote.write(sessions=[session])
        for start in range(0, min(len(events), 20_000), 1000):
            remote.write(events=events[start : start + 1000])
        results["remote (20,000 events)"] = measure(remote, session.id)
        server.close()
    print(f"one poll of a followed session, medians of {ROUNDS} (ms)")
    for name, f in results.items():
        print(
            f"  {name}: before (event_keys since newest) {f['old idle']:.2f}; "
            f"now idle (changed_sessions) {f['new idle']:.2f}; now with one new event "
            f"{f['new, one event']:.2f}; ceiling (one get_session) {f['ceiling']:.2f}; "
            f"now idle / ceiling {f['new idle'] / f['ceiling']:.2f}x"
        )


if __name__ == "__main__":
    main()
