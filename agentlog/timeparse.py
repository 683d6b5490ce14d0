"""Times and durations as users type them: ISO 8601, `now`, or relative `30m`, `2h`, `7d`.

One parser for every `--since`, `--until` and `--older-than`, so they all
accept the same forms and fail with the same one-line message.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from agentlog.errors import UsageError
from agentlog.model import parse_ts

_UNITS = {
    "s": 1,
    "sec": 1,
    "m": 60,
    "min": 60,
    "h": 3600,
    "hr": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 7 * 86400,
}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]+)")
_WHOLE = re.compile(r"^(?:\d+(?:\.\d+)?\s*[a-z]+\s*)+$")

DURATION_HELP = "a duration such as 90s, 30m, 2h, 7d, 1w or 1h30m"
TIME_HELP = "an ISO 8601 time (2026-01-31T12:00:00Z), 'now', or a relative time such as 30m, 2h, 7d"


def parse_duration(text: str, option: str = "duration") -> timedelta:
    """`90s`, `30m`, `2h`, `7d`, `1w`, `1h30m` → timedelta, or UsageError naming the option."""
    raw = str(text).strip().lower()
    if not raw or not _WHOLE.match(raw):
        raise UsageError(f"{option}: {text!r} is not {DURATION_HELP}")
    seconds = 0.0
    for number, unit in _PART.findall(raw):
        if unit not in _UNITS:
            raise UsageError(f"{option}: unknown unit {unit!r} in {text!r}; use s, m, h, d or w")
        seconds += float(number) * _UNITS[unit]
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise UsageError(f"{option}: {text!r} is too long a duration") from None


def parse_time(text: str, option: str = "time", *, now: datetime | None = None) -> datetime:
    """ISO 8601 text, `now`, or a relative duration ago → aware UTC datetime, or UsageError."""
    raw = str(text).strip()
    now = now or datetime.now(UTC)
    if raw.lower() == "now":
        return now
    if raw and raw[0].isdigit() and _WHOLE.match(raw.lower()):
        try:
            return now - parse_duration(raw, option)
        except OverflowError:
            raise UsageError(f"{option}: {text!r} reaches before the year 1") from None
    try:
        return parse_ts(raw, option)
    except ValueError as exc:
        if "outside" in str(exc):  # a well-formed time beyond the range every store keeps
            raise UsageError(str(exc)) from None
        raise UsageError(f"{option}: {text!r} is not {TIME_HELP}") from None


__all__ = ["DURATION_HELP", "TIME_HELP", "parse_duration", "parse_time"]
