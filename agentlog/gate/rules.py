"""The gate's rules: what a run may not do compared with its baseline, or beyond a budget.

A rule is text a user writes after `--fail-on` (comma-separated or repeated):

- `divergence` — the step sequences differ (first divergence reported)
- `errors` — more errors than the baseline; `status` — the run ended worse
- `tools` — any tool newly failing; `tool:NAME` — that tool newly failing
- `sequence` — the order of tool calls changed; `handoffs` — the hand-offs changed
- `drift` — an MCP server's tool definitions changed during the run
- `cost+10%`, `tokens+10%`, `latency+20%`, `errors+0%` — growth over the baseline
- `cost<0.05`, `tokens<20000`, `latency<30s`, `errors<1` — budgets for the run alone
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from agentlog.errors import UsageError
from agentlog.gate.runs import Run

_GROWTH = re.compile(r"^(cost|tokens|latency|errors)\+(\d+(?:\.\d+)?)%$")
_BUDGET = re.compile(r"^(cost|tokens|latency|errors)<(.+)$")
_STATUS_RANK = {"completed": 0, "active": 1, "failed": 2}
RULES_HELP = (
    "divergence, errors, status, tools, tool:NAME, sequence, handoffs, drift, "
    "cost+10%, tokens+10%, latency+20%, cost<0.05, tokens<20000, latency<30s, errors<1"
)


@dataclass(frozen=True)
class Context:
    """One pair being judged, with its alignment already computed."""

    baseline: Run
    run: Run
    first_divergence: int | None
    divergent_steps: int


Check = Callable[[Context], str | None]


@dataclass(frozen=True)
class Rule:
    """A parsed rule: its text and the check that returns why it broke (or None)."""

    text: str
    check: Check


def _metric(run: Run, name: str) -> float:
    return {
        "cost": run.cost_usd,
        "tokens": float(run.tokens),
        "latency": run.duration_ms,
        "errors": float(run.errors),
    }[name]


def _show(name: str, value: float) -> str:
    if name == "cost":
        return f"${value:.4f}"
    if name == "latency":
        return f"{value / 1000:.2f}s" if value >= 1000 else f"{value:.0f}ms"
    return f"{value:,.0f}"


def _growth(name: str, percent: float) -> Check:
    def check(ctx: Context) -> str | None:
        before, after = _metric(ctx.baseline, name), _metric(ctx.run, name)
        if after <= before * (1 + percent / 100):
            return None
        if before == 0:
            return f"{name} went from {_show(name, before)} to {_show(name, after)}"
        rise = (after / before - 1) * 100
        return (
            f"{name} rose {rise:.0f}% ({_show(name, before)} -> {_show(name, after)}), "
            f"over the {percent:g}% allowed"
        )

    return check


def _budget(name: str, limit_text: str, rule: str) -> Check:
    limit = _parse_limit(name, limit_text, rule)

    def check(ctx: Context) -> str | None:
        value = _metric(ctx.run, name)
        if value < limit:
            return None
        return f"{name} is {_show(name, value)}, the budget is under {_show(name, limit)}"

    return check


def _parse_limit(name: str, text: str, rule: str) -> float:
    if name == "latency":
        from agentlog.timeparse import parse_duration

        raw = text.strip()
        try:
            return float(raw) * 1000  # bare seconds
        except ValueError:
            pass
        try:
            return parse_duration(raw, f"rule {rule!r}").total_seconds() * 1000
        except UsageError:
            raise UsageError(
                f"rule {rule!r}: {text!r} is not a duration such as 30s, 2m or 1h"
            ) from None
    try:
        return float(text.strip().lstrip("$").replace("_", "").replace(",", ""))
    except ValueError:
        raise UsageError(f"rule {rule!r}: {text!r} is not a number") from None


def _divergence(ctx: Context) -> str | None:
    if ctx.first_divergence is None:
        return None
    differ = "1 step differs" if ctx.divergent_steps == 1 else f"{ctx.divergent_steps} steps differ"
    return f"the runs diverge at step {ctx.first_divergence + 1} ({differ})"


def _errors(ctx: Context) -> str | None:
    if ctx.run.errors <= ctx.baseline.errors:
        return None
    return f"{ctx.run.errors} error(s), the baseline had {ctx.baseline.errors}"


def _status(ctx: Context) -> str | None:
    before, after = str(ctx.baseline.session.status), str(ctx.run.session.status)
    if _STATUS_RANK.get(after, 1) <= _STATUS_RANK.get(before, 1):
        return None
    return f"the run ended {after}, the baseline {before}"


def _tools(only: str | None) -> Check:
    def check(ctx: Context) -> str | None:
        new = ctx.run.failed_tools - ctx.baseline.failed_tools
        if only is not None:
            new = new & {only}
        if not new:
            return None
        names = ", ".join(sorted(new))
        return f"newly failing tool(s): {names}"

    return check


def _sequence(attr: str, what: str) -> Check:
    def check(ctx: Context) -> str | None:
        before, after = getattr(ctx.baseline, attr), getattr(ctx.run, attr)
        if before == after:
            return None
        at = next(
            (i for i, (x, y) in enumerate(zip(before, after, strict=False)) if x != y),
            min(len(before), len(after)),
        )
        was = before[at] if at < len(before) else "(end)"
        now = after[at] if at < len(after) else "(end)"
        return f"the {what} changed at #{at + 1}: {was} -> {now}"

    return check


def _drift(ctx: Context) -> str | None:
    if not ctx.run.drift:
        return None
    return "an MCP server's tool definitions changed (see the run's mcp.tools_changed event)"


_NAMED: dict[str, Check] = {
    "divergence": _divergence,
    "errors": _errors,
    "status": _status,
    "tools": _tools(None),
    "sequence": _sequence("tool_sequence", "tool-call sequence"),
    "handoffs": _sequence("handoffs", "hand-off sequence"),
    "drift": _drift,
}


def parse_rules(texts: list[str]) -> list[Rule]:
    """Rules from `--fail-on` values (each may hold several, comma-separated)."""
    rules: list[Rule] = []
    for text in texts:
        for raw in text.split(","):
            rule = raw.strip().lower().replace(" ", "")
            if not rule:
                continue
            rules.append(Rule(rule, _parse_one(rule, raw.strip())))
    if texts and not rules:
        # `--fail-on "$RULES"` with RULES unset: a gate with no rule always passes.
        raise UsageError(f"--fail-on names no rule; use {RULES_HELP}")
    return rules


def _parse_one(rule: str, raw: str) -> Check:
    if rule in _NAMED:
        return _NAMED[rule]
    if rule.startswith("tool:") and len(rule) > 5:
        return _tools(raw.strip()[5:])  # tool names keep their case
    growth = _GROWTH.match(rule)
    if growth:
        return _growth(growth.group(1), float(growth.group(2)))
    budget = _BUDGET.match(rule)
    if budget:
        return _budget(budget.group(1), budget.group(2), rule)
    raise UsageError(f"unknown rule {raw!r}; use {RULES_HELP}")
