"""A small, overridable price table: USD per million tokens, so adapters can fill `cost_usd`.

Prices change; this table is a convenience, not a bill. Override or extend it
per process (`PRICES["my-model"] = (0.5, 1.5)`) or per adapter (`prices=`).
A model matches its exact name first, then the longest listed prefix, so
dated snapshots (`gpt-4o-2024-08-06`) and provider paths (`openai/gpt-4o`)
find their family.
"""

from __future__ import annotations

from collections.abc import Mapping

PRICES: dict[str, tuple[float, float]] = {  # (input, output) USD per 1M tokens
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "o3-mini": (1.10, 4.40),
    "o4-mini": (1.10, 4.40),
    "claude-3-5-sonnet": (3.00, 15.00),
    "claude-3-5-haiku": (0.80, 4.00),
    "claude-3-7-sonnet": (3.00, 15.00),
    "claude-sonnet-4": (3.00, 15.00),
    "claude-3-haiku": (0.25, 1.25),
}


def price_of(
    model: str | None, table: Mapping[str, tuple[float, float]] | None = None
) -> tuple[float, float] | None:
    """(input, output) USD per 1M tokens for `model`, or None when it is not listed."""
    if not model:
        return None
    prices = PRICES if table is None else table
    name = model.rsplit("/", 1)[-1].lower()
    found = prices.get(name)
    if found is not None:
        return found
    best = ""
    for key in prices:
        if name.startswith(key) and len(key) > len(best):
            best = key
    return prices[best] if best else None


def cost_usd(
    model: str | None,
    input_tokens: int | None,
    output_tokens: int | None,
    table: Mapping[str, tuple[float, float]] | None = None,
) -> float | None:
    """The call's cost in USD, or None when the model or both token counts are unknown."""
    if input_tokens is None and output_tokens is None:
        return None
    price = price_of(model, table)
    if price is None:
        return None
    return round(((input_tokens or 0) * price[0] + (output_tokens or 0) * price[1]) / 1e6, 8)
