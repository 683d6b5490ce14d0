"""Percentile and latency-profile math shared by every backend's `stats()`.

One definition, so `agentlog stats` prints the same p50/p95 whichever store
answered: percentiles are continuous (linear interpolation between closest
ranks), the same as PostgreSQL's `percentile_cont`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from agentlog.model import DurationStats


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """The q-th quantile (0..1) of already-sorted values, interpolated; None when empty."""
    if not sorted_values:
        return None
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile {q} is outside 0..1")
    pos = (len(sorted_values) - 1) * q
    low = int(pos)
    high = min(low + 1, len(sorted_values) - 1)
    frac = pos - low
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * frac


def duration_stats(name: str, durations: Iterable[float], errors: int = 0) -> DurationStats:
    """The latency profile of one tool or model from its events' durations (ms)."""
    values = sorted(durations)
    return DurationStats(
        name=name,
        count=len(values),
        p50_ms=percentile(values, 0.50),
        p95_ms=percentile(values, 0.95),
        max_ms=values[-1] if values else None,
        total_ms=float(sum(values)),
        errors=errors,
    )


def profile(rows: Iterable[tuple[str, float, bool]]) -> list[DurationStats]:
    """Per-name latency profiles from (name, duration_ms, is_error) rows, slowest p95 first."""
    durations: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    for name, duration, is_error in rows:
        durations.setdefault(name, []).append(duration)
        if is_error:
            errors[name] = errors.get(name, 0) + 1
    out = [duration_stats(name, values, errors.get(name, 0)) for name, values in durations.items()]
    out.sort(key=lambda s: (-(s.p95_ms or 0.0), s.name))
    return out
