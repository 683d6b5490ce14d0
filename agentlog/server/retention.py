"""Retention per team: what the server erases on its own, and the periodic task that does it.

Each team's `retention_days` (set by its admin, `PATCH /v1/teams/{id}` or
`agentlog admin teams retention`) is a horizon: sessions idle for longer are
erased with their events, in bounded transactions (`Store.prune` on that
team's view; optionally written first to `<archive>/<team>-<time>.ndjson.gz`
by the one export path, so `agentlog import` can bring them back). On
PostgreSQL, a whole month of events whose end is past the horizon of every
team holding sessions is then detached and dropped
(`MonthPartitioned.drop_expired_months`): a catalogue change instead of a
`DELETE` of every row. A team without `retention_days` keeps everything,
and then no month is dropped. SQLite keeps `agentlog db prune` as well.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from agentlog.model import utcnow
from agentlog.storage.accounts import AccountStore, Actor
from agentlog.storage.base import SessionQuery, Store, iter_sessions, month_partitioned

log = logging.getLogger("agentlog.server")


@dataclass
class RetentionReport:
    at: datetime
    sessions_erased: dict[str, int] = field(default_factory=dict)  # by team id
    archives: dict[str, str] = field(default_factory=dict)  # team id -> file
    months_dropped: list[str] = field(default_factory=list)
    partitions: list[str] = field(default_factory=list)  # months with partitions after

    def public(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "sessions_erased": self.sessions_erased,
            "archives": self.archives,
            "months_dropped": self.months_dropped,
            "partitions": self.partitions,
        }


def horizons(accounts: AccountStore, now: datetime) -> dict[str, datetime]:
    """The oldest time each team with a retention keeps (team id -> time)."""
    return {
        t.id: now - timedelta(days=t.retention_days)
        for t in accounts.list_teams()
        if t.retention_days
    }


def expired_session_ids(store: Store, before: datetime) -> list[str]:
    """The sessions of this view idle since before `before` (oldest activity first)."""
    ids = []
    for s in iter_sessions(store, SessionQuery(sort="last_event_at", order="asc")):
        if max(s.created_at, s.last_event_at or s.created_at) >= before:
            break
        ids.append(s.id)
    return ids


def archive(store: Store, session_ids: list[str], path: Path) -> None:
    """The sessions and their events as NDJSON.gz (the `agentlog export` format)."""
    from agentlog.transfer.export import Selection, export

    path.parent.mkdir(parents=True, exist_ok=True)
    export(store, Selection(session_ids=tuple(session_ids)), "ndjson", path)


def apply_retention(
    store: Store,
    accounts: AccountStore,
    *,
    now: datetime | None = None,
    archive_dir: Path | None = None,
    actor: Actor = Actor(),
) -> RetentionReport:
    """Erase what every team keeps no longer (see the module docstring); audit each team's erasure."""
    now = now or utcnow()
    report = RetentionReport(now)
    keep = horizons(accounts, now)
    for team_id, before in sorted(keep.items()):
        view = store.scoped(team_id)
        if archive_dir is not None:
            ids = expired_session_ids(view, before)
            if ids:
                path = archive_dir / f"{team_id}-{now:%Y%m%dT%H%M%SZ}.ndjson.gz"
                archive(view, ids, path)
                report.archives[team_id] = str(path)
        erased = view.prune(before)
        report.sessions_erased[team_id] = erased
        if erased:
            accounts.audit(
                "retention.erase",
                actor,
                team_id=team_id,
                target=team_id,
                details={
                    "sessions": erased,
                    "before": before,
                    "archive": report.archives.get(team_id),
                },
            )
    partitioned = month_partitioned(store)
    if partitioned is not None:
        report.partitions = partitioned.maintain_partitions()
        report.months_dropped = partitioned.drop_expired_months(keep)
        if report.months_dropped:
            accounts.audit(
                "retention.drop_months", actor, details={"months": report.months_dropped}
            )
            report.partitions = partitioned.maintain_partitions()
    return report


class RetentionTask:
    """Runs `apply_retention` every `interval` seconds in a daemon thread (0: never).

    Several server workers may each run one: PostgreSQL serialises the
    partition steps with an advisory lock, and a prune skips sessions another
    worker is erasing (`SKIP LOCKED`), so the work is done once either way.
    """

    def __init__(
        self,
        store: Store,
        accounts: AccountStore,
        interval: float,
        archive_dir: Path | None = None,
    ) -> None:
        self.store, self.accounts = store, accounts
        self.interval, self.archive_dir = interval, archive_dir
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.interval <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="agentlog-retention", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                report = apply_retention(self.store, self.accounts, archive_dir=self.archive_dir)
                if report.months_dropped or any(report.sessions_erased.values()):
                    log.info("retention: %s", report.public())
            except Exception:  # the task must outlive a failing run (the database restarting)
                log.exception("retention run failed; retried in %s s", self.interval)


__all__ = ["RetentionReport", "RetentionTask", "apply_retention", "expired_session_ids", "horizons"]
