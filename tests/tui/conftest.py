"""TUI test fixtures: a demo database made once and copied per test, the small fixture store, and a pilot helper."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from tui_fixture import DEMO_NOW

from agentlog.demo import DemoResult, generate_demo
from agentlog.storage.sqlite.store import SQLiteStore


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoResult]:
    path = tmp_path_factory.mktemp("tui-demo") / "demo.db"
    store = SQLiteStore(str(path))
    try:
        result = generate_demo(store, now=DEMO_NOW)
    finally:
        store.close()
    return path, result


@pytest.fixture
def demo(
    demo_db: tuple[Path, DemoResult], tmp_path: Path
) -> Iterator[tuple[SQLiteStore, DemoResult]]:
    """A private copy of the demo database (tests may not share one file)."""
    path, result = demo_db
    copy = tmp_path / "demo.db"
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{path}{suffix}").exists():
            shutil.copy(f"{path}{suffix}", f"{copy}{suffix}")
    store = SQLiteStore(str(copy))
    yield store, result
    store.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SQLiteStore]:
    """An empty SQLite store in the test's folder (the fixture data goes in with `fill`)."""
    store = SQLiteStore(str(tmp_path / "tui.db"))
    yield store
    store.close()
