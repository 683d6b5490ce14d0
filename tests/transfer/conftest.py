"""Fixtures for the portability tests: two empty SQLite stores and a CLI runner on the first."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agentlog.storage.sqlite.store import SQLiteStore
from tests.support.portability import Cli


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    s = SQLiteStore(tmp_path / "source.db")
    yield s
    s.close()


@pytest.fixture
def other(tmp_path: Path) -> Iterator[SQLiteStore]:
    s = SQLiteStore(tmp_path / "other.db")
    yield s
    s.close()


@pytest.fixture
def cli(store: SQLiteStore) -> Cli:
    return Cli(store.path)
