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
    matcher = difflib.SequenceMatcher(
        None, [signature(e) for e in a], [signature(e) for e in b], autojunk=False
    )
    rows: list[Row] = []
    first: int | None = None
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            rows.extend(Row(a[i1 + k], b[j1 + k], True) for k in range(i2 - i1))
            continue
        if first is None:
            first = len(rows)
        for k in range(max(i2 - i1, j2 - j1)):
            rows.append(
                Row(a[i1 + k] if i1 + k < i2 else None, b[j1 + k] if j1 + k < j2 else None, False)
            )
    return rows, first
