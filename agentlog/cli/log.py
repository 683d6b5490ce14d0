"""`agentlog log`: record one event from a shell, or NDJSON events piped in with `--stdin`."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Annotated, Any

import orjson
import typer

from agentlog.cli.context import get_settings, get_store
from agentlog.cli.options import EventStatusOpt, JsonOpt, json_object
from agentlog.cli.output import Format, message, output_format, print_json, write_line
from agentlog.cli.resolve import resolve_session_id
from agentlog.errors import InvalidInput, UsageError
from agentlog.model import (
    MAX_BATCH_BYTES,
    MAX_BATCH_EVENTS,
    Event,
    EventStatus,
    EventType,
    validation_message,
)
from agentlog.storage.base import Store
from agentlog.timeparse import parse_time

# Leave headroom under the batch byte limit for the JSON around each event.
_BATCH_BYTES = MAX_BATCH_BYTES * 8 // 10


def session_ref(store: Store, text: str) -> str:
    """A full id is used as given (writing to it creates the session); else resolve it."""
    try:
        return str(uuid.UUID(text.strip()))
    except ValueError:
        return resolve_session_id(store, text)


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


@dataclass
class StdinReport:
    """What `log --stdin` did: stored, already there, and the failed lines with reasons."""

    recorded: int = 0
    duplicates: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def to_json_dict(self) -> dict[str, Any]:
        return {"recorded": self.recorded, "duplicates": self.duplicates, "errors": self.errors}


def bounded_lines(stream: IO[bytes], limit: int = MAX_BATCH_BYTES) -> Iterator[bytes | int]:
    """The lines of `stream`, none held past `limit` bytes: an over-long line is given as its size.

    Reading whole lines, one endless line on stdin (`yes | tr -d '\\n'`) grew without bound.
    """
    readline = stream.readline
    while True:
        line = readline(limit + 1)
        if not line:
            return
        if len(line) <= limit or line.endswith(b"\n"):
            yield line
            continue
        size = len(line)
        while True:  # skip the rest of it, a bounded piece at a time
            rest = readline(limit)
            size += len(rest)
            if not rest or rest.endswith(b"\n"):
                break
        yield size


def _parse_line(line: str | bytes, defaults: dict[str, Any]) -> Event:
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    for key, value in defaults.items():
        if data.get(key) in (None, ""):
            data[key] = value
    if "session_id" not in data:
        raise ValueError("session_id is missing; add it to the line or pass --session")
    try:
        return Event.model_validate(data)
    except ValueError as exc:
        raise ValueError(validation_message(exc)) from None


def record_stdin(
    store: Store, lines: Iterable[str | bytes | int], defaults: dict[str, Any]
) -> StdinReport:
    """Validate and store NDJSON events line by line; bad lines are reported, good ones kept.

    An int stands for a line too long to read (its size in bytes, from `bounded_lines`).
    """
    report = StdinReport()
    batch: list[tuple[int, Event]] = []
    size = 0

    def flush() -> None:
        nonlocal batch, size
        if not batch:
            return
        result = store.write(events=[event for _, event in batch])
        report.recorded += result.inserted
        report.duplicates += result.duplicates
        for err in result.errors:
            report.errors.append({"line": batch[err.index][0], "error": err.error})
        batch, size = [], 0

    for number, raw in enumerate(lines, start=1):
        if isinstance(raw, int):
            report.errors.append(
                {
                    "line": number,
                    "error": f"the line is {raw:,} bytes; the limit is {MAX_BATCH_BYTES:,} bytes",
                }
            )
            continue
        line = raw.strip()
        if not line:
            continue
        try:
            event = _parse_line(line, defaults)
        except ValueError as exc:
            report.errors.append({"line": number, "error": str(exc)})
            continue
        if batch and (len(batch) >= MAX_BATCH_EVENTS or size + len(line) > _BATCH_BYTES):
            flush()
        batch.append((number, event))
        size += len(line)
    flush()
    report.errors.sort(key=lambda e: e["line"])
    return report


def log(
    ctx: typer.Context,
    type_: Annotated[
        str | None, typer.Argument(metavar="TYPE", help="Event type, e.g. LOG, TOOL_CALL, ERROR.")
    ] = None,
    content: Annotated[str | None, typer.Argument(metavar="CONTENT", help="The text.")] = None,
    session: Annotated[
        str | None,
        typer.Option(
            "--session",
            "-S",
            metavar="SESSION",
            envvar="AGENTLOG_SESSION_ID",
            help="Session id or prefix (env AGENTLOG_SESSION_ID).",
        ),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Tool, model, node or MCP method.")
    ] = None,
    agent: Annotated[
        str | None, typer.Option("--agent", "-a", help="Agent id (env AGENTLOG_AGENT_ID).")
    ] = None,
    metadata: Annotated[
        str | None,
        typer.Option(
            "--metadata", "-m", metavar="JSON", help="Metadata object, e.g. '{\"k\": 1}'."
        ),
    ] = None,
    duration_ms: Annotated[
        float | None, typer.Option("--duration-ms", help="How long the step took.")
    ] = None,
    status: EventStatusOpt = None,
    parent: Annotated[
        str | None, typer.Option("--parent", metavar="EVENT_ID", help="The event this answers.")
    ] = None,
    input_tokens: Annotated[int | None, typer.Option("--input-tokens")] = None,
    output_tokens: Annotated[int | None, typer.Option("--output-tokens")] = None,
    cost_usd: Annotated[float | None, typer.Option("--cost-usd")] = None,
    timestamp: Annotated[
        str | None,
        typer.Option("--timestamp", metavar="WHEN", help="When it happened (default now)."),
    ] = None,
    event_id: Annotated[
        str | None, typer.Option("--id", help="Event id (default: a new UUIDv7).")
    ] = None,
    stdin: Annotated[
        bool, typer.Option("--stdin", help="Read NDJSON events (one object per line) from stdin.")
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Record one event (prints its id), or NDJSON events from stdin with --stdin.

    Example: agentlog log TOOL_CALL '{"q": "deploy"}' --name search_logs --session "$SID"

    Content that starts with "-": options first, then -- before it:
    agentlog log --session "$SID" LOG -- "-3 degrees outside"
    """
    fmt = output_format(json)
    store = get_store(ctx, access="record")
    agent = agent or get_settings(ctx).get("agent_id") or None
    if stdin:
        if type_ is not None or content is not None:
            raise UsageError("with --stdin, give no TYPE or CONTENT: each line is one event")
        defaults: dict[str, Any] = {}
        if session:
            defaults["session_id"] = session_ref(store, session)
        if agent:
            defaults["agent_id"] = agent
        report = record_stdin(store, bounded_lines(sys.stdin.buffer), defaults)
        for err in report.errors:
            message(f"line {err['line']}: {err['error']}")
        if fmt is Format.JSON:
            print_json(report.to_json_dict())
        summary = f"recorded {plural(report.recorded, 'event')}"
        if report.duplicates:
            summary += f" ({report.duplicates:,} already present)"
        if report.errors:
            summary += f"; {plural(len(report.errors), 'line')} failed"
        message(summary)
        if report.errors:
            raise typer.Exit(1)
        return
    if type_ is None:
        raise UsageError("give the event TYPE and CONTENT, or --stdin (see 'agentlog log --help')")
    if not session:
        raise UsageError("which session? pass --session SESSION or set AGENTLOG_SESSION_ID")
    try:
        event_type = EventType.parse(type_)
    except ValueError as exc:
        raise UsageError(f"TYPE: {exc}") from None
    fields: dict[str, Any] = {
        "session_id": session_ref(store, session),
        "type": event_type,
        "content": content,
        "name": name,
        "agent_id": agent,
        "metadata": json_object(metadata, "--metadata") or {},
        "duration_ms": duration_ms,
        "parent_id": parent,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cost_usd": cost_usd,
    }
    if status is not None:
        fields["status"] = status
    elif event_type is EventType.ERROR:
        fields["status"] = EventStatus.ERROR
    if timestamp is not None:
        fields["timestamp"] = parse_time(timestamp, "--timestamp")
    if event_id is not None:
        fields["id"] = event_id
    try:
        event = Event.model_validate(fields)
    except ValueError as exc:
        raise InvalidInput(f"event: {validation_message(exc)}") from None
    result = store.write(events=[event])
    if result.errors:
        raise InvalidInput(f"event: {result.errors[0].error}")
    if fmt is Format.JSON:
        print_json(event)
    else:
        write_line(event.id)


def register(app: typer.Typer) -> None:
    app.command("log")(log)


__all__ = ["StdinReport", "record_stdin", "register", "session_ref"]
