"""`migrate --to`: stream one store into another, resumably, and verify the result.

Sessions go oldest first (a parent before its children); each session's
events go in (timestamp, id) order in batches within the model's limits, and
the checkpoint advances after every batch the target acknowledges. Re-running
after an interruption (even kill -9) skips finished sessions, resumes the
unfinished one after its last acknowledged event, and never doubles an event
because every write is idempotent on id. At the end each session's event
count and content checksum are compared on both sides; a session that does
not match is sent again once from its start and checked again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from agentlog.errors import NotFound, UsageError
from agentlog.model import (
    MAX_BATCH_BYTES,
    MAX_BATCH_EVENTS,
    Event,
    Session,
    SessionSummary,
    WriteResult,
    to_us,
)
from agentlog.storage.base import EventQuery, Store, event_cursor, session_view
from agentlog.transfer.checkpoint import Checkpoint, redact_url
from agentlog.transfer.export import Selection, selected_sessions
from agentlog.transfer.rebuild import plain_session
from agentlog.transfer.records import session_checksum, session_diff

KEEP_PROBLEMS = 200
EXISTING = ("check", "skip", "overwrite")
_BATCH_BYTES = MAX_BATCH_BYTES - 1024 * 1024  # headroom for the request's JSON framing


@dataclass(slots=True)
class Mismatch:
    session_id: str
    source_events: int
    target_events: int | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "source_events": self.source_events,
            "target_events": self.target_events,
            "reason": self.reason,
        }


@dataclass
class MigrateReport:
    """What a migration did (or, dry run, would do)."""

    source: str
    target: str
    dry_run: bool = False
    sessions: int = 0  # sessions selected
    sessions_copied: int = 0  # sent in this run (fully or the rest of them)
    sessions_skipped: int = 0  # finished in an earlier run and unchanged
    sessions_existing: int = 0  # dry run: already on the target
    session_conflicts: int = 0  # dry run: on the target with different fields
    events_total: int = 0  # events in the selected sessions
    events_sent: int = 0
    events_inserted: int = 0
    events_duplicates: int = 0
    events_rejected: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    verified: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)
    repaired: int = 0
    sessions_left: int = 0  # --skip-existing: the target's own, different copy kept
    sessions_overwritten: int = 0  # --overwrite: the target's different copy replaced
    sessions_other_teams: int = 0  # another team's, never copied into a one-team target
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.events_rejected and not self.mismatches

    @property
    def rate(self) -> float:
        return self.events_sent / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        out = {
            k: getattr(self, k)
            for k in (
                "source",
                "target",
                "dry_run",
                "sessions",
                "sessions_copied",
                "sessions_skipped",
                "sessions_existing",
                "session_conflicts",
                "events_total",
                "events_sent",
                "events_inserted",
                "events_duplicates",
                "events_rejected",
                "rejected",
                "verified",
                "repaired",
                "sessions_left",
                "sessions_overwritten",
                "sessions_other_teams",
                "seconds",
            )
        }
        out["mismatches"] = [m.to_dict() for m in self.mismatches]
        out["ok"] = self.ok
        out["events_per_second"] = round(self.rate, 1)
        return out


def check_target(source: Store, target: Store) -> None:
    if source.url == target.url:
        raise UsageError(f"--to is the store being migrated ({source.url}); give another store")


def session_batches(
    source: Store, session_id: str, after: tuple[int, str] | None
) -> Iterator[list[Event]]:
    """The session's events after `after`, in order, in batches within the write limits."""
    query = EventQuery(session_id=session_id, order="asc", limit=MAX_BATCH_EVENTS)
    if after is not None:
        query = replace(query, cursor=event_cursor(query, after[0], after[1]))
    while True:
        page = source.list_events(query)
        batch: list[Event] = []
        size = 0
        for event in page.items:
            weight = len(event.content or "") * 2 + 1024
            if batch and size + weight > _BATCH_BYTES:
                yield batch
                batch, size = [], 0
            batch.append(event)
            size += weight
        if batch:
            yield batch
        if not page.next_cursor:
            return
        query = replace(query, cursor=page.next_cursor)


class Migration:
    """One source→target migration with its checkpoint."""

    def __init__(
        self,
        source: Store,
        target: Store,
        *,
        selection: Selection | None = None,
        checkpoint: Checkpoint | None = None,
        on_progress: Callable[[int], None] | None = None,
        existing: str = "check",
    ) -> None:
        """`existing`: what to do with a session the target already holds differently —
        "check" (report it as differing), "skip" (leave the target's copy) or
        "overwrite" (replace it with this one)."""
        if existing not in EXISTING:
            raise UsageError(f"existing={existing!r}; use one of {', '.join(EXISTING)}")
        check_target(source, target)
        self.existing = existing
        self._left: set[str] = set()
        self.source = source
        self.target = target
        self.selection = selection or Selection(all=True)
        self.checkpoint = checkpoint or Checkpoint.for_pair(source.url, target.url)
        self.on_progress = on_progress
        self._executor: ThreadPoolExecutor | None = None
        self._inflight: (
            tuple[Future[WriteResult] | None, WriteResult | None, SessionSummary, list[Event], bool]
            | None
        ) = None
        self.report = MigrateReport(source=source.url, target=redact_url(target.url))

    def sessions(self) -> Iterator[SessionSummary]:
        """The selected sessions the target may receive.

        A target that writes into one team (a server through a team's key) never gets
        another team's sessions: copied, they would become this team's. From a store that
        `agentlog serve` holds, that leaves its team-less sessions (recorded into the file
        before it was served) and the target team's own; the rest are counted.
        """
        own = self.target.team_id
        others = 0
        for summary in selected_sessions(self.source, self.selection):
            if own is not None and summary.team_id and summary.team_id != own:
                others += 1
                continue
            yield summary
        self.report.sessions_other_teams = others

    # Ids are per team: a store holding several teams may hold one id in two of them.
    # Each session is read and written through its own team's views, and checkpointed
    # under its team too (a store without teams is unchanged: its sessions have none).
    def _src(self, summary: Session) -> Store:
        return session_view(self.source, summary)

    def _dst(self, summary: Session) -> Store:
        if summary.team_id and self.target.team_id is None:
            return self.target.scoped(summary.team_id, summary.created_by)
        return self.target

    @staticmethod
    def _key(summary: Session) -> str:
        return f"{summary.team_id}/{summary.id}" if summary.team_id else summary.id

    def total_events(self) -> int:
        return sum(s.event_count for s in self.sessions())

    # -------------------------------------------------------- preview
    def preview(self) -> MigrateReport:
        """What would move: sessions new or changed on the target, and their event counts."""
        rep = self.report
        rep.dry_run = True
        started = time.monotonic()
        for summary in self.sessions():
            rep.sessions += 1
            rep.events_total += summary.event_count
            try:
                there = self._dst(summary).get_session(summary.id)
            except NotFound:
                rep.sessions_copied += 1
                rep.events_sent += summary.event_count
                continue
            rep.sessions_existing += 1
            if session_diff(there, summary):
                rep.session_conflicts += 1
            missing = max(0, summary.event_count - there.event_count)
            if missing:
                rep.sessions_copied += 1
                rep.events_sent += missing
        rep.seconds = time.monotonic() - started
        return rep

    # -------------------------------------------------------- copy
    def run(self, *, verify: bool = True) -> MigrateReport:
        rep = self.report
        started = time.monotonic()
        self._executor = ThreadPoolExecutor(1, "agentlog-migrate")
        try:
            self._run_sessions(rep)
            self.settle()
        finally:
            # After an error the write in flight is not recorded: a re-run sends it again.
            executor, self._executor, self._inflight = self._executor, None, None
            executor.shutdown(wait=True)
        rep.seconds = time.monotonic() - started
        if verify:
            self.verify()
        return rep

    def _run_sessions(self, rep: MigrateReport) -> None:
        for summary in self.sessions():
            rep.sessions += 1
            rep.events_total += summary.event_count
            key = self._key(summary)
            mark = self.checkpoint.get(key)
            # A session half-sent by an earlier run is ours: it resumes as usual; one
            # sent and verified equal needs no second look.
            ours = (not mark.done and mark.last_ts is not None) or (mark.done and mark.verified)
            if self.existing != "check" and not ours and self._differs_there(summary):
                if self.existing == "skip":
                    self._left.add(key)
                    rep.sessions_left += 1
                    continue
                self.settle()
                self._dst(summary).delete_session(summary.id)
                rep.sessions_overwritten += 1
                self.checkpoint.restart(key)
                mark = self.checkpoint.get(key)
            if mark.done and mark.source_events == summary.event_count and not mark.rejected:
                rep.sessions_skipped += 1
                if self.on_progress is not None:
                    self.on_progress(summary.event_count)
                continue
            if mark.done or mark.rejected:
                # It grew since, or the target refused some events: send it all again
                # (idempotent: what the target has counts as duplicates).
                self.checkpoint.restart(key)
                mark = self.checkpoint.get(key)
            self._copy_session(summary, mark.last_ts, mark.last_id)
            rep.sessions_copied += 1

    def _differs_there(self, summary: SessionSummary) -> bool:
        """Whether the target holds its own, different copy of this session."""
        try:
            there = self._dst(summary).get_session(summary.id)
        except NotFound:
            return False
        if session_diff(there, summary):
            return True
        problem, _ = self._compare(summary)
        return problem is not None and there.event_count > 0

    def _copy_session(
        self, summary: SessionSummary, last_ts: int | None, last_id: str | None
    ) -> int:
        """Queue the session's events after (last_ts, last_id); return how many were queued."""
        session = plain_session(summary)
        if session.parent_session_id:
            self._ensure_parent(summary, session.parent_session_id)
        after = (last_ts, last_id) if last_ts is not None and last_id is not None else None
        count = 0
        previous: list[Event] | None = None
        for batch in session_batches(self._src(summary), session.id, after):
            if previous is not None:
                self._submit(
                    summary, [] if count > len(previous) else [session], previous, last=False
                )
            previous = batch
            count += len(batch)
        if previous is None:
            self.settle()
            self._dst(summary).write([session], [])
            self._finish_session(summary)
        else:
            self._submit(summary, [session] if count == len(previous) else [], previous, last=True)
        return count

    def _submit(
        self, summary: SessionSummary, rows: list[Session], batch: list[Event], *, last: bool
    ) -> None:
        """Write `batch` while the next one is read from the source (one write in flight).

        Results are settled in order, so the checkpoint only ever advances past
        batches the target acknowledged, whatever happens to this process.
        """
        self.settle()
        target = self._dst(summary)
        if self._executor is None:
            self._inflight = (None, target.write(rows, batch), summary, batch, last)
            self.settle()
            return
        future = self._executor.submit(target.write, rows, batch)
        self._inflight = (future, None, summary, batch, last)

    def settle(self) -> None:
        """Wait for the write in flight and record it (counts, rejects, checkpoint)."""
        if self._inflight is None:
            return
        future, result, summary, batch, last = self._inflight
        self._inflight = None
        if future is not None:
            result = future.result()
        assert result is not None
        rejected = len(result.errors)
        for err in result.errors:
            if len(self.report.rejected) < KEEP_PROBLEMS:
                eid = batch[err.index].id if 0 <= err.index < len(batch) else err.id
                self.report.rejected.append(
                    {"session_id": summary.id, "event_id": eid, "error": err.error}
                )
        self.report.events_rejected += rejected
        self.report.events_inserted += result.inserted
        self.report.events_duplicates += result.duplicates
        self.report.events_sent += len(batch)
        last_event = batch[-1]
        self.checkpoint.advance(
            self._key(summary), to_us(last_event.timestamp), last_event.id, len(batch), rejected
        )
        if last:
            self._finish_session(summary)
        if self.on_progress is not None:
            self.on_progress(len(batch))

    def _finish_session(self, summary: SessionSummary) -> None:
        key = self._key(summary)
        if not self.checkpoint.get(
            key
        ).rejected:  # with rejects it stays unfinished: a re-run retries
            self.checkpoint.finish(key, summary.event_count)

    def _ensure_parent(self, child: SessionSummary, parent_id: str) -> None:
        """A child session's row is never written before its parent's (the target may require it)."""
        try:
            self._dst(child).get_session(parent_id)
        except NotFound:
            try:
                parent = self._src(child).get_session(parent_id)
            except NotFound:
                return
            self._dst(parent).write([plain_session(parent)], [])

    # -------------------------------------------------------- verify
    def verify(
        self, *, repair: bool = True, on_checked: Callable[[int], None] | None = None
    ) -> MigrateReport:
        """Compare event counts and content checksums of every selected session on both sides."""
        rep = self.report
        rep.mismatches = []
        rep.verified = 0
        for n, summary in enumerate(self.sessions(), 1):
            if on_checked is not None:
                on_checked(n)
            key = self._key(summary)
            if key in self._left:  # --skip-existing: the target's copy is not ours
                continue
            problem, checksum = self._compare(summary)
            rejected = self.checkpoint.get(key).rejected
            if problem is not None and rejected:
                problem.reason += f" ({rejected} events were rejected by the target)"
            elif problem is not None and repair and not self.report.dry_run:
                # A repair sends the session again: its time and session count go with the
                # events it adds to events_sent, or the rate and "sessions sent" lie.
                started = time.monotonic()
                self.checkpoint.restart(key)
                again = self._src(summary).get_session(summary.id)
                self._copy_session(again, None, None)
                self.settle()
                rep.seconds += time.monotonic() - started
                rep.sessions_copied += 1
                rep.repaired += 1
                problem, checksum = self._compare(summary)
            self.checkpoint.set_verified(key, problem, checksum)
            if problem is None:
                rep.verified += 1
            else:
                rep.mismatches.append(problem)
        return rep

    def _compare(self, summary: Session) -> tuple[Mismatch | None, str | None]:
        """(why the two sides differ or None, the checksum when they agree)."""
        session_id = summary.id
        src_count, src_sum = session_checksum(self._src(summary), session_id)
        try:
            dst_count, dst_sum = session_checksum(self._dst(summary), session_id)
        except NotFound:
            return Mismatch(session_id, src_count, None, "missing on the target"), None
        if dst_count != src_count:
            return Mismatch(
                session_id,
                src_count,
                dst_count,
                f"{src_count} events here, {dst_count} on the target",
            ), None
        if dst_sum != src_sum:
            return Mismatch(
                session_id, src_count, dst_count, "same count but different content"
            ), None
        return None, src_sum

    def close(self) -> None:
        self.checkpoint.close()


def verify_only(source: Store, target: Store, selection: Selection | None = None) -> MigrateReport:
    """`migrate --verify` alone: compare both sides without sending anything."""
    migration = Migration(source, target, selection=selection)
    try:
        started = time.monotonic()
        for summary in migration.sessions():
            migration.report.sessions += 1
            migration.report.events_total += summary.event_count
        migration.verify(repair=False)
        migration.report.seconds = time.monotonic() - started
        return migration.report
    finally:
        migration.close()


__all__ = [
    "MigrateReport",
    "Migration",
    "Mismatch",
    "check_target",
    "session_batches",
    "verify_only",
]
