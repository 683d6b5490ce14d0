"""TUI benchmark through Textual's pilot: open a 100,000-event session, jump, filter, search, memory.

Each figure is the time from the user's action until the timeline shows the
result (keys loaded, the bodies at the cursor fetched, the screen refreshed);
the ceiling beside it is the same Store calls timed alone, in the same run.
Memory: resident set size while opening and scrolling a 100,000-event session
of a 1,000,000-event store, against the same process before the app started.

    .venv/bin/python bench/bench_tui.py            # builds bench/out/tui-1m.db once (about a minute)
    .venv/bin/python bench/bench_tui.py --runs 5 --events 1000000
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time
import tracemalloc
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from agentlog.model import Event, EventStatus, EventType, Session, SessionStatus
from agentlog.storage.base import MAX_PAGE, EventQuery, event_cursor
from agentlog.storage.sqlite.store import SQLiteStore
from agentlog.tui.app import make_app
from agentlog.tui.screens.event_filters import EventFilter
from agentlog.tui.screens.timeline import TimelineScreen
from agentlog.tui.widgets.timeline import PAGE, EventTimeline

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BIG = 100_000
TYPES = list(EventType)
NEEDLE = "quokka"  # in 1 event of 500 of the big session


def ident(session: int, n: int) -> str:
    return str(uuid.UUID(int=(0x0195 << 112) | (0x7 << 76) | (0x8 << 60) | (session << 32) | n))


def build(path: Path, total: int) -> str:
    """A store of `total` events: one 100,000-event session, the rest in 10,000-event sessions."""
    store = SQLiteStore(str(path))
    sizes = [BIG] + [10_000] * ((total - BIG) // 10_000)
    start = NOW - timedelta(days=30)
    sessions = [
        Session(
            id=ident(i, 0),
            title="bench: the big session" if i == 0 else f"bench filler {i}",
            status=SessionStatus.COMPLETED,
            created_at=start,
            updated_at=start,
        )
        for i in range(len(sizes))
    ]
    store.write(sessions=sessions)
    written = 0
    for s, size in enumerate(sizes):
        batch: list[Event] = []
        t0 = start + timedelta(hours=s)
        for n in range(1, size + 1):
            kind = TYPES[n % len(TYPES)]
            batch.append(
                Event.model_construct(
                    id=ident(s, n),
                    session_id=sessions[s].id,
                    timestamp=t0 + timedelta(milliseconds=n * 10),
                    type=kind,
                    agent_id=f"agent-{n % 4}",
                    name=f"step_{n % 23}",
                    content=(
                        f"event {n} of the run: {NEEDLE} spotted"
                        if n % 500 == 0
                        else f"event {n} of the run, nothing to see"
                    ),
                    metadata={"n": n},
                    parent_id=None,
                    duration_ms=float(n % 900),
                    status=EventStatus.ERROR if kind == EventType.ERROR else EventStatus.OK,
                    input_tokens=None,
                    output_tokens=None,
                    cost_usd=None,
                )
            )
            if len(batch) == MAX_PAGE:
                store.write(events=batch)
                written += len(batch)
                batch = []
        store.write(events=batch)
        written += len(batch)
        print(f"  wrote {written:,} events", file=sys.stderr, end="\r")
    print(file=sys.stderr)
    store.close()
    return sessions[0].id


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    import os

    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


async def until(pilot, ready: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.perf_counter() + timeout
    while not ready():
        if time.perf_counter() > deadline:
            raise TimeoutError("the TUI did not get there in time")
        await asyncio.sleep(0.002)
    await pilot.pause()  # the refresh that paints it


def ceilings(store: SQLiteStore, sid: str) -> dict[str, float]:
    """The Store calls each action needs, timed alone."""
    q = EventQuery(session_id=sid, limit=PAGE)
    keys: list = []

    def open_() -> None:
        nonlocal keys
        keys = store.event_keys(q)
        store.list_events(q)

    def end() -> None:
        last = (len(keys) - 1) // PAGE * PAGE - 1
        store.list_events(replace(q, cursor=event_cursor(q, *keys[last])))

    fq = replace(q, types=[EventType.TOOL_CALL, EventType.ERROR])

    def filt() -> None:
        store.event_keys(fq)
        store.list_events(fq)

    def search() -> None:
        store.event_keys(replace(q, text=NEEDLE))

    return {"open": timed(open_), "end": timed(end), "filter": timed(filt), "search": timed(search)}


class Clock:
    """Wall and CPU (all threads of this process: the app and its workers) since `start`."""

    def start(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def stop(self, out: dict[str, float], key: str) -> None:
        out[key] = time.perf_counter() - self.wall
        out[f"{key}_cpu"] = time.process_time() - self.cpu


async def one_run(store: SQLiteStore, sid: str) -> dict[str, float]:
    app = make_app(store, now=NOW, poll_interval=None, blink=False)
    out: dict[str, float] = {}
    clock = Clock()
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: bool(getattr(app.screen, "ids", None)))
        # open: from the command to the first screen of the timeline painted
        clock.start()
        app.open_session(sid)

        def shown() -> bool:
            s = app.screen
            if not isinstance(s, TimelineScreen) or not s.query(EventTimeline):
                return False
            return bool(s.timeline.keys) and s.timeline.event_at(0) is not None

        await until(pilot, shown)
        clock.stop(out, "open")
        timeline = app.screen.timeline
        assert len(timeline.keys) == BIG, len(timeline.keys)
        # jump to the end
        clock.start()
        await pilot.press("G")
        await until(
            pilot, lambda: timeline.event_at(BIG - 1) is not None and timeline.cursor_row == BIG - 1
        )
        clock.stop(out, "end")
        await pilot.press("g")
        await until(pilot, lambda: timeline.event_at(0) is not None)
        # the UI floor: one key that moves the cursor one row, with nothing to fetch
        clock.start()
        await pilot.press("j")
        await until(pilot, lambda: timeline.cursor_row == 1)
        clock.stop(out, "floor")
        await pilot.press("k")
        # a type filter (what the t dialog applies)
        clock.start()
        gen = timeline.generation
        app.screen._apply_filter(EventFilter(types=frozenset({"TOOL_CALL", "ERROR"})))
        await until(
            pilot,
            lambda: (
                timeline.generation > gen
                and not timeline.fetching_keys
                and timeline.selected is not None
            ),
        )
        clock.stop(out, "filter")
        assert len(timeline.keys) == 2 * BIG // len(TYPES)
        app.screen._apply_filter(EventFilter())
        await until(
            pilot,
            lambda: (
                not timeline.fetching_keys
                and len(timeline.keys) == BIG
                and timeline.selected is not None
            ),
        )
        # a search: to the first match, highlighted
        clock.start()
        timeline.search(NEEDLE)
        await until(
            pilot,
            lambda: (
                bool(timeline.matches)
                and timeline.selected is not None
                and NEEDLE in (timeline.selected.content or "")
            ),
        )
        clock.stop(out, "search")
        assert len(timeline.matches) == BIG // 500
    return out


async def memory_run(store: SQLiteStore, sid: str) -> dict[str, float]:
    """RSS (which includes SQLite's page cache and memory-mapped file pages) and the
    Python heap traced by tracemalloc (the TUI's own objects), while scrolling."""
    gc.collect()
    before = rss_mb()
    tracemalloc.start()
    app = make_app(store, now=NOW, poll_interval=None, blink=False, session_id=sid)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(
            pilot,
            lambda: (
                isinstance(app.screen, TimelineScreen)
                and bool(app.screen.query(EventTimeline))
                and app.screen.timeline.selected is not None
            ),
        )
        opened = rss_mb()
        heap_opened = tracemalloc.get_traced_memory()[0] / 2**20
        timeline = app.screen.timeline
        peak = opened
        for row in range(0, BIG, PAGE * 2):  # scroll the whole session, a screen every 400 events
            timeline.cursor_row = row
            await until(pilot, lambda row=row: timeline.event_at(row) is not None)
            peak = max(peak, rss_mb())
        pages = len(timeline.pages)
        heap_end, heap_peak = (v / 2**20 for v in tracemalloc.get_traced_memory())
    tracemalloc.stop()
    return {
        "before": before,
        "opened": opened,
        "peak": peak,
        "pages": pages,
        "heap_opened": heap_opened,
        "heap_end": heap_end,
        "heap_peak": heap_peak,
    }


SESSIONS = 10_000


def build_sessions(path: Path) -> None:
    """10,000 sessions of 2 events each: the sessions list's lazy paging."""
    store = SQLiteStore(str(path))
    start = NOW - timedelta(days=60)
    sessions = [
        Session(
            id=ident(1000 + i, 0),
            title=f"run {i:05d}",
            status=SessionStatus.COMPLETED,
            created_at=start + timedelta(minutes=i),
            updated_at=start + timedelta(minutes=i),
        )
        for i in range(SESSIONS)
    ]
    for i in range(0, SESSIONS, MAX_PAGE):
        store.write(sessions=sessions[i : i + MAX_PAGE])
        events = [
            Event(
                id=ident(1000 + j, n),
                session_id=sessions[j].id,
                timestamp=sessions[j].created_at + timedelta(seconds=n),
                type=EventType.LOG,
                agent_id="bench",
                content="hello",
            )
            for j in range(i, min(i + MAX_PAGE, SESSIONS))
            for n in (1, 2)
        ]
        store.write(events=events)
    store.close()


async def sessions_run(store: SQLiteStore) -> dict[str, float]:
    """First screen of the sessions list, then G (last loaded row) until all are loaded."""
    from agentlog.storage.base import SessionQuery

    out: dict[str, float] = {}
    app = make_app(store, now=NOW, poll_interval=None, blink=False)
    t = time.perf_counter()
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: len(getattr(app.screen, "ids", ())) >= 100)
        out["first"] = time.perf_counter() - t
        screen = app.screen
        pages = []
        while len(screen.ids) < SESSIONS:
            have = len(screen.ids)
            t = time.perf_counter()
            await pilot.press("G")
            await until(pilot, lambda have=have: len(screen.ids) > have)
            pages.append(time.perf_counter() - t)
        out["page"] = statistics.median(pages)
        out["page_max"] = max(pages)
        out["pages"] = len(pages)
    q = SessionQuery(limit=100)
    out["ceiling_first"] = timed(lambda: (store.list_sessions(q), store.count_sessions(q)))
    cursor = store.list_sessions(q).next_cursor
    out["ceiling_page"] = timed(lambda: store.list_sessions(replace(q, cursor=cursor)))
    return out


def set_sizes(big: int, sessions: int) -> None:
    """The big session's and the sessions list's sizes (`--quick` runs use small ones)."""
    global BIG, SESSIONS
    BIG, SESSIONS = big, sessions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--events", type=int, default=1_000_000, help="events in the store (one session of 100,000)"
    )
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument(
        "--big", type=int, default=BIG, help="events in the big session (a multiple of 500)"
    )
    parser.add_argument("--sessions", type=int, default=SESSIONS, help="sessions in the list store")
    args = parser.parse_args()
    set_sizes(args.big, args.sessions)
    if args.events < BIG:
        parser.error(f"--events must be at least --big ({BIG:,})")
    db = args.db or Path(__file__).parent / "out" / f"tui-{args.events // 1000}k-{BIG // 1000}k.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    sid = ident(0, 0)
    if not db.exists():
        print(f"building {db} ({args.events:,} events)…", file=sys.stderr)
        t = time.perf_counter()
        build(db, args.events)
        print(f"built in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    store = SQLiteStore(str(db))
    info = store.info()
    print(
        f"store: {info.events:,} events in {info.sessions:,} sessions; big session {BIG:,} events"
    )
    # Bring the text index up to date once, then measure memory in a process that
    # has not run the app yet.
    store.event_keys(EventQuery(session_id=sid, text=NEEDLE))
    mem = asyncio.run(memory_run(store, sid))

    actions = ("open", "end", "filter", "search", "floor")
    tui: dict[str, list[float]] = {k: [] for a in actions for k in (a, f"{a}_cpu")}
    ceil: dict[str, list[float]] = {k: [] for k in ("open", "end", "filter", "search")}
    for _ in range(args.runs):
        for k, v in ceilings(store, sid).items():
            ceil[k].append(v)
        for k, v in asyncio.run(one_run(store, sid)).items():
            tui[k].append(v)
    targets = {"open": 0.5, "end": 0.2, "filter": 0.2, "search": 0.2}
    labels = {
        "open": f"open the {BIG:,}-event session, first screen painted",
        "end": "G: jump to the end, last event painted",
        "filter": f"type filter TOOL_CALL+ERROR ({2 * BIG // len(TYPES):,} events) applied",
        "search": f"search {NEEDLE!r} ({BIG // 500:,} matches), cursor on the first",
    }
    print(f"\n{args.runs} runs, medians (min–max)\n")
    print("| action | TUI wall | TUI cpu | ceiling: Store calls alone | wall / ceiling | target |")
    print("| --- | --- | --- | --- | --- | --- |")
    floor = tui["floor"]
    for k in ceil:
        med, cmed = statistics.median(tui[k]), statistics.median(ceil[k])
        cpu = statistics.median(tui[f"{k}_cpu"])
        ok = "✓" if med < targets[k] else "✗"
        print(
            f"| {labels[k]} | {ms(med)} ({ms(min(tui[k]))}–{ms(max(tui[k]))}) | {ms(cpu)} | {ms(cmed)} | "
            f"{med / cmed:.1f}× | < {ms(targets[k])} {ok} |"
        )
    print(
        f"| UI floor: j moves the cursor one row (nothing to fetch; the pilot's idle wait) | "
        f"{ms(statistics.median(floor))} ({ms(min(floor))}–{ms(max(floor))}) | "
        f"{ms(statistics.median(tui['floor_cpu']))} | — | — | — |"
    )
    sessions_db = db.with_name(f"tui-sessions-{SESSIONS}.db")
    if not sessions_db.exists():
        build_sessions(sessions_db)
    sstore = SQLiteStore(str(sessions_db))
    srun = asyncio.run(sessions_run(sstore))
    sstore.close()
    print(
        f"| sessions list of {SESSIONS:,}: first screen (app start included) | {ms(srun['first'])} | — | "
        f"{ms(srun['ceiling_first'])} (first page + count) | — | — |"
    )
    print(
        f"| sessions list: G at the last loaded row loads the next 100 ({srun['pages']:.0f} pages) | "
        f"{ms(srun['page'])} (max {ms(srun['page_max'])}) | — | {ms(srun['ceiling_page'])} | "
        f"{srun['page'] / srun['ceiling_page']:.0f}× | — |"
    )
    print(
        f"\nmemory: RSS {mem['before']:.0f} MB before the app, {mem['opened']:.0f} MB with the session open, "
        f"peak {mem['peak']:.0f} MB while scrolling all {BIG:,} events (RSS includes SQLite's page cache "
        f"and mapped file pages); Python heap of the app: {mem['heap_opened']:.1f} MB open, "
        f"peak {mem['heap_peak']:.1f} MB, {mem['heap_end']:.1f} MB at the end; "
        f"{mem['pages']:.0f} pages of bodies cached"
    )
    store.close()


if __name__ == "__main__":
    main()
