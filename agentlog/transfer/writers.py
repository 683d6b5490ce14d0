"""Streaming writers for the three export formats: NDJSON, JSON and CSV.

Each writer takes sessions and their events in order (`begin_session`,
`event`..., `end_session`) and writes as it goes, so memory stays constant
however large the export. NDJSON is the native format; JSON nests events in
their session; CSV is one row per event with the session's fields as
`session_*` columns, metadata as JSON text, and one row with an empty `id`
for a session without events.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson

from agentlog.model import Event, Session, format_ts
from agentlog.transfer.records import (
    EVENT_FIELDS,
    SESSION_FIELDS,
    event_line,
    event_record,
    header,
    record_line,
    session_record,
)

FORMATS = ("ndjson", "json", "csv")
_FLUSH_AT = 1 << 18

# CSV columns: the event's fields, the session's fields prefixed, then the one
# column that tells an empty string from a null (CSV has no null).
CSV_SESSION_COLUMNS = tuple(f"session_{f}" for f in SESSION_FIELDS if f != "id")
CSV_COLUMNS: tuple[str, ...] = (*EVENT_FIELDS, *CSV_SESSION_COLUMNS, "empty_fields")
# Text fields where "" and null are both valid values and must stay apart.
CSV_NULLABLE_TEXT = ("agent_id", "name", "content")
CSV_JSON_COLUMNS = ("metadata", "session_metadata", "session_tags")


class Writer(Protocol):
    events: int
    sessions: int

    def begin_session(self, session: Session) -> None: ...

    def event(self, event: Event) -> None: ...

    def write_events(self, events: list[Event]) -> None: ...

    def write_records(self, records: list[dict[str, Any]]) -> None: ...

    def end_session(self) -> None: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


def now_text() -> str:
    return format_ts(datetime.now(UTC))


class ByteSink(Protocol):
    """Where a writer puts its bytes: a binary file, or any object with `write`."""

    def write(self, data: bytes, /) -> int: ...


class _Buffered:
    """Collects small writes and hands the stream large chunks (or writes through a buffered file)."""

    def __init__(self, stream: ByteSink) -> None:
        self._stream = stream
        # A buffered file copies each line into its fixed buffer at once. Holding a
        # page of lines and joining them instead made glibc hand megabytes back and
        # forth to the kernel on every page: export ran at half the speed (bench_portability).
        self._direct = isinstance(stream, io.BufferedWriter)
        self._parts: list[bytes] = []
        self._size = 0
        self.events = 0
        self.sessions = 0
        self.bytes = 0

    def _put(self, data: bytes) -> None:
        if self._direct:
            self.bytes += self._stream.write(data)
            return
        self._parts.append(data)
        self._size += len(data)
        if self._size >= _FLUSH_AT:
            self._flush()

    def _put_all(self, parts: list[bytes]) -> None:
        """Many writes at once: one copy into the next chunk, not a join per page as well."""
        if self._direct:
            write = self._stream.write
            self.bytes += sum([write(part) for part in parts])
            return
        self._parts.extend(parts)
        self._size += sum(map(len, parts))
        if self._size >= _FLUSH_AT:
            self._flush()

    def _flush(self) -> None:
        if self._parts:
            chunk = self._parts[0] if len(self._parts) == 1 else b"".join(self._parts)
            self._stream.write(chunk)
            self.bytes += len(chunk)
            self._parts.clear()
            self._size = 0

    def write_events(self, events: list[Event]) -> None:
        for event in events:
            self.event(event)  # type: ignore[attr-defined]

    def write_records(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            self.record(record)  # type: ignore[attr-defined]

    def flush(self) -> None:
        """Hand everything written so far to the stream (a streamed download yields after each page)."""
        self._flush()

    def close(self) -> None:
        self._flush()


class NdjsonWriter(_Buffered):
    """Header line, then a `session` line before each session's `event` lines."""

    def __init__(self, stream: ByteSink, exported_at: str | None = None) -> None:
        super().__init__(stream)
        self._put(orjson.dumps(header(exported_at)) + b"\n")

    def begin_session(self, session: Session) -> None:
        self._put(orjson.dumps({"kind": "session", **session_record(session)}) + b"\n")
        self.sessions += 1

    def event(self, event: Event) -> None:
        self._put(event_line(event))
        self.events += 1

    def write_events(self, events: list[Event]) -> None:
        self._put_all([event_line(e) for e in events])
        self.events += len(events)

    def record(self, record: dict[str, Any]) -> None:
        self._put(record_line(record))
        self.events += 1

    def write_records(self, records: list[dict[str, Any]]) -> None:
        if self._direct:
            # The hot path of an export: each line goes to the file buffer as it is made.
            write = self._stream.write
            self.bytes += sum([write(record_line(r)) for r in records])
        else:
            self._put_all([record_line(r) for r in records])
        self.events += len(records)

    def end_session(self) -> None:
        pass


class JsonWriter(_Buffered):
    """One document: {format, version, sessions: [{..., events: [...]}]}."""

    def __init__(self, stream: ByteSink, exported_at: str | None = None) -> None:
        super().__init__(stream)
        head = orjson.dumps(header(exported_at))
        self._put(head[:-1] + b',"sessions":[')
        self._first_event = True

    def begin_session(self, session: Session) -> None:
        body = orjson.dumps(session_record(session))
        self._put((b"," if self.sessions else b"") + b"\n" + body[:-1] + b',"events":[')
        self.sessions += 1
        self._first_event = True

    def event(self, event: Event) -> None:
        self.record(event_record(event))

    def record(self, record: dict[str, Any]) -> None:
        self._put((b"" if self._first_event else b",") + b"\n" + orjson.dumps(record))
        self._first_event = False
        self.events += 1

    def write_records(self, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        put = self._put
        put(b"\n" if self._first_event else b",\n")
        put(orjson.dumps(records[0]))
        for record in records[1:]:
            put(b",\n")
            put(orjson.dumps(record))
        self._first_event = False
        self.events += len(records)

    def end_session(self) -> None:
        self._put(b"]}")

    def close(self) -> None:
        self._put(b"\n]}\n")
        super().close()


# A cell a spreadsheet would run as a formula starts with one of these (OWASP's list).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(cell: str) -> str:
    """Prefix `'` to a cell a spreadsheet would evaluate, reversibly (see `restore_formula`).

    A cell already starting with `'` and then a trigger or another `'` is prefixed too,
    so the reader's rule — drop one leading `'` when a trigger or `'` follows — gives
    back every original cell exactly.
    """
    if cell.startswith(FORMULA_TRIGGERS) or (
        cell.startswith("'") and cell[1:2] in (*FORMULA_TRIGGERS, "'")
    ):
        return "'" + cell
    return cell


def restore_formula(cell: str) -> str:
    """The cell `neutralise_formula` was given."""
    if cell.startswith("'") and cell[1:2] in (*FORMULA_TRIGGERS, "'") and cell[1:2]:
        return cell[1:]
    return cell


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


class CsvWriter(_Buffered):
    """RFC 4180 CSV (csv module, CRLF line ends): one row per event, a header row first.

    Cells a spreadsheet would run as formulas are prefixed with `'`, reversibly.
    """

    def __init__(self, stream: ByteSink, exported_at: str | None = None) -> None:
        super().__init__(stream)
        self._text = io.StringIO()
        self._csv = csv.writer(self._text, lineterminator="\r\n")
        self._session_cells: list[str] = []
        self._session_events = 0
        self._row(list(CSV_COLUMNS))

    def _row(self, cells: list[str]) -> None:
        self._csv.writerow([neutralise_formula(cell) for cell in cells])
        if self._text.tell() >= _FLUSH_AT:
            self._drain()

    def _drain(self) -> None:
        self._put(self._text.getvalue().encode("utf-8"))
        self._text.seek(0)
        self._text.truncate()

    def begin_session(self, session: Session) -> None:
        rec = session_record(session)
        cells = []
        for field in SESSION_FIELDS[1:]:
            value = rec[field]
            if field in ("tags", "metadata"):
                cells.append(orjson.dumps(value).decode())
            else:
                cells.append(_csv_value(value))
        self._session_cells = cells
        self._session = session
        self._session_events = 0
        self.sessions += 1

    def event(self, event: Event) -> None:
        self.record(event_record(event))

    def record(self, rec: dict[str, Any]) -> None:
        cells = []
        empty = []
        for field in EVENT_FIELDS:
            value = rec[field]
            if field == "metadata":
                cells.append(orjson.dumps(value).decode())
                continue
            if value == "" and field in CSV_NULLABLE_TEXT:
                empty.append(field)
            cells.append(_csv_value(value))
        self._row([*cells, *self._session_cells, ",".join(empty)])
        self._session_events += 1
        self.events += 1

    def end_session(self) -> None:
        if self._session_events == 0:
            # A session without events still needs a row, or it would be lost.
            blank = [""] * len(EVENT_FIELDS)
            blank[EVENT_FIELDS.index("session_id")] = self._session.id
            self._row([*blank, *self._session_cells, ""])

    def flush(self) -> None:
        self._drain()
        self._flush()

    def close(self) -> None:
        self._drain()
        super().close()


def make_writer(fmt: str, stream: ByteSink, exported_at: str | None = None) -> Writer:
    if fmt == "ndjson":
        return NdjsonWriter(stream, exported_at)
    if fmt == "json":
        return JsonWriter(stream, exported_at)
    if fmt == "csv":
        return CsvWriter(stream, exported_at)
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


__all__ = [
    "CSV_COLUMNS",
    "CSV_JSON_COLUMNS",
    "CSV_NULLABLE_TEXT",
    "CSV_SESSION_COLUMNS",
    "FORMATS",
    "CsvWriter",
    "JsonWriter",
    "NdjsonWriter",
    "Writer",
    "make_writer",
]
