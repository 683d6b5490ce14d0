"""Two sessions step by step: the alignment the TUI's compare screen and `agentlog mcp serve` share."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from agentlog.model import Event


@dataclass
class Row:
    """One aligned step: the event on each side (None where a side has no such step)."""

    a: Event | None
    b: Event | None
    same: bool


def signature(event: Event) -> tuple[str, str, str]:
    """What makes two steps "the same step": type, name and outcome."""
    return (str(event.type), event.name or "", str(event.status))


def align(a: list[Event], b: list[Event]) -> tuple[list[Row], int | None]:
    """Pair the steps of two runs by their order (a diff of signatures); return the first divergence."""
    sig_a, sig_b = [signature(e) for e in a], [signature(e) for e in b]
    # difflib compares each step with every step of the same signature, so a run of
    # identical steps (every output line of `agentlog run` is LOG/stdout/ok) costs
    # n x m: 12 s for two 10,000-line runs. The common head and tail are paired
    # first, as diff tools do, so matching runs cost O(n) and difflib only sees
    # the part that differs.
    shortest = min(len(sig_a), len(sig_b))
    head = 0
    while head < shortest and sig_a[head] == sig_b[head]:
        head += 1
    tail = 0
    while tail < shortest - head and sig_a[-1 - tail] == sig_b[-1 - tail]:
        tail += 1
    rows = [Row(a[k], b[k], True) for k in range(head)]
    first: int | None = None
    matcher = difflib.SequenceMatcher(
        None, sig_a[head : len(a) - tail], sig_b[head : len(b) - tail], autojunk=False
    )
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        i1, i2, j1, j2 = i1 + head, i2 + head, j1 + head, j2 + head
        if op == "equal":
            rows.extend(Row(a[i1 + k], b[j1 + k], True) for k in range(i2 - i1))
            continue
        if first is None:
            first = len(rows)
        for k in range(max(i2 - i1, j2 - j1)):
            rows.append(
                Row(a[i1 + k] if i1 + k < i2 else None, b[j1 + k] if j1 + k < j2 else None, False)
            )
    rows.extend(Row(a[len(a) - tail + k], b[len(b) - tail + k], True) for k in range(tail))
    return rows, first
