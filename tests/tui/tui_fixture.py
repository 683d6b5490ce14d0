"""A tiny deterministic store for TUI tests: fixed ids and times, every case a screen must show.

Used where the full demo data would be slower than the test needs; the
snapshot and end-to-end tests use `agentlog.demo.generate_demo`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from agentlog.model import Event, EventStatus, EventType, Session, SessionStatus

NOW = datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)
# The demo data's clock in every TUI test and snapshot: fixed ids, times and "ago" texts.
DEMO_NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Ids:
    """Deterministic UUIDs: the same call order gives the same ids."""

    def __init__(self, prefix: int) -> None:
        self.n = 0
        self.prefix = prefix

    def __call__(self) -> str:
        self.n += 1
        return str(uuid.UUID(int=(self.prefix << 96) | (0x7 << 76) | (0x8 << 60) | self.n))


def run_events(sid: str, ids: Ids, start: datetime, *, fail: bool) -> list[Event]:
    """One agent run: input, an LLM call, a tool call and its result (or a timeout error)."""
    t = start
    evs: list[Event] = []

    def add(**kw: object) -> Event:
        nonlocal t
        t += timedelta(seconds=1)
        ev = Event(id=ids(), session_id=sid, timestamp=t, agent_id="researcher", **kw)
        evs.append(ev)
        return ev

    add(type=EventType.USER_INPUT, content="Find flights from Paris to Tokyo")
    add(
        type=EventType.LLM_CALL,
        name="gpt-4o",
        content="plan: call search_flights",
        duration_ms=820.0,
        input_tokens=120,
        output_tokens=40,
        cost_usd=0.0021,
    )
    call = add(
        type=EventType.TOOL_CALL,
        name="search_flights",
        content='{"from": "CDG", "to": "HND"}',
        duration_ms=30000.0 if fail else 410.0,
        status=EventStatus.ERROR if fail else EventStatus.OK,
    )
    if fail:
        add(
            type=EventType.ERROR,
            name="TimeoutError",
            content="search_flights timed out after 30s",
            parent_id=call.id,
            status=EventStatus.ERROR,
            metadata={"error": {"kind": "timeout", "retry": {"attempts": 3, "backoff_s": 2}}},
        )
    else:
        add(
            type=EventType.TOOL_RESULT,
            name="search_flights",
            content="3 flights",
            parent_id=call.id,
        )
        add(type=EventType.AGENT_OUTPUT, content="Cheapest flight: AF274")
    return evs


def fill(store, *, big: int = 0) -> dict[str, str]:
    """Write the fixture sessions into `store`; return their ids by role."""
    ids = Ids(0x0190)
    ok = Session(
        id=ids(),
        title="flight search (passing)",
        status=SessionStatus.COMPLETED,
        created_at=NOW - timedelta(hours=2),
        updated_at=NOW - timedelta(hours=2),
    )
    bad = Session(
        id=ids(),
        title="flight search (failing)",
        status=SessionStatus.FAILED,
        created_at=NOW - timedelta(hours=1),
        updated_at=NOW - timedelta(hours=1),
        tags=["ci"],
    )
    child = Session(
        id=ids(),
        title="sub-agent: hotel lookup",
        status=SessionStatus.COMPLETED,
        parent_session_id=bad.id,
        created_at=NOW - timedelta(minutes=50),
        updated_at=NOW - timedelta(minutes=50),
    )
    text = Session(
        id=ids(),
        title="unsafe text",
        status=SessionStatus.COMPLETED,
        created_at=NOW - timedelta(minutes=30),
        updated_at=NOW - timedelta(minutes=30),
    )
    store.write(sessions=[ok, bad, child, text])
    store.write(events=run_events(ok.id, ids, ok.created_at, fail=False))
    store.write(events=run_events(bad.id, ids, bad.created_at, fail=True))
    store.write(events=run_events(child.id, ids, child.created_at, fail=False))
    t = text.created_at
    store.write(
        events=[
            Event(
                id=ids(),
                session_id=text.id,
                timestamp=t + timedelta(seconds=1),
                type=EventType.LOG,
                content="\x1b[31mred\x1b[0m and a bell\x07",
            ),
            Event(
                id=ids(),
                session_id=text.id,
                timestamp=t + timedelta(seconds=2),
                type=EventType.LOG,
                content="שלום עולם — مرحبا — こんにちは",
            ),
            Event(
                id=ids(),
                session_id=text.id,
                timestamp=t + timedelta(seconds=3),
                type=EventType.LOG,
                content="x" * 200_000,
            ),
        ]
    )
    out = {"ok": ok.id, "bad": bad.id, "child": child.id, "text": text.id}
    if big:
        s = Session(
            id=ids(),
            title="big session",
            status=SessionStatus.COMPLETED,
            created_at=NOW - timedelta(days=1),
            updated_at=NOW - timedelta(days=1),
        )
        store.write(sessions=[s])
        types = list(EventType)
        batch = []
        for i in range(big):
            batch.append(
                Event(
                    id=ids(),
                    session_id=s.id,
                    timestamp=s.created_at + timedelta(milliseconds=i),
                    type=types[i % len(types)],
                    agent_id=f"agent-{i % 3}",
                    name=f"step-{i % 7}",
                    content=f"event number {i}",
                )
            )
            if len(batch) == 1000:
                store.write(events=batch)
                batch = []
        store.write(events=batch)
        out["big"] = s.id
    return out
