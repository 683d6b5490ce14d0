"""Hand an event to the tools a terminal user already has: the clipboard, `$PAGER`, `$EDITOR`."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path

import orjson
from textual.app import App, SuspendNotSupported

from agentlog.model import Event, format_ts
from agentlog.present import safe_text


def event_document(event: Event) -> str:
    """The event as plain text for a pager or editor: a header, the content, the metadata.

    Control characters are made visible, as everywhere else: `less -R` would act on them.
    """
    lines = [
        f"{event.type.value}  {safe_text(event.name)}",
        f"id        {event.id}",
        f"session   {event.session_id}",
        f"time      {format_ts(event.timestamp)}",
        f"agent     {safe_text(event.agent_id)}",
        f"status    {event.status.value}",
    ]
    if event.duration_ms is not None:
        lines.append(f"duration  {event.duration_ms:,.1f} ms")
    lines += ["", safe_text(event.content)]
    if event.metadata:
        meta = orjson.dumps(event.metadata, option=orjson.OPT_INDENT_2, default=str).decode()
        lines += ["", "metadata", safe_text(meta)]
    return "\n".join(lines) + "\n"


def program(kind: str) -> list[str]:
    """The command to run: $PAGER (else less) or $VISUAL / $EDITOR (else vi), shell-split."""
    if kind == "pager":
        raw = os.environ.get("PAGER") or "less"
    else:
        raw = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    return shlex.split(raw)


def open_in(app: App[None], event: Event, kind: str) -> str | None:
    """Show the event in the user's pager or editor, the TUI suspended meanwhile.

    Returns an error message to show, or None when the program ran.
    """
    folder = Path(tempfile.mkdtemp(prefix="agentlog-"))
    path = folder / f"event-{event.id[:13]}.txt"
    path.write_text(event_document(event), encoding="utf-8")
    command = [*program(kind), str(path)]
    try:
        try:
            with app.suspend():
                subprocess.run(command, check=False)
        except SuspendNotSupported:  # no terminal to give away (tests, a web driver)
            subprocess.run(command, check=False, capture_output=True)
    except FileNotFoundError:
        variable = "PAGER" if kind == "pager" else "EDITOR"
        return f"cannot run {command[0]!r}; set ${variable} to a program that is installed"
    finally:
        path.unlink(missing_ok=True)
        folder.rmdir()
    return None
