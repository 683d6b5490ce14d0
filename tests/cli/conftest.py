"""CLI test fixtures: a demo database made once and copied per test, and a CliRunner helper."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner, Result

from agentlog.cli.app import app
from agentlog.demo import DemoResult, generate_demo
from agentlog.storage import open_store
from agentlog.storage.base import Store


class Cli:
    """Runs `agentlog --db DB ...` in-process with stdout and stderr kept apart."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, env: dict | None = None) -> Result:
        return self.runner.invoke(app, ["--db", str(self.db), *args], input=input, env=env)

    def ok(self, *args: str, **kw: Any) -> Result:
        result = self(*args, **kw)
        assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
        assert "internal error" not in result.stderr
        return result

    def json(self, *args: str, **kw: Any) -> Any:
        return orjson.loads(self.ok(*args, "--json", **kw).stdout)

    def ndjson(self, *args: str, **kw: Any) -> list[Any]:
        out = self.ok(*args, "--ndjson", **kw).stdout
        return [orjson.loads(line) for line in out.splitlines()]

    def fails(self, code: int, *args: str, **kw: Any) -> str:
        """Run, expect `code`, and return the single stderr line (no traceback)."""
        result = self(*args, **kw)
        assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("agentlog: error: "), lines[0]
        assert "Traceback" not in result.stderr
        return lines[0]


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> tuple[Path, DemoResult]:
    path = tmp_path_factory.mktemp("demo-template") / "agentlog.db"
    store = open_store(str(path))
    try:
        result = generate_demo(store, seed=0)
    finally:
        store.close()
    return path, result


@pytest.fixture
def demo(demo_template) -> DemoResult:
    return demo_template[1]


@pytest.fixture
def demo_db(demo_template, tmp_path) -> Path:
    """A private copy of the demo database for one test."""
    source, _ = demo_template
    target = tmp_path / "agentlog.db"
    for suffix in ("", "-wal", "-shm"):
        if Path(str(source) + suffix).exists():
            shutil.copy(str(source) + suffix, str(target) + suffix)
    return target


@pytest.fixture
def cli(demo_db) -> Cli:
    """The CLI over a copy of the demo data."""
    return Cli(demo_db)


@pytest.fixture
def empty_cli(tmp_path) -> Cli:
    """The CLI over a fresh, empty database (made first: reads never create a store)."""
    path = tmp_path / "empty.db"
    open_store(str(path)).close()
    return Cli(path)


@pytest.fixture
def store(demo_db) -> Iterator[Store]:
    """The demo copy opened directly, to check what the CLI wrote."""
    opened = open_store(str(demo_db))
    yield opened
    opened.close()
