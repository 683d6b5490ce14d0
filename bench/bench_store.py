"""Store benchmarks: the foundation issue's store figures, each beside its raw ceiling from the same run.

    .venv/bin/python bench/bench_store.py              # everything (builds bench/out/*.db once)
    .venv/bin/python bench/bench_store.py ingest pages # some sections
    .venv/bin/python bench/bench_store.py --quick      # smaller sizes, for a smoke run

Sections:
- ingest:   100,000 events through SQLiteStore.write (batches of 1,000) until durable and
            found by search, vs raw sqlite3 with the same indexes and FTS5 filled in
            10,000-row transactions; durable-only vs raw without FTS.
- sessions: list_sessions over 10,000 sessions with aggregates (first page, every sort
            key, the whole list paged) vs a raw indexed SELECT.
- pages:    a page of 100 events at the start, middle and end of a 100,000-event session
            (p95) vs the same raw keyset SELECT.
- search:   newest-first first page for a common, medium and rare word over 1,000,000
            events (p95) vs raw FTS5 MATCH ORDER BY rowid DESC LIMIT.

Data files are built once under bench/out/ (git-ignored) and reused.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agentlog.model import Session, new_id, to_us
from agentlog.storage.base import EventQuery, SessionQuery, event_cursor, iter_sessions
from agentlog.storage.sql.analytics import percentile
from agentlog.storage.sqlite import fts as sqlite_fts
from agentlog.storage.sqlite.store import SQLiteStore
from bench.ceiling import (
    BASE_TIME,
    COMMON_WORD,
    MEDIUM_WORD,
    RARE_WORD,
    make_events,
    raw_ingest_rate,
    raw_page_latency,
)

OUT = Path(__file__).resolve().parent / "out"
BATCH = 1000  # events per write(): the SDK's batch and the API's limit
LINES: list[str] = []


def report(line: str) -> None:
    print(line, flush=True)
    LINES.append(line)


def p95_ms(fn: Callable[[], object], runs: int, warmup: int = 3) -> tuple[float, float]:
    """(p50, p95) of fn's wall time in ms."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return percentile(samples, 0.5) or 0.0, percentile(samples, 0.95) or 0.0


def fmt(t: tuple[float, float], digits: int = 2) -> str:
    """`p50 / p95` in ms."""
    return f"{t[0]:.{digits}f} / {t[1]:.{digits}f} ms"


def load() -> str:
    return f"load average {os.getloadavg()[0]:.1f}"


# ---------------------------------------------------------------- ingest
def bench_ingest(n: int) -> None:
    sid = new_id()
    events = make_events(n, sid, seed=1)
    raw_fts = raw_ingest_rate(events, fts=True, txn_rows=10_000)
    raw_plain = raw_ingest_rate(events, fts=False, txn_rows=10_000)
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "ingest.db")
        start = time.perf_counter()
        for lo in range(0, n, BATCH):
            store.write(events=events[lo : lo + BATCH])
        durable = time.perf_counter()
        found = store.count_events(
            EventQuery(session_id=sid, text=RARE_WORD)
        )  # catches the index up
        searchable = time.perf_counter()
        assert found == sum(RARE_WORD in (e.content or "") for e in events)
        store.close()
    with tempfile.TemporaryDirectory() as tmp:
        saved = sqlite_fts.FTS_BATCH_ROWS
        sqlite_fts.FTS_BATCH_ROWS = 10**12  # durable only: leave the whole index for later
        try:
            store = SQLiteStore(Path(tmp) / "durable.db")
            start2 = time.perf_counter()
            for lo in range(0, n, BATCH):
                store.write(events=events[lo : lo + BATCH])
            durable_only = time.perf_counter() - start2
            store.close()
        finally:
            sqlite_fts.FTS_BATCH_ROWS = saved
    rate_search = n / (searchable - start)
    rate_durable = n / durable_only
    report(
        f"- ingest {n:,} events, batches of {BATCH:,}, durable + searchable: "
        f"**{rate_search:,.0f} ev/s** = **{rate_search / raw_fts:.0%}** of raw sqlite3 + FTS5 "
        f"in 10k-row txns ({raw_fts:,.0f} ev/s); writes returned after {durable - start:.2f} s, "
        f"index caught up {searchable - durable:.2f} s later"
    )
    report(
        f"- ingest durable only (index deferred): **{rate_durable:,.0f} ev/s** = "
        f"**{rate_durable / raw_plain:.0%}** of raw sqlite3 without FTS ({raw_plain:,.0f} ev/s)"
    )


# ---------------------------------------------------------------- sessions
def build_sessions(path: Path, n_sessions: int, per_session: int) -> None:
    store = SQLiteStore(path)
    sessions, events = [], []
    for i in range(n_sessions):
        created = BASE_TIME + timedelta(seconds=37 * i)
        s = Session(
            title=f"run {i}",
            tags=["eval"] if i % 3 else ["ci"],
            created_at=created,
            updated_at=created,
        )
        sessions.append(s)
        events += make_events(per_session, s.id, seed=i, start=created, step_ms=250)
        if len(events) >= 10_000:
            store.write(sessions=sessions, events=events)
            sessions, events = [], []
    store.write(sessions=sessions, events=events)
    store.flush_index()
    store.close()


def bench_sessions(n_sessions: int, per_session: int) -> None:
    path = OUT / f"sessions-{n_sessions}x{per_session}.db"
    if not path.exists():
        t = time.perf_counter()
        build_sessions(path, n_sessions, per_session)
        print(f"  (built {path.name} in {time.perf_counter() - t:.0f} s)", file=sys.stderr)
    store = SQLiteStore(path)
    raw = sqlite3.connect(path)
    raw_sql = (
        "SELECT s.*, st.* FROM session_stats st JOIN sessions s ON s.id = st.session_id"
        " ORDER BY st.activity_at DESC LIMIT 100"
    )
    ceiling = p95_ms(lambda: raw.execute(raw_sql).fetchall(), 50)
    first = p95_ms(lambda: store.list_sessions(SessionQuery(limit=100)), 50)
    report(
        f"- sessions list, {n_sessions:,} sessions ({n_sessions * per_session:,} events), first page "
        f"of 100 with aggregates, p50 / p95: **{fmt(first)}** (raw indexed SELECT {fmt(ceiling)}; "
        f"p50 {first[0] / ceiling[0]:.1f}x) [{load()}]"
    )
    sorts = []
    for sort in ("created_at", "updated_at", "title", "event_count", "cost_usd", "duration_ms"):
        t = p95_ms(lambda sort=sort: store.list_sessions(SessionQuery(sort=sort, limit=100)), 20)
        sorts.append(f"{sort} {fmt(t)}")
    tagged = p95_ms(lambda: store.list_sessions(SessionQuery(tags=["ci"], limit=100)), 20)
    agent = p95_ms(lambda: store.list_sessions(SessionQuery(agent="coder", limit=100)), 20)
    whole = p95_ms(
        lambda: sum(1 for _ in iter_sessions(store, SessionQuery(), page_size=1000)), 5, warmup=1
    )
    agents = p95_ms(store.agents, 20)
    report(
        "- sessions list, other sorts, p50 / p95: "
        + "; ".join(sorts)
        + f"; tag filter {fmt(tagged)}; "
        f"agent filter {fmt(agent)}; all {n_sessions:,} paged by 1,000: {fmt(whole, 0)}; "
        f"agents(): {fmt(agents)}"
    )
    raw.close()
    store.close()


# ---------------------------------------------------------------- pages
def bench_pages(n: int) -> None:
    path = OUT / f"session-{n}.db"
    sid_file = path.with_suffix(".sid")
    if not path.exists():
        sid = new_id()
        store = SQLiteStore(path)
        for lo in range(0, n, 10_000):
            store.write(
                events=make_events(
                    min(10_000, n - lo),
                    sid,
                    seed=lo,
                    start=BASE_TIME + timedelta(seconds=lo / 100),
                    step_ms=10,
                )
            )
        store.flush_index()
        store.close()
        sid_file.write_text(sid)
    sid = sid_file.read_text().strip()
    store = SQLiteStore(path)
    raw = sqlite3.connect(path)
    keys = store.event_keys(EventQuery(session_id=sid))
    assert len(keys) == n
    parts = []
    for label, at in (("start", 0), ("middle", n // 2), ("end", n - 101)):
        for order in ("asc", "desc"):
            q = EventQuery(session_id=sid, limit=100, order=order)
            pos = at if order == "asc" else n - 1 - at
            ts, eid = keys[pos]
            q = replace(q, cursor=event_cursor(q, ts, eid))
            got = p95_ms(lambda q=q: store.list_events(q), 100)
            if order == "asc":
                ceiling = p95_ms(lambda ts=ts, eid=eid: raw_page_latency(raw, sid, (ts, eid)), 100)
                parts.append(f"{label} **{fmt(got)}** (raw keyset SELECT {fmt(ceiling)})")
            else:
                parts[-1] += f", newest-first {fmt(got)}"
    keys_ms = p95_ms(lambda: store.event_keys(EventQuery(session_id=sid)), 5, warmup=1)
    report(
        f"- page of 100 events in a {n:,}-event session, p50 / p95: "
        + "; ".join(parts)
        + f" [{load()}]"
    )
    report(f"- event_keys of the whole {n:,}-event session: {fmt(keys_ms, 0)}")
    raw.close()
    store.close()


# ---------------------------------------------------------------- search
def build_search(path: Path, n: int, per_session: int = 10_000) -> None:
    store = SQLiteStore(path)
    for k in range(n // per_session):
        # Sessions overlap in time (each spans ~17 min, one starts every minute), so the
        # order events were written in differs from their time order, as with real agents.
        sid = new_id()
        store.write(
            events=make_events(
                per_session, sid, seed=1000 + k, start=BASE_TIME + timedelta(minutes=k), step_ms=100
            )
        )
        if k % 10 == 9:
            print(f"  ... {(k + 1) * per_session:,} events", file=sys.stderr, flush=True)
    store.flush_index()
    store.close()


def bench_search(n: int) -> None:
    path = OUT / f"search-{n}.db"
    if not path.exists():
        t = time.perf_counter()
        build_search(path, n)
        print(f"  (built {path.name} in {time.perf_counter() - t:.0f} s)", file=sys.stderr)
    store = SQLiteStore(path)
    raw = sqlite3.connect(path)
    total = store.info().events
    parts = []
    for label, word in (("common", COMMON_WORD), ("medium", MEDIUM_WORD), ("rare", RARE_WORD)):
        hits = raw.execute(
            "SELECT count(*) FROM events_fts WHERE events_fts MATCH ?", (f'"{word}"',)
        ).fetchone()[0]
        q = EventQuery(text=word, order="desc", limit=100)
        got = p95_ms(lambda q=q: store.list_events(q), 30)
        ceiling = p95_ms(
            lambda word=word: raw.execute(
                "SELECT rowid FROM events_fts WHERE events_fts MATCH ? ORDER BY rowid DESC LIMIT 100",
                (f'"{word}"',),
            ).fetchall(),
            30,
        )
        parts.append(
            f"{label} '{word}' ({hits:,} hits) **{fmt(got, 1)}** (raw FTS5 {fmt(ceiling)})"
        )
    report(
        f"- search over {total:,} events, first page of 100 newest-first, p50 / p95: "
        + "; ".join(parts)
        + f" [{load()}]"
    )
    sid = raw.execute("SELECT session_id FROM events WHERE rid = ?", (n // 2,)).fetchone()[0]
    inside = []
    for label, word in (("common", COMMON_WORD), ("rare", RARE_WORD)):
        got = p95_ms(
            lambda word=word: store.list_events(
                EventQuery(text=word, session_id=sid, order="desc")
            ),
            20,
        )
        inside.append(f"in one session, {label} {fmt(got, 1)}")
    q = EventQuery(text=COMMON_WORD, order="desc", limit=100)
    deep = store.list_events(q)
    for _ in range(20):
        deep = store.list_events(replace(q, cursor=deep.next_cursor))
    q21 = replace(q, cursor=deep.next_cursor)
    inside.append(f"common word, page 21: {fmt(p95_ms(lambda: store.list_events(q21), 10), 1)}")
    count = p95_ms(lambda: store.count_events(EventQuery(text=MEDIUM_WORD)), 5, warmup=1)
    inside.append(f"count_events(medium word): {fmt(count, 1)}")
    report("- search, other shapes, p50 / p95: " + "; ".join(inside))
    raw.close()
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sections", nargs="*", default=["ingest", "sessions", "pages", "search"])
    parser.add_argument("--quick", action="store_true", help="10x smaller sizes (a smoke run)")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    scale = 10 if args.quick else 1
    started = time.perf_counter()
    for section in args.sections:
        if section == "ingest":
            bench_ingest(100_000 // scale)
        elif section == "sessions":
            bench_sessions(10_000 // scale, 10)
        elif section == "pages":
            bench_pages(100_000 // scale)
        elif section == "search":
            bench_search(1_000_000 // scale)
        else:
            parser.error(f"unknown section {section!r}")
    print(
        f"(total {time.perf_counter() - started:.0f} s; sqlite {sqlite3.sqlite_version}; ts {to_us(BASE_TIME)})",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
