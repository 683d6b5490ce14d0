"""A progress bar for long exports, imports and migrations: rich on a terminal, silent elsewhere.

It draws on stderr (stdout may carry the export itself) and only when stderr
is a terminal, so pipes, CI logs and tests see nothing.
"""

from __future__ import annotations

import sys
import time
from typing import Any


def stderr_is_terminal() -> bool:
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):
        return False


class Bar:
    """`with Bar("export", total) as bar: bar.update(done)`; shows rate and ETA."""

    def __init__(
        self,
        label: str,
        total: int | None = None,
        unit: str = "events",
        enabled: bool | None = None,
    ) -> None:
        self.label = label
        self.total = total
        self.unit = unit
        self.enabled = stderr_is_terminal() if enabled is None else enabled
        self.done = 0
        self.started = time.monotonic()
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> Bar:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TextColumn("eta"),
                TimeRemainingColumn(),
                TimeElapsedColumn(),
                console=Console(file=sys.stderr),
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(self.label, total=self.total, rate="")
        return self

    def update(self, done: int, total: int | None = None) -> None:
        self.done = done
        if total is not None:
            self.total = total
        if self._progress is not None:
            elapsed = max(time.monotonic() - self.started, 1e-6)
            rate = f"{done / elapsed:,.0f} {self.unit}/s"
            self._progress.update(self._task, completed=done, total=self.total, rate=rate)

    def advance(self, n: int) -> None:
        self.update(self.done + n)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()


__all__ = ["Bar", "stderr_is_terminal"]
