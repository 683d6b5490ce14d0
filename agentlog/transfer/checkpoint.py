"""Migration checkpoints: how far each session got, kept in the data dir per (source, target).

One small SQLite file per source→target pair (`<data dir>/migrations/`). A
session's row records the (timestamp, id) of the last event the target
accepted, and is committed after every batch, so a migration killed at any
point resumes after the last acknowledged batch; the batch in flight is sent
again and the target's id-idempotent writes count it as duplicates.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from agentlog.config import data_dir
from agentlog.storage.base import redact_url
from agentlog.storage.private_files import create_private
from agentlog.storage.sqlite.conn import DEFAULT_BUSY_TIMEOUT_MS, use_wal

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    last_ts INTEGER,            -- key of the last event the target accepted
    last_id TEXT,
    sent INTEGER NOT NULL DEFAULT 0,
    done INTEGER NOT NULL DEFAULT 0,
    source_events INTEGER,      -- the session's event count when it was finished
    checksum TEXT,              -- content checksum both sides agreed on at the last verify
    rejected INTEGER NOT NULL DEFAULT 0,
    verified INTEGER NOT NULL DEFAULT 0
);
"""


def checkpoint_path(source_url: str, target_url: str) -> Path:
    key = hashlib.sha256(f"{source_url}\n{redact_url(target_url)}".encode()).hexdigest()[:16]
    return data_dir() / "migrations" / f"{key}.db"


@dataclass(slots=True)
class SessionMark:
    id: str
    last_ts: int | None = None
    last_id: str | None = None
    sent: int = 0
    done: bool = False
    source_events: int | None = None
    checksum: str | None = None
    rejected: int = 0
    verified: bool = False


class Checkpoint:
    """The checkpoint file of one source→target migration."""

    def __init__(self, path: Path, source_url: str, target_url: str) -> None:
        self.path = path
        create_private(path)  # it names the sessions moved: owner-only, like the store
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        use_wal(self._db, DEFAULT_BUSY_TIMEOUT_MS)
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._db.execute("INSERT OR IGNORE INTO meta VALUES ('source', ?)", (source_url,))
        self._db.execute(
            "INSERT OR IGNORE INTO meta VALUES ('target', ?)", (redact_url(target_url),)
        )

    @classmethod
    def for_pair(cls, source_url: str, target_url: str) -> Checkpoint:
        return cls(checkpoint_path(source_url, target_url), source_url, target_url)

    def get(self, session_id: str) -> SessionMark:
        row = self._db.execute(
            "SELECT id, last_ts, last_id, sent, done, source_events, checksum, rejected, verified "
            "FROM sessions WHERE id = ?",
            (session_id,),
        ).fetchone()
        if row is None:
            return SessionMark(session_id)
        return SessionMark(
            row[0], row[1], row[2], row[3], bool(row[4]), row[5], row[6], row[7], bool(row[8])
        )

    def advance(
        self, session_id: str, last_ts: int, last_id: str, sent: int, rejected: int
    ) -> None:
        """Record that the target acknowledged events up to (last_ts, last_id)."""
        self._db.execute(
            "INSERT INTO sessions (id, last_ts, last_id, sent, rejected) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET last_ts = excluded.last_ts, last_id = excluded.last_id, "
            "sent = sessions.sent + excluded.sent, rejected = sessions.rejected + excluded.rejected, "
            "done = 0, verified = 0",
            (session_id, last_ts, last_id, sent, rejected),
        )

    def finish(self, session_id: str, source_events: int) -> None:
        self._db.execute(
            "INSERT INTO sessions (id, done, source_events) VALUES (?, 1, ?) "
            "ON CONFLICT(id) DO UPDATE SET done = 1, source_events = excluded.source_events",
            (session_id, source_events),
        )

    def restart(self, session_id: str) -> None:
        """Send this session again from its first event (it changed or failed verification)."""
        self._db.execute(
            "UPDATE sessions SET last_ts = NULL, last_id = NULL, done = 0, verified = 0, "
            "rejected = 0 WHERE id = ?",
            (session_id,),
        )

    def set_verified(self, session_id: str, problem: object, checksum: str | None = None) -> None:
        self._db.execute(
            "UPDATE sessions SET verified = ?, checksum = coalesce(?, checksum) WHERE id = ?",
            (int(problem is None), checksum, session_id),
        )

    def counts(self) -> dict[str, int]:
        row = self._db.execute(
            "SELECT count(*), coalesce(sum(done), 0), coalesce(sum(verified), 0) FROM sessions"
        ).fetchone()
        return {"sessions": row[0], "done": row[1], "verified": row[2]}

    def close(self) -> None:
        self._db.close()


__all__ = ["Checkpoint", "SessionMark", "checkpoint_path", "redact_url"]
