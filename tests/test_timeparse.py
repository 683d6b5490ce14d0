"""Times and durations as users type them: ISO 8601, now, 30m, 2h, 7d."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agentlog.errors import UsageError
from agentlog.timeparse import parse_duration, parse_time

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("30m", timedelta(minutes=30)),
        ("2h", timedelta(hours=2)),
        ("7d", timedelta(days=7)),
        ("1w", timedelta(weeks=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1.5h", timedelta(minutes=90)),
        (" 3 days ", timedelta(days=3)),
    ],
)
def test_durations(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "10", "h", "10x", "-5m", "tomorrow"])
def test_bad_durations_name_the_option(text):
    with pytest.raises(UsageError, match="--older-than"):
        parse_duration(text, "--older-than")


def test_relative_and_absolute_times():
    assert parse_time("30m", now=NOW) == NOW - timedelta(minutes=30)
    assert parse_time("7d", now=NOW) == NOW - timedelta(days=7)
    assert parse_time("now", now=NOW) == NOW
    assert parse_time("2026-01-31T12:00:00Z") == datetime(2026, 1, 31, 12, tzinfo=UTC)
    assert parse_time("2026-01-31") == datetime(2026, 1, 31, tzinfo=UTC)
    offset = parse_time("2026-01-31T12:00:00+02:00")
    assert offset == datetime(2026, 1, 31, 10, tzinfo=UTC) and offset.tzinfo is not None


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01", "31/01/2026", "5 parsecs"])
def test_bad_times_name_the_option(text):
    with pytest.raises(UsageError, match="--since"):
        parse_time(text, "--since")
