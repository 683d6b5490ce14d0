"""The offline spool: a local Store that holds what a server could not take, and its sync.

The spool is an ordinary SQLiteStore file (`<data dir>/spool.db`), so syncing
is a store-to-store copy: sessions oldest first, each one's events in
(timestamp, id) order, in batches within the model's limits. A session leaves
the spool only when the server has accepted (inserted or already had) every
one of its events, so a sync interrupted at any point is simply run again:
ids make every write idempotent, nothing is lost and nothing doubles.

Session rows that the SDK spooled carry a marker in their metadata; rows the
spool created only because events arrived for a session it had no row for
(e.g. a joined session, or one whose row the server already has) are not sent,
so they never overwrite the server's real row. `agentlog sync` builds on
`pending` and `sync`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from agentlog.model import Event, Session, SessionSummary
from agentlog.sdk.writer import chunk_events
from agentlog.storage.base import EventQuery, SessionQuery, Store, iter_events, iter_sessions
from agentlog.storage.private_files import private_folder

SPOOL_FILE = "spool.db"
SPOOL_ROW_KEY = "_agentlog_spooled_row"
"""Metadata marker on session rows the SDK wrote into the spool (stripped on sync)."""


def default_spool_path() -> Path:
    from agentlog.config import data_dir

    return data_dir() / SPOOL_FILE


def open_spool(path: str | Path | None = None) -> Store:
    """Open (creating if needed) the spool store."""
    from agentlog.storage import open_store

    target = Path(path) if path is not None else default_spool_path()
    private_folder(target.parent)
    return open_store(str(target))


class SpoolLock:
    """Serialises spool writers and syncs across threads and processes (flock on a side file).

    Re-entrant within one object, so the SDK's writer thread can spool while it
    syncs. Where flock does not exist the lock covers this process only.
    """

    def __init__(self, spool_path: str | Path) -> None:
        self.path = Path(str(spool_path) + ".lock")
        self._local = threading.RLock()
        self._depth = 0
        self._fd: int | None = None

    def __enter__(self) -> SpoolLock:
        self._local.acquire()
        if self._depth == 0:
            try:
                import fcntl

                private_folder(self.path.parent)
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            except ImportError:
                self._fd = None
        self._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            os.close(self._fd)  # closing releases the flock
            self._fd = None
        self._local.release()


@dataclass
class SpoolSummary:
    """What is waiting in the spool."""

    path: str
    sessions: int = 0
    events: int = 0
    oldest_event_at: datetime | None = None
    newest_event_at: datetime | None = None

    @property
    def empty(self) -> bool:
        return self.sessions == 0 and self.events == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "sessions": self.sessions,
            "events": self.events,
            "oldest_event_at": self.oldest_event_at.isoformat() if self.oldest_event_at else None,
            "newest_event_at": self.newest_event_at.isoformat() if self.newest_event_at else None,
        }


@dataclass
class Rejection:
    session_id: str
    event_id: str | None
    error: str


@dataclass
class SyncReport:
    """What a sync did. `error` is set (and `complete` False) when the server failed mid-way."""

    sessions_synced: int = 0  # sessions fully accepted and removed from the spool
    sessions_kept: int = 0  # sessions left in the spool (some events rejected)
    events_sent: int = 0
    inserted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    error: str | None = None
    exception: BaseException | None = field(default=None, repr=False)

    @property
    def complete(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "sessions_synced": self.sessions_synced,
            "sessions_kept": self.sessions_kept,
            "events_sent": self.events_sent,
            "inserted": self.inserted,
            "duplicates": self.duplicates,
            "rejected": [r.__dict__ for r in self.rejected],
            "error": self.error,
        }


def pending(spool: Store | str | Path | None = None) -> SpoolSummary:
    """What the spool holds (a Store, a spool file path, or None for the default file)."""
    if spool is None or isinstance(spool, str | Path):
        path = Path(spool) if spool is not None else default_spool_path()
        if not path.exists():
            return SpoolSummary(path=str(path))
        store = open_spool(path)
        try:
            return pending(store)
        finally:
            store.close()
    info = spool.info()
    return SpoolSummary(
        path=spool.url,
        sessions=info.sessions,
        events=info.events,
        oldest_event_at=info.oldest_event_at,
        newest_event_at=info.newest_event_at,
    )


def refusal(exc: BaseException) -> str | None:
    """Why the server refused this API key and what to do, or None for any other failure.

    A 401 or 403 is not an outage: the same key is refused again however often it is
    sent, so the spool keeps the events until `agentlog sync` runs with a key that works.
    """
    from agentlog.errors import AuthError, Forbidden

    if isinstance(exc, Forbidden):
        return (
            f"the server refused this API key ({exc}): it cannot write events; "
            "use a member's or admin's key"
        )
    if isinstance(exc, AuthError):
        return (
            f"the server does not accept this API key ({exc}); "
            "set a valid key (AGENTLOG_API_KEY, or `agentlog login`)"
        )
    return None


def marked_row(session: Session) -> Session:
    """The session as the spool keeps it: marked as a real row to send on sync."""
    return session.model_copy(update={"metadata": {**session.metadata, SPOOL_ROW_KEY: True}})


def _row_to_send(summary: SessionSummary) -> Session | None:
    if not summary.metadata.get(SPOOL_ROW_KEY):
        return None
    metadata = {k: v for k, v in summary.metadata.items() if k != SPOOL_ROW_KEY}
    values = {name: getattr(summary, name) for name in Session.model_fields}
    values.update(metadata=metadata, team_id=None, created_by=None)
    return Session.model_construct(**values)


def _sessions_oldest_first(spool: Store) -> Iterator[SessionSummary]:
    return iter_sessions(spool, SessionQuery(sort="created_at", order="asc"))


def sync(
    spool: Store,
    remote: Store,
    *,
    lock: SpoolLock | None = None,
    progress: Callable[[int], None] | None = None,
) -> SyncReport:
    """Push everything spooled to `remote`, in order; delete only what it accepted.

    Never raises for a failing server: the report's `error` says what happened
    and what was already synced stays synced. `progress` is called with the
    number of events sent after each batch.
    """
    report = SyncReport()
    # Snapshot the ids first: deleting while paging would shift the cursor.
    session_ids = [s.id for s in _sessions_oldest_first(spool)]
    for session_id in session_ids:
        try:
            with lock if lock is not None else _no_lock():
                _sync_session(spool, remote, session_id, report, progress)
        except Exception as exc:
            report.error = f"{type(exc).__name__}: {exc}"
            report.exception = exc
            return report
    return report


def _sync_session(
    spool: Store,
    remote: Store,
    session_id: str,
    report: SyncReport,
    progress: Callable[[int], None] | None,
) -> None:
    from agentlog.errors import NotFound

    try:
        summary = spool.get_session(session_id)
    except NotFound:  # synced meanwhile by another process
        return
    row = _row_to_send(summary)
    rejected_before = len(report.rejected)
    sent_row = False
    batch: list[Event] = []

    def send(events: list[Event]) -> None:
        nonlocal sent_row
        for chunk in chunk_events(events) or [[]]:
            rows = [row] if row is not None and not sent_row else []
            if not rows and not chunk:
                continue
            result = remote.write(rows, chunk)
            sent_row = sent_row or bool(rows)
            report.events_sent += len(chunk)
            report.inserted += result.inserted
            report.duplicates += result.duplicates
            for err in result.errors:
                if err.kind == "session":  # the session record itself: the spool keeps it
                    report.rejected.append(Rejection(session_id, None, f"session: {err.error}"))
                    continue
                event_id = chunk[err.index].id if 0 <= err.index < len(chunk) else err.id
                report.rejected.append(Rejection(session_id, event_id, err.error))
            if progress is not None and chunk:
                progress(len(chunk))

    for event in iter_events(spool, EventQuery(session_id=session_id, order="asc")):
        batch.append(event)
        if len(batch) >= 1000:
            send(batch)
            batch = []
    send(batch)
    if len(report.rejected) == rejected_before:
        spool.delete_session(session_id)
        report.sessions_synced += 1
    else:
        report.sessions_kept += 1


@contextmanager
def _no_lock() -> Iterator[None]:
    yield


__all__ = [
    "SPOOL_FILE",
    "Rejection",
    "SpoolLock",
    "SpoolSummary",
    "SyncReport",
    "default_spool_path",
    "open_spool",
    "pending",
    "sync",
]
