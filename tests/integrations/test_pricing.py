"""The price table: exact names, longest prefixes, and a table changed while a process runs."""

from __future__ import annotations

import pytest

from agentlog.integrations import pricing


def test_exact_name_then_longest_prefix_then_none():
    assert pricing.price_of("gpt-4o-mini") == pricing.PRICES["gpt-4o-mini"]
    assert pricing.price_of("openai/gpt-4o-mini-2024-07-18") == pricing.PRICES["gpt-4o-mini"]
    assert pricing.price_of("no-such-model") is None
    assert pricing.price_of("gpt-4o-mini", {"gpt-4o": (1.0, 2.0)}) == (1.0, 2.0)


def test_the_default_table_changed_at_run_time_is_seen(monkeypatch):
    """Matches are remembered per model name; a price set or a model added later still counts."""
    monkeypatch.setattr(pricing, "PRICES", dict(pricing.PRICES))
    monkeypatch.setattr(pricing, "_MATCHED", {})
    assert pricing.price_of("acme-1-large") is None
    assert pricing.price_of("gpt-4o-2024-08-06") == pricing.PRICES["gpt-4o"]
    pricing.PRICES["acme-1"] = (1.0, 3.0)  # a model added: found by the same name
    assert pricing.price_of("acme-1-large") == (1.0, 3.0)
    pricing.PRICES["gpt-4o"] = (9.0, 9.0)  # a price changed
    assert pricing.price_of("gpt-4o-2024-08-06") == (9.0, 9.0)
    assert pricing.cost_usd("gpt-4o-2024-08-06", 1_000_000, 0) == pytest.approx(9.0)
    pricing.PRICES["gpt-4o-2024"] = (5.0, 5.0)  # a longer prefix added
    assert pricing.price_of("gpt-4o-2024-08-06") == (5.0, 5.0)
    del pricing.PRICES["acme-1"]
    assert pricing.price_of("acme-1-large") is None
