"""`agentlog tui [FILE] [--server URL]`: open the Textual explorer on a store, a server or an export file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from agentlog.cli.context import get_store, stale_after
from agentlog.cli.output import is_terminal
from agentlog.errors import UsageError

# tui has no --format: it takes the format from the file name (or the first bytes).
TUI_HINT = (
    "tui opens an AgentLog export and takes its format from the extension: .ndjson, "
    ".json or .csv, optionally .gz; make one with `agentlog export SESSION -o run.ndjson`"
)


def tui(
    ctx: typer.Context,
    file: Annotated[
        Path | None,
        typer.Argument(
            metavar="FILE",
            help="An export (NDJSON, JSON or CSV, optionally .gz) to browse read-only, without importing it.",
        ),
    ] = None,
    server: Annotated[
        str | None,
        typer.Option("--server", metavar="URL", help="Browse this AgentLog server instead."),
    ] = None,
    session: Annotated[
        str | None,
        typer.Option(
            "--session",
            "-s",
            metavar="ID",
            help="Open this session (id, prefix or 'latest') first.",
        ),
    ] = None,
) -> None:
    """Explore sessions, timelines, search, compare and metrics in the terminal (? lists the keys).

    Example: agentlog demo && agentlog tui
    """
    from agentlog.cli.resolve import resolve_session_id
    from agentlog.tui.app import make_app

    if file is not None and server is not None:
        raise UsageError("give either FILE or --server, not both")
    if not has_terminal():
        raise UsageError(
            "agentlog tui needs a terminal (stdin and stdout); for scripts and pipes use "
            "`agentlog sessions list`, `agentlog events SESSION` or `agentlog tail` (--json)"
        )
    if file is not None:
        if not file.exists():
            raise UsageError(f"{file} does not exist; give the path of an export file")
        from agentlog.transfer import open_file_as_store

        store = open_file_as_store(file, advice=TUI_HINT)
        source = f"{file} (read-only)"
    else:
        store = get_store(ctx, server, access="follow")
        source = store.url
    try:
        session_id = resolve_session_id(store, session) if session else None
        make_app(store, source=source, session_id=session_id, stale_after=stale_after(ctx)).run()
    finally:
        if file is not None:
            store.close()


def has_terminal() -> bool:
    """Both ends a full-screen app needs: keys in, a screen out."""
    return is_terminal(sys.stdin) and is_terminal(sys.stdout)


def register(app: typer.Typer) -> None:
    app.command("tui")(tui)
