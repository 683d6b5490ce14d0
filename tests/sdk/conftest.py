"""SDK test fixtures: an in-memory Store and AgentLogs that flush fast and are closed after each test."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sdk.fakes import FakeStore


@pytest.fixture
def fake() -> FakeStore:
    return FakeStore()


@pytest.fixture
def make_log():
    """AgentLog factory; every log made is closed after the test."""
    from agentlog import AgentLog

    made: list[Any] = []

    def make(**kwargs: Any) -> AgentLog:
        kwargs.setdefault("flush_interval", 0.05)
        log = AgentLog(**kwargs)
        made.append(log)
        return log

    yield make
    for log in made:
        log.close(timeout=10)
