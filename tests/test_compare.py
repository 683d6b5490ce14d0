"""align(): two runs step by step, and what it costs on the runs `agentlog run` records."""

from __future__ import annotations

import time

from agentlog.compare import align
from agentlog.model import Event, EventStatus, EventType

SID = "01a24399-e8e3-785b-9009-77bd032e5ecf"


def _log(n: int) -> list[Event]:
    return [
        Event(session_id=SID, type=EventType.LOG, name="stdout", content=f"line {i}")
        for i in range(n)
    ]


def _tool(name: str, status: EventStatus = EventStatus.OK) -> Event:
    return Event(session_id=SID, type=EventType.TOOL_CALL, name=name, status=status)


def test_matching_runs_of_identical_steps_align_in_linear_time() -> None:
    # Every output line of `agentlog run` has one signature (LOG, stdout, ok): difflib
    # alone compared each with every other (10,000 lines: 12 s; 100,000: minutes).
    a, b = _log(10_000), _log(10_000)
    started = time.perf_counter()
    rows, first = align(a, b)
    assert time.perf_counter() - started < 2.0
    assert first is None and len(rows) == 10_000 and all(r.same for r in rows)
    assert rows[0].a is a[0] and rows[0].b is b[0] and rows[-1].b is b[-1]


def test_one_difference_inside_long_identical_runs_is_found_quickly() -> None:
    a = [*_log(10_000), _tool("lookup_order"), *_log(10_000)]
    b = [*_log(10_000), _tool("search_orders"), *_log(10_001)]
    started = time.perf_counter()
    rows, first = align(a, b)
    assert time.perf_counter() - started < 2.0
    assert first == 10_000
    differ = [r for r in rows if not r.same]
    assert [(r.a and r.a.name, r.b and r.b.name) for r in differ] == [
        ("lookup_order", "search_orders"),
        (None, "stdout"),
    ]
    assert len(rows) == 20_002
    assert [r.b for r in rows if r.b is not None] == b
    assert [r.a for r in rows if r.a is not None] == a


def test_steps_in_the_middle_are_still_aligned_by_difflib() -> None:
    a = [_tool("plan"), _tool("search"), _tool("read"), _tool("answer")]
    b = [_tool("plan"), _tool("read"), _tool("write"), _tool("answer")]
    rows, first = align(a, b)
    assert first == 1
    assert [(r.a and r.a.name, r.b and r.b.name, r.same) for r in rows] == [
        ("plan", "plan", True),
        ("search", None, False),
        ("read", "read", True),
        (None, "write", False),
        ("answer", "answer", True),
    ]


def test_one_side_empty_or_a_prefix_of_the_other() -> None:
    assert align([], []) == ([], None)
    a = [_tool("plan"), _tool("answer")]
    rows, first = align(a, [])
    assert first == 0 and [(r.a, r.b) for r in rows] == [(a[0], None), (a[1], None)]
    rows, first = align(a, [*a, _tool("extra", EventStatus.ERROR)])
    assert first == 2 and [r.same for r in rows] == [True, True, False]
