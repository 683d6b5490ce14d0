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
    "claude-sonnet-4-5": (3.00, 15.00),
    "claude-haiku-4-5": (1.00, 5.00),
    "claude-opus-4": (15.00, 75.00),
    "claude-opus-4-1": (15.00, 75.00),
    "claude-opus-4-5": (5.00, 25.00),
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
    "gpt-5-codex": (1.25, 10.00),
    "codex-mini": (1.50, 6.00),
    "gemini-2.5-pro": (1.25, 10.00),
    "gemini-2.5-flash": (0.30, 2.50),
    "gemini-2.5-flash-lite": (0.10, 0.40),
    "gemini-2.0-flash": (0.10, 0.40),
}

# Prompt caching: (cache read, cache write) as multiples of the model's input price,
# matched like PRICES (longest prefix). Anthropic bills reads at 10% and 5-minute
# writes at 125% of input; OpenAI and Google discount reads and charge nothing extra
# to write. A model not listed here is billed its full input price for cached tokens.
LONG_CACHE_WRITE = 2.0  # Anthropic's 1-hour cache writes, as a multiple of input
CACHE_RATES: dict[str, tuple[float, float]] = {
    "claude": (0.10, 1.25),
    "gpt-4o": (0.50, 1.00),
    "gpt-4.1": (0.25, 1.00),
    "o3-mini": (0.50, 1.00),
    "o4-mini": (0.25, 1.00),
    "gpt-5": (0.10, 1.00),
    "codex-mini": (0.25, 1.00),
    "gemini-2.5": (0.25, 1.00),
    "gemini-2.0": (0.25, 1.00),
}


def _lookup(
    model: str | None, table: Mapping[str, tuple[float, float]]
) -> tuple[float, float] | None:
    if not model:
        return None
    if table is PRICES:
        # Which key a model name matches is remembered for the default table (a
        # prefix search walks every key, and adapters price each call); the price
        # is read from the table each time, and a key added or removed (the
        # table's length changes) starts the search again.
        known = _MATCHED.get(model)
        if known is not None and known[0] == len(table):
            if not known[1]:
                return None
            price = table.get(known[1])
            if price is not None:
                return price
    name = model.rsplit("/", 1)[-1].lower()
    best = name if name in table else ""
    if not best:
        for key in table:
            if name.startswith(key) and len(key) > len(best):
                best = key
    if table is PRICES and len(_MATCHED) < 10_000:
        _MATCHED[model] = (len(table), best)
    return table[best] if best else None


_MATCHED: dict[str, tuple[int, str]] = {}  # model name -> (len(PRICES), the key it matched)


def price_of(
    model: str | None, table: Mapping[str, tuple[float, float]] | None = None
) -> tuple[float, float] | None:
    """(input, output) USD per 1M tokens for `model`, or None when it is not listed."""
    return _lookup(model, PRICES if table is None else table)


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


def usage_cost(
    model: str | None,
    *,
    input_tokens: int | None,
    output_tokens: int | None,
    cache_read_tokens: int = 0,
    cache_write_tokens: int = 0,
    cache_write_1h_tokens: int = 0,
    table: Mapping[str, tuple[float, float]] | None = None,
    cache_rates: Mapping[str, tuple[float, float]] | None = None,
) -> float | None:
    """A call's cost in USD with prompt caching priced right, or None when it cannot be known.

    `input_tokens` are the uncached input tokens only: Anthropic reports them that
    way; OpenAI's and Google's prompt counts include the cached part, which the
    caller subtracts. Cached reads and writes are input tokens billed at the
    model's cache rates (`CACHE_RATES`), never at the output price and never twice;
    Anthropic's one-hour cache writes cost twice the input price.
    `output_tokens` include reasoning tokens, which are billed as output.
    """
    if input_tokens is None and output_tokens is None and not cache_read_tokens:
        return None
    price = price_of(model, table)
    if price is None:
        return None
    read, write = _lookup(model, CACHE_RATES if cache_rates is None else cache_rates) or (1.0, 1.0)
    inputs = (
        (input_tokens or 0)
        + cache_read_tokens * read
        + cache_write_tokens * write
        + cache_write_1h_tokens * LONG_CACHE_WRITE
    )
    return round((inputs * price[0] + (output_tokens or 0) * price[1]) / 1e6, 8)


def inclusive_cost(
    model: str | None,
    input_tokens: int | None,
    output_tokens: int | None,
    *,
    cache_read_tokens: int | None = None,
    cache_write_tokens: int | None = None,
    table: Mapping[str, tuple[float, float]] | None = None,
) -> float | None:
    """The cost of a call whose `input_tokens` include its cached reads and writes.

    LangChain's usage and OpenTelemetry's `gen_ai.usage.input_tokens` count them
    that way and list them again apart; they are billed once, at the cache rates.
    """
    read, write = cache_read_tokens or 0, cache_write_tokens or 0
    if not (read or write) or input_tokens is None:
        return cost_usd(model, input_tokens, output_tokens, table)
    return usage_cost(
        model,
        input_tokens=max(0, input_tokens - read - write),
        output_tokens=output_tokens,
        cache_read_tokens=read,
        cache_write_tokens=write,
        table=table,
    )
