"""Import: validate every record with the SDK's models and write it, idempotent by id.

`import_file` reads NDJSON, JSON or CSV (gzipped or not, a file or stdin),
keeps going past bad records and returns an `ImportReport`: imported,
duplicates (same id, same content), conflicts (same id, different content:
the first write wins unless `overwrite`), rejected (where + why, optionally
written to a rejects file that can be fixed and imported again). `dry_run`
writes nothing; `strict` validates the whole file first, stops at the first
bad record, and rolls back if the store rejects anything while writing.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from operator import itemgetter
from pathlib import Path
from typing import IO, Any

import orjson
from pydantic import ValidationError

from agentlog.batchcheck import event_rows, json_row
from agentlog.errors import (
    AgentLogError,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
)
from agentlog.model import MAX_BATCH_EVENTS, Event, Session, WriteResult, validation_message
from agentlog.rowcheck import Row
from agentlog.storage.base import Store, writes_rows
from agentlog.storage.sql.rows import (
    GROUP_ROWS,
    ROW_CONTENT,
    ROW_ID,
    ROW_SESSION,
    event_values,
    row_event,
    write_rows_to,
)
from agentlog.transfer.fileio import is_stdio, open_input
from agentlog.transfer.readers import (
    EventRun,
    FormatError,
    Item,
    detect_format,
    read_items,
    refuse_binary,
)
from agentlog.transfer.rebuild import plain_session, rebuild_session
from agentlog.transfer.records import (
    FORMAT_VERSION,
    SESSION_COMPARED,
    event_diff,
    header,
    parse_event,
    parse_session,
    session_diff,
    session_record,
    upgrade,
)
from agentlog.transfer.report import KEEP_PROBLEMS, Counts, ImportReport, Problem
from agentlog.transfer.writers import now_text

_BATCH_BYTES = 8 * 1024 * 1024
_ROWS_BATCH_BYTES = 64 * 1024 * 1024  # a local store's group of GROUP_ROWS rows
# Errors that concern the items of a batch, not the store: isolate and reject them.
_ITEM_ERRORS = (InvalidInput, Conflict, Forbidden, NotFound, PayloadTooLarge)


_session_of = itemgetter(ROW_SESSION)
_content_of = itemgetter(ROW_CONTENT)
_ROW_BYTES = 512  # what a pending row counts for beside its content


def _line_item(line: int, source: bytes | None) -> Item:
    """The Item of an event line read the fast way, to read it again the model's way."""
    return Item(where=f"line {line}", line=line, kind="event", source=source)


class Pending:
    """Rows waiting to be written and where each came from, in parallel lists: an Item, or
    for an event line read the fast way its number and the line (its Item made again only
    for a refused or conflicting row). No tuple or Item a row: with 10,000 rows pending,
    the collector's passes over them cost the import ~1 µs an event."""

    __slots__ = ("checked", "origins", "rows", "size", "sources")

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.origins: list[Item | int] = []
        self.sources: list[bytes | None] = []
        self.checked: set[int] = set()  # rows whose session was in the store before
        self.size = 0  # bytes, roughly: content and _ROW_BYTES a row

    def item(self, index: int) -> Item:
        """The Item row `index` came from."""
        origin = self.origins[index]
        if isinstance(origin, Item):
            return origin
        return _line_item(origin, self.sources[index])


class StopImport(Exception):
    """Raised inside a strict import at the first bad record."""


def _digest(record: dict[str, Any], fields: Iterable[str]) -> bytes:
    return hashlib.blake2b(
        orjson.dumps({k: record[k] for k in fields}, option=orjson.OPT_SORT_KEYS), digest_size=12
    ).digest()


class RejectsFile:
    """`--rejects FILE`, created (with its header) at the first rejected record or by
    `create`, so an import stopped by a usage error leaves no file behind."""

    def __init__(self, path: str | Path) -> None:
        self.path = path
        self._out: IO[bytes] | None = None

    def create(self) -> None:
        if self._out is None:
            self._out = open(self.path, "wb")  # noqa: SIM115 - closed by close()
            self._out.write(orjson.dumps(header(now_text())) + b"\n")

    def write(self, line: bytes) -> None:
        self.create()
        assert self._out is not None
        self._out.write(line)

    def close(self) -> None:
        if self._out is not None:
            self._out.close()


class Importer:
    """Validates items and writes them to a store in batches; one instance per import."""

    def __init__(
        self,
        store: Store,
        *,
        dry_run: bool = False,
        overwrite: bool = False,
        stop_at_first: bool = False,
        track_rollback: bool = False,
        rejects: RejectsFile | None = None,
        batch_events: int | None = None,
        on_record: Callable[[int], None] | None = None,
    ) -> None:
        self.store = store
        self.dry_run = dry_run
        self.overwrite = overwrite
        self.stop_at_first = stop_at_first
        self.track_rollback = track_rollback
        self.rejects_out = rejects
        rows = writes_rows(store) is not None
        # A store that takes rows (local SQLite) gets them in groups, as the SDK's writer
        # hands them (`GROUP_ROWS`: one transaction of 10,000 costs 10-15% less a row than
        # ten of 1,000); anything else gets what one API request may carry.
        self.batch_events = batch_events or (GROUP_ROWS if rows else MAX_BATCH_EVENTS)
        self._batch_bytes = _ROWS_BATCH_BYTES if rows else _BATCH_BYTES
        self.on_record = on_record
        self.report = ImportReport(dry_run=dry_run)
        self._seen_sessions: dict[str, bytes] = {}  # session id -> digest, this file
        self._fresh: set[str] = set()  # sessions this import created
        self._existing: set[str] = set()  # sessions that were in the store before
        self._bad_sessions: dict[str, str] = {}  # rejected session id -> where
        self._pending_sessions: list[Session] = []
        self._pending = Pending()
        self._replacements: dict[str, dict[str, Event]] = {}  # overwrite: sid -> eid -> event
        self._originals: dict[str, Session] = {}  # strict: pre-existing sessions as they were
        self.inserted_into_existing: dict[str, set[str]] = {}
        # Strict imports write synchronously: a refused item must stop everything at once.
        # So does a store that takes rows (local SQLite): reading and checking a record
        # costs a fraction of writing it, and a second thread only contends for the GIL
        # (measured: 14.4k events/s in line against 11.9k overlapped). A store behind a
        # network (a server, PostgreSQL) is written while the next batch is read.
        synchronous = dry_run or track_rollback or rows
        self._executor = None if synchronous else ThreadPoolExecutor(1, "agentlog-import")
        self._inflight: tuple[Future[WriteResult], list[Session], Pending] | None = None

    # -------------------------------------------------------- problems
    def _reject(
        self, item: Item, reason: str, kind: str | None = None, rid: str | None = None
    ) -> None:
        kind = kind or item.kind
        counts = self.report.sessions if kind == "session" else self.report.events
        counts.rejected += 1
        problem = Problem(where=item.where, reason=reason, kind=kind, id=rid, line=item.line)
        if len(self.report.rejects) < KEEP_PROBLEMS:
            self.report.rejects.append(problem)
        if self.rejects_out is not None:
            meta = {"where": item.where, "line": item.line, "reason": reason}
            if item.data is None and item.source is not None:
                _read_again(item)
            if item.data is not None and kind in ("session", "event"):
                rec = {"kind": kind, **item.data, "_reject": meta}
            else:
                rec = {"kind": "invalid", "raw": item.raw, "_reject": meta}
            self.rejects_out.write(orjson.dumps(rec, default=str) + b"\n")
        if self.stop_at_first:
            raise StopImport(reason)

    def _conflict(self, item: Item, kind: str, rid: str, fields: list[str]) -> None:
        counts = self.report.sessions if kind == "session" else self.report.events
        if self.overwrite:
            counts.overwritten += 1
        else:
            counts.conflicts += 1
        action = (
            "overwritten"
            if self.overwrite
            else "kept the stored version (use --overwrite to replace it)"
        )
        reason = f"{kind} {rid} exists with different {', '.join(fields)}; {action}"
        if len(self.report.conflicts) < KEEP_PROBLEMS:
            self.report.conflicts.append(Problem(item.where, reason, kind, rid, item.line))

    # -------------------------------------------------------- records
    def run(self, items: Iterable[Item]) -> ImportReport:
        for item in items:
            if item.run is not None:
                if self.on_record is not None:
                    self.on_record(len(item.run.lines))
                self._take_run(item.run)
                continue
            if self.on_record is not None:
                self.on_record(1)
            if item.error is not None:
                self._reject(item, item.error)
                continue
            assert item.data is not None
            item.data.pop("_reject", None)  # a fixed rejects file comes back with its notes
            if item.kind == "session":
                self._session(item)
            else:
                self._event(item)
        self.finish()
        self._apply_replacements()
        return self.report

    def _session(self, item: Item) -> None:
        try:
            session = parse_session(item.data or {})
        except (ValidationError, ValueError) as exc:
            rid = (item.data or {}).get("id")
            if isinstance(rid, str):
                self._bad_sessions[rid] = item.where
            self._reject(
                item,
                f"{item.where}: {validation_message(exc)}",
                "session",
                rid if isinstance(rid, str) else None,
            )
            return
        self._bad_sessions.pop(session.id, None)
        digest = _digest(session_record(session), SESSION_COMPARED)
        previous = self._seen_sessions.get(session.id)
        if previous is not None:
            if previous == digest:
                self.report.sessions.duplicates += 1
                return
            self._conflict(item, "session", session.id, ["content (earlier in this file)"])
            if self.overwrite:
                self._seen_sessions[session.id] = digest
                self._queue_session(session)
            return
        self._seen_sessions[session.id] = digest
        try:
            stored = self.store.get_session(session.id)
        except NotFound:
            self._fresh.add(session.id)
            self.report.sessions.imported += 1
            self._queue_session(session)
            return
        self._existing.add(session.id)
        if self.track_rollback:
            self._originals.setdefault(session.id, plain_session(stored))
        fields = session_diff(stored, session)
        if not fields:
            self.report.sessions.duplicates += 1
            return
        self._conflict(item, "session", session.id, fields)
        if self.overwrite:
            self._queue_session(session)

    def _queue_session(self, session: Session) -> None:
        self._pending_sessions.append(session)
        if len(self._pending_sessions) >= self.batch_events:
            self.flush()

    def _take_run(self, run: EventRun) -> None:
        """Check a run of event lines read the fast way, together; if any needs the model,
        read each of the run again as a record."""
        rows = event_rows(run.events)
        if rows is None:
            for line, source in zip(run.lines, run.sources, strict=True):
                item = _line_item(line, source)
                _read_again(item)
                self._event(item)
            return
        fresh, bad = self._fresh, self._bad_sessions
        sessions = set(map(_session_of, rows))
        if sessions <= fresh and sessions.isdisjoint(bad):
            # The common case, without `_event_row`'s questions: sessions this import
            # created hold no earlier version of the events to compare with.
            self._queue_run(rows, run)
            return
        for line, source, row in zip(run.lines, run.sources, rows, strict=True):
            session_id = row[ROW_SESSION]
            if session_id in fresh and session_id not in bad:
                self._queue(row, line, source, False)
            else:
                self._event_row(_line_item(line, source), row)

    def _queue_run(self, rows: list[Row], run: EventRun) -> None:
        """`_queue` for each row of a run, a batch's worth at a time: the same batches,
        flushed at the same rows."""
        pending, start, end = self._pending, 0, len(rows)
        while start < end:
            stop = min(end, start + max(1, self.batch_events - len(pending.rows)))
            head = rows[start:stop]
            size = sum(map(len, filter(None, map(_content_of, head)))) + _ROW_BYTES * len(head)
            if pending.size + size >= self._batch_bytes:  # a flush for size inside: row by row
                for i in range(start, end):
                    self._queue(rows[i], run.lines[i], run.sources[i], False)
                return
            pending.rows += head
            pending.origins += run.lines[start:stop]
            pending.sources += run.sources[start:stop]
            pending.size += size
            if len(pending.rows) >= self.batch_events:
                self.flush()
                pending = self._pending
            start = stop

    def _queue(self, row: Row, origin: Item | int, source: bytes | None, checked: bool) -> None:
        """Add a row to the pending batch, and write the batch once it is as large as one
        write takes."""
        pending = self._pending
        if checked:
            pending.checked.add(len(pending.rows))
        pending.rows.append(row)
        pending.origins.append(origin)
        pending.sources.append(source)
        pending.size += len(row[ROW_CONTENT] or "") + _ROW_BYTES
        if len(pending.rows) >= self.batch_events or pending.size >= self._batch_bytes:
            self.flush()

    def drop_pending(self) -> None:
        """Forget what was read but not written (a strict import stopped)."""
        self._pending_sessions.clear()
        self._pending = Pending()

    def _event(self, item: Item) -> None:
        row = json_row(item.data)  # a canonical record: straight to the store's row
        if row is not None:
            self._event_row(item, row)
            return
        try:
            event = parse_event(item.data or {})
        except (ValidationError, ValueError) as exc:
            rid = (item.data or {}).get("id")
            self._reject(
                item,
                f"{item.where}: {validation_message(exc)}",
                "event",
                rid if isinstance(rid, str) else None,
            )
            return
        self._event_row(item, event_values(event))

    def _event_row(self, item: Item, row: Row) -> None:
        session_id = row[ROW_SESSION]
        bad = self._bad_sessions.get(session_id)
        if bad is not None:
            self._reject(
                item,
                f"{item.where}: its session {session_id} was rejected at {bad}",
                "event",
                row[ROW_ID],
            )
            return
        checked = False
        if session_id not in self._fresh and session_id not in self._existing:
            try:
                stored_session = self.store.get_session(session_id)
                self._existing.add(session_id)
                if self.track_rollback:
                    self._originals.setdefault(session_id, plain_session(stored_session))
            except NotFound:
                # No session record before its events: the write will create it.
                self._fresh.add(session_id)
        if session_id not in self._fresh:
            event = row_event(row)
            # The session was there before: the event may be too.
            checked = True
            try:
                stored = self.store.get_event(event.id)
            except NotFound:
                stored = None
            if stored is not None:
                fields = event_diff(stored, event)
                if not fields:
                    self.report.events.duplicates += 1
                    return
                self._conflict(item, "event", event.id, fields)
                if self.overwrite:
                    self._replacements.setdefault(stored.session_id, {})[event.id] = event
                return
        self._queue(row, item, None, checked)

    # -------------------------------------------------------- writing
    def flush(self) -> None:
        """Send the pending batch: in line, or pipelined (written while the next batch is parsed)."""
        sessions, pending = self._pending_sessions, self._pending
        self._pending_sessions, self._pending = [], Pending()
        rows = pending.rows
        if not sessions and not rows:
            return
        if self.dry_run:
            self.report.events.imported += len(rows)
            return
        if self._executor is None:
            try:
                result = self._write(sessions, rows)
            except _ITEM_ERRORS:
                self._write_one_by_one(sessions, pending)
                return
            self._settle(result, pending)
            return
        # A remote store waits on the network with the GIL released, so reading the
        # next batch overlaps writing this one; results are settled in order.
        self.settle_inflight()
        self._inflight = (
            self._executor.submit(self._write, sessions, rows),
            sessions,
            pending,
        )

    def _write(self, sessions: list[Session], rows: list[Row]) -> WriteResult:
        return write_rows_to(self.store, sessions, rows)

    def settle_inflight(self) -> None:
        """Wait for the batch being written and account for its result."""
        if self._inflight is None:
            return
        future, sessions, pending = self._inflight
        self._inflight = None
        try:
            result = future.result()
        except _ITEM_ERRORS:
            self._write_one_by_one(sessions, pending)
            return
        self._settle(result, pending)

    def finish(self) -> None:
        """Write everything pending and wait for it (also after the file broke off)."""
        try:
            self.flush()
            self.settle_inflight()
        finally:
            if self._executor is not None:
                self._executor.shutdown(wait=True)
                self._executor = None

    def finish_quietly(self) -> None:
        """After a store failure: stop the writer thread without raising again."""
        self.drop_pending()
        try:
            self.finish()
        except AgentLogError:
            pass

    def _settle(self, result: WriteResult, pending: Pending) -> None:
        failed = {err.index for err in result.errors if 0 <= err.index < len(pending.rows)}
        self._note_inserted(pending, failed)  # first: a strict reject below stops the import
        self.report.events.imported += result.inserted
        if result.duplicates:
            self._recheck(pending, failed, result.duplicates)
        for err in result.errors:
            if 0 <= err.index < len(pending.rows):
                item = pending.item(err.index)
                self._reject(
                    item,
                    f"{item.where}: the store rejected it: {err.error}",
                    "event",
                    pending.rows[err.index][ROW_ID],
                )

    def _recheck(self, pending: Pending, failed: set[int], duplicates: int) -> None:
        """Some events were already stored (repeats within the file): find conflicts among them."""
        conflicts = 0
        for i, row in enumerate(pending.rows):
            if i in failed:
                continue
            event = row_event(row)
            try:
                stored = self.store.get_event(event.id)
            except NotFound:
                continue
            fields = event_diff(stored, event)
            if fields:
                conflicts += 1
                self._conflict(
                    pending.item(i), "event", event.id, [*fields, "(earlier in this file)"]
                )
                if self.overwrite:
                    self._replacements.setdefault(stored.session_id, {})[event.id] = event
        self.report.events.duplicates += max(0, duplicates - conflicts)

    def _note_inserted(self, pending: Pending, failed: set[int]) -> None:
        if not self.track_rollback:
            return
        for i in pending.checked - failed:
            row = pending.rows[i]
            self.inserted_into_existing.setdefault(row[ROW_SESSION], set()).add(row[ROW_ID])

    def _write_one_by_one(self, sessions: list[Session], pending: Pending) -> None:
        """The store refused the whole batch: write each item alone to find the bad ones."""
        for session in sessions:
            try:
                self.store.write([session], [])
            except _ITEM_ERRORS as exc:
                self.report.sessions.imported -= 1
                self._reject(
                    Item(where=f"session {session.id}", kind="session"),
                    f"session {session.id}: the store rejected it: {exc}",
                    "session",
                    session.id,
                )
        failed: set[int] = set()
        for i, row in enumerate(pending.rows):
            item = pending.item(i)
            try:
                result = self._write([], [row])
            except _ITEM_ERRORS as exc:
                failed.add(i)
                self._reject(
                    item, f"{item.where}: the store rejected it: {exc}", "event", row[ROW_ID]
                )
                continue
            if result.errors:
                failed.add(i)
                self._reject(
                    item,
                    f"{item.where}: the store rejected it: {result.errors[0].error}",
                    "event",
                    row[ROW_ID],
                )
            self.report.events.imported += result.inserted
            self.report.events.duplicates += result.duplicates
        self._note_inserted(pending, failed)

    def _apply_replacements(self) -> None:
        if self.dry_run or not self._replacements:
            return
        for session_id, replace in self._replacements.items():
            rebuild_session(self.store, session_id, replace=replace)
        self._replacements.clear()

    # -------------------------------------------------------- strict rollback
    def roll_back(self) -> None:
        """Undo this import: erase the sessions it created, take its events out of the others."""
        for session_id in self._fresh:
            try:
                self.store.delete_session(session_id)
            except NotFound:
                pass
        for session_id, ids in self.inserted_into_existing.items():
            if session_id not in self._fresh:
                rebuild_session(
                    self.store, session_id, drop=ids, session=self._originals.get(session_id)
                )
        for session_id, session in self._originals.items():
            if session_id not in self.inserted_into_existing:
                rebuild_session(self.store, session_id, session=session)
        self.report.rolled_back = True


def _read_again(item: Item) -> None:
    """An event line read the fast way, read the usual way (a dict in `item.data`)."""
    assert item.source is not None
    data = orjson.loads(item.source)
    data.pop("kind", None)
    item.data = upgrade("event", data, FORMAT_VERSION)


# ---------------------------------------------------------------- files
def import_file(
    store: Store,
    path: str | Path | None,
    *,
    fmt: str = "auto",
    dry_run: bool = False,
    strict: bool = False,
    overwrite: bool = False,
    rejects_path: str | Path | None = None,
    on_progress: Callable[[int, int | None], None] | None = None,
) -> ImportReport:
    """Import one export file (`-`/None = stdin) into `store`; see the module docstring."""
    if strict and is_stdio(path):
        # A strict import reads the file twice (validate, then write): keep stdin.
        with tempfile.NamedTemporaryFile(prefix="agentlog-import-", delete=False) as tmp:
            shutil.copyfileobj(sys.stdin.buffer, tmp, 1 << 20)
        try:
            return import_file(
                store,
                tmp.name,
                fmt=fmt,
                dry_run=dry_run,
                strict=True,
                overwrite=overwrite,
                rejects_path=rejects_path,
                on_progress=on_progress,
            )
        finally:
            Path(tmp.name).unlink(missing_ok=True)
    rejects = RejectsFile(rejects_path) if rejects_path else None
    try:
        report = _import(store, path, fmt, dry_run, strict, overwrite, rejects, on_progress)
        if rejects is not None:
            # The input was read: the file holds this run's rejects, its header alone when
            # there were none (so an older run's file is not left to mislead). A usage
            # error raised above leaves no file.
            rejects.create()
        return report
    finally:
        if rejects is not None:
            rejects.close()


def _import(
    store: Store,
    path: str | Path | None,
    fmt: str,
    dry_run: bool,
    strict: bool,
    overwrite: bool,
    rejects: RejectsFile | None,
    on_progress: Callable[[int, int | None], None] | None,
) -> ImportReport:
    if strict:
        check = _run(
            store,
            path,
            fmt,
            rejects=rejects,
            dry_run=True,
            stop_at_first=True,
            overwrite=overwrite,
        )
        check.strict = True
        if check.aborted or check.rejected or dry_run:
            if not dry_run:  # validation stopped a strict import: nothing was written
                check.dry_run = False
                check.sessions.imported = check.events.imported = 0
            return check
        return _run(
            store,
            path,
            fmt,
            rejects=None,
            dry_run=False,
            stop_at_first=True,
            overwrite=overwrite,
            track_rollback=True,
            on_progress=on_progress,
        )
    return _run(
        store,
        path,
        fmt,
        rejects=rejects,
        dry_run=dry_run,
        overwrite=overwrite,
        on_progress=on_progress,
    )


def _run(
    store: Store,
    path: str | Path | None,
    fmt: str,
    *,
    rejects: RejectsFile | None,
    dry_run: bool,
    overwrite: bool,
    stop_at_first: bool = False,
    track_rollback: bool = False,
    on_progress: Callable[[int, int | None], None] | None = None,
) -> ImportReport:
    with open_input(path) as source:
        refuse_binary(source.stream)
        try:
            chosen = detect_format(source.stream, source.name) if fmt == "auto" else fmt
        except FormatError as exc:
            return ImportReport(dry_run=dry_run, strict=stop_at_first, aborted=exc.message)
        counter = [0]

        def tick(records: int) -> None:
            before = counter[0]
            counter[0] += records
            if on_progress is not None and counter[0] // 500 != before // 500:
                on_progress(source.position(), source.size)

        importer = Importer(
            store,
            dry_run=dry_run,
            overwrite=overwrite,
            stop_at_first=stop_at_first,
            track_rollback=track_rollback,
            rejects=rejects,
            on_record=tick,
        )
        importer.report.format = chosen
        importer.report.strict = stop_at_first
        try:
            importer.run(read_items(source.stream, chosen, decode_events=True))
        except StopImport:
            importer.drop_pending()
            if track_rollback:
                importer.roll_back()
        except FormatError as exc:
            importer.report.aborted = exc.message
            if stop_at_first and track_rollback:
                importer.roll_back()
            elif not stop_at_first:
                importer.finish()  # keep what was read before the damage
        except AgentLogError:
            importer.finish_quietly()
            if track_rollback:
                importer.drop_pending()
                importer.roll_back()
            raise
        if on_progress is not None:
            on_progress(source.position(), source.size)
        return importer.report


__all__ = [
    "KEEP_PROBLEMS",
    "Counts",
    "ImportReport",
    "Importer",
    "Problem",
    "import_file",
]
