"""Raw `sqlite3` ceilings and deterministic test events, shared by every benchmark.

Each benchmark states its figure beside a ceiling measured in the same run
(machines are shared and noisy). The ceilings here use plain `sqlite3` with
the store's own tables and secondary indexes (taken from the real schema, so
they cannot drift) and, for the full-text ceiling, FTS5 filled in large
transactions — the fastest the hardware allows for the same rows.

    from bench.ceiling import make_events, raw_ingest_rate
    events = make_events(100_000, session_id, seed=1)
    print(raw_ingest_rate(events, fts=True))   # events/s
"""

from __future__ import annotations

import functools
import random
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from agentlog.model import Event, EventType, to_us

# Words with known frequencies in make_events' content, for search benchmarks.
COMMON_WORD = "request"  # in about half of the events
MEDIUM_WORD = "timeout"  # in about 1 %
RARE_WORD = "quokka"  # in about 0.01 %
_MARKERS = ((COMMON_WORD, 0.5), (MEDIUM_WORD, 0.01), (RARE_WORD, 0.0001))

_SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ne",
    "ru",
    "sa",
    "te",
    "vi",
    "do",
    "pa",
    "gu",
    "re",
    "zo",
    "hi",
    "ma",
    "nu",
    "ko",
    "li",
    "be",
    "ta",
]
_TOOLS = ("search_logs", "read_file", "run_tests", "http_get", "sql_query")
_MODELS = ("gpt-4o", "gpt-4o-mini", "claude-sonnet", "llama-3-70b")
_AGENTS = ("planner", "researcher", "coder", "reviewer")
_TYPES = (
    (EventType.TOOL_CALL, 25),
    (EventType.TOOL_RESULT, 25),
    (EventType.LLM_CALL, 20),
    (EventType.AGENT_OUTPUT, 8),
    (EventType.LOG, 10),
    (EventType.USER_INPUT, 5),
    (EventType.ERROR, 3),
    (EventType.HANDOFF, 2),
    (EventType.STATE_UPDATE, 2),
)
BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)


@functools.cache
def _vocabulary(size: int = 4000) -> list[str]:
    rng = random.Random(12345)
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def _uuid7(ms: int, rng: random.Random) -> str:
    value = ms << 80 | 0x7 << 76 | rng.getrandbits(12) << 64 | 0x2 << 62 | rng.getrandbits(62)
    return str(uuid.UUID(int=value))


def make_events(
    n: int,
    session_id: str,
    seed: int = 0,
    start: datetime = BASE_TIME,
    step_ms: float = 1.0,
) -> list[Event]:
    """`n` realistic events for `session_id`: same seed, same events.

    Content is 200–2,000 characters of pseudo-words plus the marker words
    (COMMON_WORD, MEDIUM_WORD, RARE_WORD) at their fixed rates; types, agents,
    tools, models, durations, tokens and cost are mixed as a real run would be.
    """
    rng = random.Random(seed)
    vocab = _vocabulary()
    weights = [w for _, w in _TYPES]
    types = [t for t, _ in _TYPES]
    base_us = to_us(start)
    out: list[Event] = []
    for i in range(n):
        ts_us = base_us + int(i * step_ms * 1000)
        etype = rng.choices(types, weights)[0]
        target = rng.randint(200, 2000)
        words: list[str] = []
        length = 0
        while length < target:
            word = (
                vocab[min(int(rng.paretovariate(1.2)) - 1, len(vocab) - 1)]
                if rng.random() < 0.5
                else rng.choice(vocab)
            )
            words.append(word)
            length += len(word) + 1
        for marker, rate in _MARKERS:
            if rng.random() < rate:
                words[rng.randrange(len(words))] = marker
        content = " ".join(words)[:target]
        name = None
        duration = None
        tokens_in = tokens_out = None
        cost = None
        if etype in (EventType.TOOL_CALL, EventType.TOOL_RESULT):
            name = rng.choice(_TOOLS)
            duration = round(rng.lognormvariate(3.5, 1.0), 3)
        elif etype is EventType.LLM_CALL:
            name = rng.choice(_MODELS)
            duration = round(rng.lognormvariate(6.5, 0.6), 3)
            tokens_in = rng.randint(100, 4000)
            tokens_out = rng.randint(10, 800)
            cost = round((tokens_in * 2.5 + tokens_out * 10) / 1e6, 6)
        status = "error" if etype is EventType.ERROR or rng.random() < 0.02 else "ok"
        out.append(
            Event.model_construct(
                id=_uuid7(ts_us // 1000, rng),
                session_id=session_id,
                timestamp=BASE_TIME + timedelta(microseconds=ts_us - to_us(BASE_TIME)),
                type=etype,
                agent_id=rng.choice(_AGENTS),
                name=name,
                content=content,
                metadata={"step": i, "run": seed} if i % 4 == 0 else {},
                parent_id=None,
                duration_ms=duration,
                status=status,
                input_tokens=tokens_in,
                output_tokens=tokens_out,
                cost_usd=cost,
            )
        )
    return out


def event_rows(events: Sequence[Event]) -> list[tuple]:
    """The events as rows of the `events` table (rid assigned by SQLite)."""
    return [
        (
            e.id,
            e.session_id,
            to_us(e.timestamp),
            str(e.type),
            e.agent_id,
            e.name,
            str(e.status),
            e.parent_id,
            e.duration_ms,
            e.input_tokens,
            e.output_tokens,
            e.cost_usd,
            orjson.dumps(e.metadata).decode(),
            e.content,
        )
        for e in events
    ]


_INSERT = (
    "INSERT INTO events (id, session_id, ts, type, agent_id, name, status, parent_id, duration_ms,"
    " input_tokens, output_tokens, cost_usd, metadata, content) VALUES"
    " (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)


def raw_schema(path: Path, *, fts: bool = True, indexes: bool = True) -> sqlite3.Connection:
    """A fresh file with the store's events table, its secondary indexes and (optionally) FTS5,
    and the store's journal settings (WAL, synchronous=NORMAL, its checkpoint interval)."""
    from agentlog.storage.sqlite.conn import WAL_CHECKPOINT_PAGES
    from agentlog.storage.sqlite.migrations import EVENT_INDEXES, EVENTS_FTS_SQL

    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
    conn.execute(
        "CREATE TABLE events (rid INTEGER PRIMARY KEY, id TEXT NOT NULL, session_id TEXT NOT NULL,"
        " ts INTEGER NOT NULL, type TEXT NOT NULL, agent_id TEXT, name TEXT,"
        " status TEXT NOT NULL DEFAULT 'ok', parent_id TEXT, duration_ms FLOAT,"
        " input_tokens INTEGER, output_tokens INTEGER, cost_usd FLOAT,"
        " metadata TEXT NOT NULL DEFAULT '{}', content TEXT)"
    )
    for sql in EVENT_INDEXES if indexes else EVENT_INDEXES[:1]:
        conn.execute(sql)
    if fts:
        conn.execute(EVENTS_FTS_SQL)
    return conn


def raw_ingest_rate(
    events: Sequence[Event],
    *,
    fts: bool = True,
    txn_rows: int = 10_000,
    indexes: bool = True,
    path: Path | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    """Events/s for plain `sqlite3` inserts of `events` in `txn_rows`-row transactions.

    Same table, same secondary indexes (`indexes=False`: the unique id alone),
    the same journal settings as the store; with `fts`, each transaction
    also fills the FTS5 index with the same rows' name and content. `clock`
    may be `time.process_time` (CPU seconds: what a loaded machine cannot blur).
    """
    rows = event_rows(events)
    with tempfile.TemporaryDirectory() as tmp:
        conn = raw_schema(path or Path(tmp) / "ceiling.db", fts=fts, indexes=indexes)
        try:
            start = clock()
            for lo in range(0, len(rows), txn_rows):
                chunk = rows[lo : lo + txn_rows]
                conn.execute("BEGIN")
                cur = conn.executemany(_INSERT, chunk)
                if fts:
                    last = conn.execute("SELECT max(rid) FROM events").fetchone()[0]
                    first = last - cur.rowcount + 1
                    conn.executemany(
                        "INSERT INTO events_fts (rowid, name, content) VALUES (?, ?, ?)",
                        [(first + k, r[5], r[13]) for k, r in enumerate(chunk)],
                    )
                conn.execute("COMMIT")
            elapsed = clock() - start
        finally:
            conn.close()
    return len(rows) / elapsed


def raw_page_latency(
    conn: sqlite3.Connection, session_id: str, after: tuple[int, str], limit: int = 100
) -> float:
    """Seconds for one keyset page of `limit` events after `after` in a session (raw ceiling)."""
    start = time.perf_counter()
    conn.execute(
        "SELECT * FROM events WHERE session_id = ? AND (ts, id) > (?, ?) ORDER BY ts, id LIMIT ?",
        (session_id, after[0], after[1], limit),
    ).fetchall()
    return time.perf_counter() - start


__all__ = [
    "COMMON_WORD",
    "MEDIUM_WORD",
    "RARE_WORD",
    "event_rows",
    "make_events",
    "raw_ingest_rate",
    "raw_page_latency",
    "raw_schema",
]
