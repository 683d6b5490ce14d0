"""Open an export file as a read-only Store, so `agentlog tui FILE` views it without importing.

The file is imported into a SQLite store in a private temporary folder; the
returned store refuses writes and deletes that folder when it is closed.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any

from agentlog.errors import InvalidInput, ReadOnlyStore, UsageError
from agentlog.storage.base import Store
from agentlog.transfer.importer import ImportReport, import_file


class FileStore:
    """A read-only Store over the contents of one export file (a temporary SQLite copy)."""

    def __init__(self, inner: Store, folder: str, source: str, report: ImportReport) -> None:
        self._inner = inner
        self._folder = folder
        self.url = f"file:{source}"
        self.source = source
        self.team_id = None
        self.import_report = report
        self._cleanup = weakref.finalize(self, _remove, inner, folder)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise ReadOnlyStore(
            f"{self.source} is open read-only; import it (agentlog import {self.source}) to change it"
        )

    write = update_session = delete_session = delete_session_tree = prune = _refuse

    def scoped(self, team_id: str | None, user_id: str | None = None) -> FileStore:
        return self

    def close(self) -> None:
        self._cleanup()


def _remove(inner: Store, folder: str) -> None:
    try:
        inner.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# The readers' hints name import's --format option, which the commands that open a file
# this way (tui FILE, compare FILE) do not have: they take the format from the file name
# (or the first bytes), so each gives its own advice instead.
_FORMAT_HINT = re.compile(
    r"\s*\((?:[^()]*;\s*)?(?:give|use) --format[^()]*\)$|;\s*use --format[^;()]*$"
)


def with_advice(message: str, advice: str) -> str:
    """A reader's message with `advice` in place of import's --format hint."""
    return f"{_FORMAT_HINT.sub('', message)} ({advice})"


def open_file_as_store(path: str | Path, *, advice: str | None = None) -> Store:
    """A read-only Store holding the sessions of the export file at `path` (NDJSON/JSON/CSV, .gz).

    With `advice`, a file that cannot be read raises the same error with `advice` in place
    of the readers' --format hint (for a command that has no --format).
    """
    try:
        return _open_file_as_store(path)
    except (InvalidInput, UsageError) as exc:  # FormatError too: the file is unreadable
        if advice is None:
            raise
        raise type(exc)(with_advice(str(exc), advice)) from None


def _open_file_as_store(path: str | Path) -> Store:
    from agentlog.storage.sqlite.store import SQLiteStore

    folder = tempfile.mkdtemp(prefix="agentlog-view-")
    store = SQLiteStore(str(Path(folder) / "view.db"))
    try:
        report = import_file(store, path)
    except BaseException:
        store.close()
        shutil.rmtree(folder, ignore_errors=True)
        raise
    imported = report.sessions.imported + report.events.imported
    if report.aborted and imported == 0:
        store.close()
        shutil.rmtree(folder, ignore_errors=True)
        raise InvalidInput(f"cannot open {path}: {report.aborted}")
    return FileStore(store, folder, str(path), report)


__all__ = ["FileStore", "open_file_as_store", "with_advice"]
