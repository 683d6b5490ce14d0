"""Streaming readers for NDJSON, JSON and CSV exports, and format detection.

A reader turns a byte stream into `Item`s: one record (a session or event
dict, not yet validated) with where it came from, or a per-record problem
(bad JSON, invalid UTF-8, a line over the limit, a CSV row with the wrong
number of fields) that the importer reports and skips. Problems that make
the rest of the file unreadable (wrong format, unknown header, truncated
gzip, a JSON document that does not parse) raise `FormatError`.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import orjson

from agentlog.batchcheck import line_event
from agentlog.errors import InvalidInput, UsageError
from agentlog.model import MAX_BATCH_BYTES
from agentlog.transfer.fileio import format_from_name
from agentlog.transfer.records import FORMAT_NAME, FORMAT_VERSION, check_version, upgrade
from agentlog.transfer.writers import (
    CSV_COLUMNS,
    CSV_NULLABLE_TEXT,
    CSV_SESSION_COLUMNS,
    restore_formula,
)

# A record line may hold 1 MiB of content escaped as JSON plus metadata; the
# batch limit bounds it, so no line can make the importer hold more than that.
MAX_LINE_BYTES = MAX_BATCH_BYTES
EVENT_RUN = 1_000  # event lines read the fast way, handed on (and checked) together
CSV_REQUIRED = ("id", "session_id", "timestamp", "type")
_SURROGATE = re.compile("[\udc80-\udcff]")
# The same words as `import --from langfuse|phoenix` for an empty file (a usage error, exit 2).
EMPTY = "the file is empty; expected an AgentLog export (NDJSON, JSON or CSV)"
BINARY = (
    "the file is not an AgentLog export: it is binary, not text "
    "(an export is NDJSON, JSON or CSV, optionally gzipped)"
)
# Bytes that do not occur in text: C0 controls but tab, newline, form feed, carriage return, ESC.
_CONTROL = bytes(b for b in range(32) if b not in b"\t\n\f\r\x1b")
# `export --format otlp` writes OTLP JSON lines; plain import would reject every line of it.
OTLP_HINT = (
    "is OTLP JSON (as `export --format otlp` writes), not an AgentLog export; "
    "import it with: agentlog import --from otlp FILE"
)


class FormatError(InvalidInput):
    """The file cannot be read further (wrong format, bad header, truncated stream)."""

    code = "invalid_file"


@dataclass(slots=True)
class Item:
    """One record read from a file, or why it could not be read."""

    where: str
    line: int | None = None
    kind: str | None = None
    data: dict[str, Any] | None = None
    raw: str | None = None
    error: str | None = None
    # An event line read the fast way, made again from its line to be read the model's way.
    source: bytes | None = None
    # Event lines read the fast way (`read_ndjson(decode_events=True)`), one Item for a run.
    run: EventRun | None = None


@dataclass(slots=True)
class EventRun:
    """Consecutive event lines of the current format decoded straight into checked structs
    (`batchcheck.line_event`): per line its number, the line itself (to read it again the
    model's way when needed) and the decoded event. One Item a run, not one a line: the
    Item, its text and the importer's step per line cost ~0.7 µs an event."""

    lines: list[int]
    sources: list[bytes]
    events: list[Any]


def _stream_error(exc: BaseException, where: str) -> FormatError:
    if isinstance(exc, EOFError):
        return FormatError(
            f"the gzip data ends early after {where}: the file is truncated; records "
            "before that point were read"
        )
    return FormatError(
        f"the gzip data is corrupt after {where} ({exc}); records before it were read"
    )


_STREAM_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error)


# ---------------------------------------------------------------- detection
def refuse_binary(stream: IO[bytes]) -> None:
    """A UsageError when the start of `stream` (peeked, not consumed) is not text at all.

    A NUL byte, or more than a tenth of control bytes and invalid UTF-8, is binary: a
    random or compiled file, which every reader would otherwise report as something else
    (not UTF-8, truncated, a missing CSV header). Text in another encoding (a few
    Latin-1 bytes) stays for the readers, which say to re-save it as UTF-8.
    """
    try:
        head = stream.peek(8192)[:8192]  # type: ignore[attr-defined]
    except _STREAM_ERRORS:
        return  # a damaged gzip: the readers say where it breaks
    if not head:
        return
    if b"\x00" in head:
        raise UsageError(BINARY)
    bad = len(head) - len(head.translate(None, _CONTROL))
    bad += head[:-3].decode("utf-8", "replace").count("\ufffd")  # a cut last character is fine
    if bad * 10 > len(head):
        raise UsageError(BINARY)


def detect_format(stream: IO[bytes], name: str | None = None) -> str:
    """ndjson, json or csv from the file name, else from the first bytes (peeked, not consumed)."""
    by_name = format_from_name(name)
    if by_name:
        return by_name
    try:
        head = stream.peek(65536)[:65536]  # type: ignore[attr-defined]
    except _STREAM_ERRORS as exc:
        raise _stream_error(exc, "the start") from None
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text:
        raise UsageError(EMPTY)
    if text[:1] == b"{":
        first = text.split(b"\n", 1)[0]
        try:
            obj = orjson.loads(first)
        except orjson.JSONDecodeError:
            return "json"  # an indented document: its first line is not a whole object
        return "json" if isinstance(obj, dict) and "sessions" in obj else "ndjson"
    first_line = text.split(b"\n", 1)[0].decode("utf-8", "replace")
    if "session_id" in first_line and "," in first_line:
        return "csv"
    raise FormatError(
        "cannot tell the file's format: it is not AgentLog NDJSON, JSON or CSV "
        "(give --format ndjson|json|csv if it is one of them)"
    )


def read_items(stream: IO[bytes], fmt: str, *, decode_events: bool = False) -> Iterator[Item]:
    if fmt == "ndjson":
        return read_ndjson(stream, decode_events=decode_events)
    if fmt == "json":
        return read_json(stream)
    if fmt == "csv":
        return read_csv(stream)
    raise FormatError(f"unknown format {fmt!r}; use ndjson, json, csv or auto")


# ---------------------------------------------------------------- NDJSON
def _decode_problem(line: bytes, lineno: int, last: bool) -> str:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return (
            f"line {lineno} is not valid UTF-8 (byte 0x{line[exc.start]:02x} at column "
            f"{exc.start + 1}); re-save the file as UTF-8"
        )
    if last and not line.endswith(b"\n"):
        return f"line {lineno} is truncated: the file ends in the middle of this record"
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return f"line {lineno} is not valid JSON ({exc})"
    return f"line {lineno} is not valid JSON"


def _kind(data: dict[str, Any]) -> str | None:
    kind = data.pop("kind", None)
    if kind is None and "session_id" in data:
        return "event"  # a bare event line, as `agentlog log --stdin` takes
    return kind if kind in ("session", "event") else None


def read_ndjson(stream: IO[bytes], *, decode_events: bool = False) -> Iterator[Item]:
    """Header line (optional), then one session or event object per line.

    `decode_events`: event lines of the current format in canonical form come in runs of
    up to `EVENT_RUN` consecutive lines, one Item each (`Item.run`: decoded by
    `batchcheck.line_event`, no dict built); every other line as `Item.data`, as without
    it. A run is handed on before the next other line, at the end and before a read error."""
    lineno = blank = 0
    version = None
    lines: list[int] = []  # the run of event lines read the fast way so far
    sources: list[bytes] = []
    events: list[Any] = []
    readline = stream.readline
    while True:
        try:
            line = readline(MAX_LINE_BYTES + 1)
        except _STREAM_ERRORS as exc:
            if lines:
                yield _run_item(lines, sources, events)
            raise _stream_error(exc, f"line {lineno}") from None
        if not line:
            if lines:
                yield _run_item(lines, sources, events)
            if lineno == blank:
                raise UsageError(EMPTY)
            return
        lineno += 1
        if decode_events and version == FORMAT_VERSION and len(line) <= MAX_LINE_BYTES:
            event = line_event(line)
            if event is not None:
                lines.append(lineno)
                sources.append(line)
                events.append(event)
                if len(lines) >= EVENT_RUN:
                    yield _run_item(lines, sources, events)
                    lines, sources, events = [], [], []
                continue
        if lines:
            yield _run_item(lines, sources, events)
            lines, sources, events = [], [], []
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            size = len(line)
            try:
                while True:
                    rest = stream.readline(MAX_LINE_BYTES)
                    size += len(rest)
                    if not rest or rest.endswith(b"\n"):
                        break
            except _STREAM_ERRORS as exc:
                raise _stream_error(exc, f"line {lineno}") from None
            yield Item(
                where=f"line {lineno}",
                line=lineno,
                raw=line[:200].decode("utf-8", "replace"),
                error=f"line {lineno} is {size:,} bytes; the limit is {MAX_LINE_BYTES:,} bytes",
            )
            continue
        if line.isspace():  # (no copy of a long line, as strip() makes)
            blank += 1
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            last = not line.endswith(b"\n")
            problem = _decode_problem(line, lineno, last)
            if version is None and lineno == 1 and not line.lstrip().startswith(b"{"):
                hint = (
                    "it looks like CSV; use --format csv or auto"
                    if b"," in line
                    else ("give --format json, csv or auto")
                )
                raise FormatError(f"{problem}: this is not an NDJSON export ({hint})") from None
            yield Item(
                where=f"line {lineno}",
                line=lineno,
                raw=line.decode("utf-8", "replace").rstrip("\r\n"),
                error=problem,
            )
            continue
        if not isinstance(obj, dict):
            yield Item(
                where=f"line {lineno}",
                line=lineno,
                raw=line.decode("utf-8", "replace").rstrip("\r\n"),
                error=f"line {lineno} is a JSON {type(obj).__name__}, not an object",
            )
            continue
        if version is None:
            if "resourceSpans" in obj and "kind" not in obj:
                raise UsageError(f"line {lineno} {OTLP_HINT}")
            if "format" in obj and "kind" not in obj:
                if obj.get("format") != FORMAT_NAME:
                    raise FormatError(
                        f"line {lineno}: this is a {obj.get('format')!r} file, not an AgentLog export"
                    )
                if "sessions" in obj:
                    raise FormatError(
                        "this is an AgentLog JSON document, not NDJSON; use --format json or auto"
                    )
                try:
                    version = check_version(obj.get("version"), f"line {lineno}")
                except ValueError as exc:
                    raise FormatError(str(exc)) from None
                continue
            version = 1
        kind = _kind(obj)
        if kind is None:
            yield Item(
                where=f"line {lineno}",
                line=lineno,
                data=obj,
                error=f'line {lineno}: kind must be "session" or "event"',
            )
            continue
        yield Item(where=f"line {lineno}", line=lineno, kind=kind, data=upgrade(kind, obj, version))


def _run_item(lines: list[int], sources: list[bytes], events: list[Any]) -> Item:
    return Item(
        where=f"line {lines[0]}", line=lines[0], kind="event", run=EventRun(lines, sources, events)
    )


# ---------------------------------------------------------------- JSON
def read_json(stream: IO[bytes]) -> Iterator[Item]:
    """One document {format, version, sessions: [{..., events: [...]}]}, read whole."""
    try:
        raw = stream.read()
    except _STREAM_ERRORS as exc:
        raise _stream_error(exc, "the start") from None
    if not raw.lstrip(b"\xef\xbb\xbf \t\r\n"):
        raise UsageError(EMPTY)
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as uexc:
            raise FormatError(
                f"the file is not valid UTF-8 (byte 0x{raw[uexc.start]:02x} at offset "
                f"{uexc.start}); re-save it as UTF-8"
            ) from None
        if (
            raw.lstrip()[:1] == b"{"
            and raw.count(b"\n") > 1
            and raw.lstrip().split(b"\n", 1)[0].rstrip().endswith(b"}")
        ):
            raise FormatError(
                "the file holds one JSON object per line: it is NDJSON, not a JSON document; "
                "use --format ndjson or auto"
            ) from None
        raise FormatError(
            f"the JSON document is truncated or malformed ({exc}); nothing was imported from it"
        ) from None
    if isinstance(doc, dict) and "resourceSpans" in doc:
        raise UsageError(f"the file {OTLP_HINT}")
    if not isinstance(doc, dict) or not isinstance(doc.get("sessions"), list):
        raise FormatError(
            'not an AgentLog JSON export: expected {"format": "agentlog", "sessions": [...]}'
        )
    if doc.get("format", FORMAT_NAME) != FORMAT_NAME:
        raise FormatError(f"this is a {doc.get('format')!r} file, not an AgentLog export")
    try:
        version = check_version(doc.get("version"), "the document")
    except ValueError as exc:
        raise FormatError(str(exc)) from None
    for i, session in enumerate(doc["sessions"]):
        where = f"sessions[{i}]"
        if not isinstance(session, dict):
            yield Item(
                where=where, error=f"{where} is a JSON {type(session).__name__}, not an object"
            )
            continue
        events = session.pop("events", None) or []
        session.pop("kind", None)
        yield Item(where=where, kind="session", data=upgrade("session", session, version))
        if not isinstance(events, list):
            yield Item(where=f"{where}.events", error=f"{where}.events must be a list")
            continue
        for j, event in enumerate(events):
            ewhere = f"{where}.events[{j}]"
            if not isinstance(event, dict):
                yield Item(
                    where=ewhere, error=f"{ewhere} is a JSON {type(event).__name__}, not an object"
                )
                continue
            event.pop("kind", None)
            event.setdefault("session_id", session.get("id"))
            yield Item(where=ewhere, kind="event", data=upgrade("event", event, version))


# ---------------------------------------------------------------- CSV
def _csv_json(cell: str, column: str, default: Any) -> Any:
    if cell == "":
        return default
    try:
        return orjson.loads(cell)
    except orjson.JSONDecodeError:
        raise ValueError(f"column {column} is not valid JSON: {cell[:60]!r}") from None


def read_csv(stream: IO[bytes]) -> Iterator[Item]:
    """The CSV that `export --format csv` writes; only id, session_id, timestamp, type are required."""
    csv.field_size_limit(MAX_LINE_BYTES)
    try:
        head = stream.peek(64)[:64].lstrip(b"\xef\xbb\xbf \t\r\n")  # type: ignore[attr-defined]
    except _STREAM_ERRORS as exc:
        raise _stream_error(exc, "the start") from None
    if head[:1] in (b"{", b"["):
        raise FormatError("the file is JSON, not CSV; use --format ndjson, json or auto")
    # surrogateescape keeps invalid bytes as lone surrogates, so a bad row is
    # rejected on its own instead of stopping the whole file.
    text = io.TextIOWrapper(stream, encoding="utf-8", errors="surrogateescape", newline="")
    reader = csv.reader(text, strict=True)
    try:
        header = next(reader)
        while len(header) <= 1 and not "".join(header).strip():  # blank lines first
            header = next(reader)
    except StopIteration:
        raise UsageError(EMPTY) from None
    except csv.Error as exc:
        raise FormatError(f"the CSV header cannot be read ({exc})") from None
    except _STREAM_ERRORS as exc:
        raise _stream_error(exc, "the start") from None
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    if header and header[0].lstrip().startswith(("{", "[")):
        raise FormatError("the file is JSON, not CSV; use --format ndjson, json or auto")
    missing = [c for c in CSV_REQUIRED if c not in header]
    if missing:
        raise FormatError(
            f"the CSV header lacks the column(s) {', '.join(missing)}; an AgentLog CSV needs "
            f"at least {', '.join(CSV_REQUIRED)}"
        )
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if unknown:
        raise FormatError(
            f"the CSV header has unknown column(s) {', '.join(repr(c) for c in unknown)}; "
            "remove them (the columns are those `agentlog export --format csv` writes)"
        )
    if len(set(header)) != len(header):
        raise FormatError("the CSV header names a column twice")
    width = len(header)
    session_cols = [c for c in header if c in CSV_SESSION_COLUMNS]
    last_session: str | None = None
    line_before = reader.line_num
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            start = line_before + 1
            line_before = reader.line_num
            yield Item(where=f"line {start}", line=start, error=f"line {start}: {exc}")
            continue
        except _STREAM_ERRORS as exc:
            raise _stream_error(exc, f"line {line_before}") from None
        start, line_before = line_before + 1, reader.line_num
        where = f"line {start}"
        if not row or row == [""]:
            continue
        if len(row) != width:
            yield Item(
                where=where,
                line=start,
                raw=",".join(row)[:200],
                error=f"{where} has {len(row)} fields; the header has {width}",
            )
            continue
        if any(_SURROGATE.search(cell) for cell in row):
            yield Item(
                where=where,
                line=start,
                raw=",".join(row)[:200]
                .encode("utf-8", "surrogateescape")
                .decode("utf-8", "replace"),
                error=f"{where} is not valid UTF-8; re-save the file as UTF-8",
            )
            continue
        cells = dict(zip(header, map(restore_formula, row), strict=True))
        try:
            session, event = _csv_records(cells, session_cols)
        except ValueError as exc:
            yield Item(where=where, line=start, raw=",".join(row)[:200], error=f"{where}: {exc}")
            continue
        if session is not None and (event is None or session["id"] != last_session):
            yield Item(where=where, line=start, kind="session", data=session)
        last_session = cells.get("session_id")
        if event is not None:
            yield Item(where=where, line=start, kind="event", data=event)


def _csv_records(cells: dict[str, str], session_cols: list[str]) -> tuple[dict | None, dict | None]:
    empty = set(filter(None, cells.get("empty_fields", "").split(",")))
    session: dict[str, Any] | None = None
    if session_cols:
        session = {"id": cells["session_id"]}
        for col in session_cols:
            field = col.removeprefix("session_")
            cell = cells[col]
            if col == "session_tags":
                session[field] = _csv_json(cell, col, [])
            elif col == "session_metadata":
                session[field] = _csv_json(cell, col, {})
            else:
                session[field] = (
                    None if cell == "" and field in ("parent_session_id", "ended_at") else cell
                )
    if cells["id"] == "":
        if session is None:
            raise ValueError("the id is empty and there are no session columns")
        return session, None
    event: dict[str, Any] = {}
    for col in CSV_COLUMNS:
        if (
            col not in cells
            or (col.startswith("session_") and col != "session_id")
            or col == "empty_fields"
        ):
            continue
        cell = cells[col]
        if col == "metadata":
            event[col] = _csv_json(cell, col, {})
        elif cell == "":
            if col in CSV_NULLABLE_TEXT:
                event[col] = "" if col in empty else None
            elif col not in ("status",):
                event[col] = None
        else:
            event[col] = cell
    return session, event


__all__ = [
    "CSV_REQUIRED",
    "EVENT_RUN",
    "MAX_LINE_BYTES",
    "EventRun",
    "FormatError",
    "Item",
    "detect_format",
    "read_csv",
    "read_items",
    "read_json",
    "read_ndjson",
    "refuse_binary",
]
