"""Small conversions shared by the peer importers: times, JSON text and flattened attributes."""

from __future__ import annotations

from typing import Any

import orjson

from agentlog.model import parse_ts, to_us


def nanos(value: Any, field: str) -> int:
    """An ISO 8601 time (or epoch seconds) as Unix nanoseconds, or ValueError naming `field`."""
    return to_us(parse_ts(value, field)) * 1000


def json_text(value: Any) -> str | None:
    """A value as the text an OTel attribute carries: strings as they are, the rest as JSON."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS, default=str).decode()


def flatten(attrs: Any, prefix: str = "") -> dict[str, Any]:
    """Nested attribute objects as OTel's dotted keys (`llm.input_messages.0.message.role`).

    Lists of scalars stay lists (an OTel array attribute); lists holding objects
    are indexed, as OpenInference flattens them.
    """
    out: dict[str, Any] = {}
    if not isinstance(attrs, dict):
        return out
    stack: list[tuple[str, Any]] = [(prefix, attrs)]
    while stack:
        base, node = stack.pop()
        for key, value in node.items():
            dotted = f"{base}{key}"
            if isinstance(value, dict):
                stack.append((dotted + ".", value))
            elif isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
                stack.append((dotted + ".", {str(i): v for i, v in enumerate(value)}))
            else:
                out[dotted] = value
    return out


def first(record: dict[str, Any], *keys: str) -> Any:
    """The first of `keys` present and not empty in `record`."""
    for key in keys:
        value = record.get(key)
        if value not in (None, ""):
            return value
    return None
