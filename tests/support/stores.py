"""Store helpers for the TUI tests: a temporary SQLite store, and a wrapper that fails on demand.

The TUI tests run on a real SQLite store in the test's folder (an in-memory
copy of the protocol drifted from the backends it stood in for); `FlakyStore`
wraps any store and fails on demand to test the "server went away" banner.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from agentlog.errors import ServerUnavailable
from agentlog.storage.sqlite.store import SQLiteStore


class TempStore(SQLiteStore):
    """A SQLite store in its own temporary folder, removed when the store closes."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="agentlog-test-"))
        super().__init__(self.folder / "store.db")

    def close(self) -> None:
        super().close()
        shutil.rmtree(self.folder, ignore_errors=True)


class FlakyStore:
    """Delegates to `inner`; while `down` is set every call raises ServerUnavailable."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.down = False
        self.url = "http://127.0.0.1:1/"
        self.team_id = None

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)
        if not callable(target):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            if self.down:
                raise ServerUnavailable("cannot reach the AgentLog server at http://127.0.0.1:1/")
            return target(*args, **kwargs)

        return call
