"""Percentiles and latency profiles shared by every backend's stats()."""

from __future__ import annotations

import pytest

from agentlog.storage.sql.analytics import duration_stats, percentile, profile


def test_percentile_interpolates_like_percentile_cont():
    values = [10.0, 20.0, 30.0, 40.0]
    assert percentile(values, 0.5) == 25.0
    assert percentile(values, 0.95) == pytest.approx(38.5)
    assert percentile(values, 0.0) == 10.0 and percentile(values, 1.0) == 40.0
    assert percentile([7.0], 0.95) == 7.0
    assert percentile([], 0.5) is None
    with pytest.raises(ValueError):
        percentile(values, 1.5)


def test_duration_stats():
    stats = duration_stats("search", [30.0, 10.0, 20.0], errors=1)
    assert (stats.count, stats.p50_ms, stats.max_ms, stats.total_ms, stats.errors) == (
        3,
        20.0,
        30.0,
        60.0,
        1,
    )
    empty = duration_stats("idle", [])
    assert (empty.count, empty.p50_ms, empty.max_ms) == (0, None, None)


def test_profile_groups_by_name_slowest_first():
    rows = [("a", 1.0, False), ("b", 100.0, True), ("a", 3.0, True), ("b", 50.0, False)]
    out = profile(rows)
    assert [s.name for s in out] == ["b", "a"]
    assert (out[1].count, out[1].errors, out[1].p50_ms) == (2, 1, 2.0)
