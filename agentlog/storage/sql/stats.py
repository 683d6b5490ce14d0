"""The `stats` and `facets` arithmetic the SQLite and PostgreSQL stores share.

Each backend runs its own SQL (the error count and the rid lookup differ by
dialect) and hands the rows here: the sums, the ten slowest events and the
report are built once. PostgreSQL returns numeric sums, hence the int()/float().
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from agentlog.model import Event, ModelUsage, StatsReport
from agentlog.storage.sql.analytics import profile

_TOOL_TYPES = ("TOOL_CALL", "TOOL_RESULT")

# Rows of `timed_sql`: (rid, ts, id, type, name, duration_ms, is_error).
Timed = Sequence[Any]


def timed_sql(base: str, filtered: bool) -> str:
    """Every matching event with a duration; `base` is `FROM events e[ WHERE ...]`."""
    return (
        f"SELECT e.rid, e.ts, e.id, e.type, e.name, e.duration_ms, e.status = 'error' {base}"
        f"{' AND' if filtered else ' WHERE'} e.duration_ms IS NOT NULL"
    )


def slowest(timed: Iterable[Timed]) -> list[Timed]:
    """The ten longest timed rows, ties broken oldest first, then by id."""
    return heapq.nsmallest(10, timed, key=lambda r: (-r[5], r[1], r[2]))


def fold_facets(rows: Iterable[Sequence[Any]], out: dict[str, dict[str, int]]) -> None:
    """Add (type, agent_id, status, count) rows into `out`'s three counters in one pass."""
    for etype, agent, status, n in rows:
        out["type"][etype] = out["type"].get(etype, 0) + n
        if agent is not None:
            out["agent"][agent] = out["agent"].get(agent, 0) + n
        out["status"][status] = out["status"].get(status, 0) + n


@dataclass
class Tally:
    """The sums of `stats`, from (type, agent_id, model, count, errors, in, out, cost, cache
    read, cache creation, reasoning) rows; model is an LLM_CALL's name, else None."""

    by_type: dict[str, int] = field(default_factory=dict)
    by_agent: dict[str, int] = field(default_factory=dict)
    events: int = 0
    errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0
    reasoning_tokens: int = 0
    by_model: dict[str, ModelUsage] = field(default_factory=dict)

    def add(self, rows: Iterable[Sequence[Any]]) -> None:
        for etype, agent, model, n, n_err, n_in, n_out, usd, n_read, n_write, n_reason in rows:
            self.by_type[etype] = self.by_type.get(etype, 0) + n
            if agent is not None:
                self.by_agent[agent] = self.by_agent.get(agent, 0) + n
            self.events += n
            self.errors += n_err
            self.input_tokens += int(n_in)
            self.output_tokens += int(n_out)
            self.cost_usd += float(usd)
            self.cache_read_tokens += int(n_read)
            self.cache_creation_tokens += int(n_write)
            self.reasoning_tokens += int(n_reason)
            if model is not None:
                usage = self.by_model.setdefault(model, ModelUsage())
                usage.calls += n
                usage.input_tokens += int(n_in)
                usage.output_tokens += int(n_out)
                usage.cost_usd += float(usd)

    def report(self, sessions: int, timed: Sequence[Timed], slow: list[Event]) -> StatsReport:
        """The StatsReport of these sums, the timed rows and the slowest events."""
        tools = [(r[4], r[5], r[6]) for r in timed if r[4] is not None and r[3] in _TOOL_TYPES]
        models = [(r[4], r[5], r[6]) for r in timed if r[4] is not None and r[3] == "LLM_CALL"]
        return StatsReport(
            sessions=sessions,
            events=self.events,
            errors=self.errors,
            by_type=dict(sorted(self.by_type.items(), key=lambda kv: (-kv[1], kv[0]))),
            by_agent=dict(sorted(self.by_agent.items(), key=lambda kv: (-kv[1], kv[0]))),
            tools=profile(tools),
            models=profile(models),
            by_model=dict(
                sorted(
                    self.by_model.items(),
                    key=lambda kv: (
                        -kv[1].cost_usd,
                        -kv[1].input_tokens - kv[1].output_tokens,
                        kv[0],
                    ),
                )
            ),
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            cost_usd=self.cost_usd,
            cache_read_tokens=self.cache_read_tokens,
            cache_creation_tokens=self.cache_creation_tokens,
            reasoning_tokens=self.reasoning_tokens,
            slowest=slow,
        )
