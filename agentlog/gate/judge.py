"""Pair baseline and run sessions, align their steps and apply the rules: the gate's verdict."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agentlog.compare import align
from agentlog.gate.rules import Context, Rule
from agentlog.gate.runs import Run


@dataclass
class Verdict:
    """One baseline/run pair: the comparison and the rules it broke."""

    baseline: Run | None
    run: Run | None
    first_divergence: int | None = None
    divergent_steps: int = 0
    steps: int = 0
    broken: list[tuple[str, str]] = field(default_factory=list)  # (rule, why)
    passed: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        side = self.baseline or self.run
        return side.title if side is not None else ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "title": self.title,
            "baseline": self.baseline.summary() if self.baseline else None,
            "run": self.run.summary() if self.run else None,
            "steps": self.steps,
            "divergent_steps": self.divergent_steps,
            "first_divergence": None,
            "broken": [{"rule": r, "message": m} for r, m in self.broken],
            "passed": self.passed,
        }
        if self.first_divergence is not None and self.baseline and self.run:
            out["first_divergence"] = {"step": self.first_divergence + 1}
        return out


def judge(baseline: Run, run: Run, rules: list[Rule]) -> Verdict:
    """Compare one pair and apply every rule."""
    rows, first = align(baseline.events, run.events)
    differing = sum(1 for row in rows if not row.same)
    verdict = Verdict(baseline, run, first, differing, len(rows))
    ctx = Context(baseline, run, first, differing)
    for rule in rules:
        why = rule.check(ctx)
        if why is None:
            verdict.passed.append(rule.text)
        else:
            verdict.broken.append((rule.text, why))
    return verdict


def unpaired(baseline: Run | None, run: Run | None) -> Verdict:
    """A title only one side has: a broken "pairing", with or without rules (exit 1)."""
    side = "run" if baseline is None else "baseline"
    verdict = Verdict(baseline, run)
    other = "baseline" if side == "run" else "run"
    verdict.broken.append(("pairing", f"no {other} session titled {verdict.title!r}"))
    return verdict


def pair_by_title(baselines: list[Run], runs: list[Run]) -> list[tuple[Run | None, Run | None]]:
    """Pairs of sessions with the same title (the newest of each title per side)."""
    if len(baselines) == 1 and len(runs) == 1:
        return [(baselines[0], runs[0])]
    left = _newest_by_title(baselines)
    right = _newest_by_title(runs)
    titles = sorted(set(left) | set(right))
    return [(left.get(t), right.get(t)) for t in titles]


def repeated_titles(runs: list[Run]) -> list[str]:
    """Titles more than one session of a set has (pair_by_title keeps only the newest)."""
    if len(runs) < 2:
        return []
    seen: dict[str, int] = {}
    for run in runs:
        seen[run.title] = seen.get(run.title, 0) + 1
    return sorted(t for t, n in seen.items() if n > 1)


def _newest_by_title(runs: list[Run]) -> dict[str, Run]:
    out: dict[str, Run] = {}
    for run in runs:
        current = out.get(run.title)
        if current is None or run.session.created_at > current.session.created_at:
            out[run.title] = run
    return out
