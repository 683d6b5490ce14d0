"""`agentlog share`: one session and its sub-agent sessions as a file a colleague can open."""

from __future__ import annotations

from typing import Annotated

import typer

from agentlog.cli.context import get_state, get_store
from agentlog.cli.options import split_values
from agentlog.cli.output import message
from agentlog.cli.resolve import resolve_session_id
from agentlog.present import plural


def share_cmd(
    ctx: typer.Context,
    session: Annotated[
        str, typer.Argument(metavar="SESSION", help="Session id, unique prefix, or 'latest'.")
    ],
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Where to write (default agentlog-<id>.ndjson.gz; '-' = stdout).",
        ),
    ] = None,
    redact: Annotated[
        list[str] | None,
        typer.Option(
            "--redact",
            metavar="REGEX",
            help="Also mask text matching REGEX (repeatable; presets such as @email may be "
            "comma-separated; @secrets is always on).",
        ),
    ] = None,
    redact_key: Annotated[
        list[str] | None,
        typer.Option(
            "--redact-key",
            metavar="KEY",
            help="Also mask the value of this metadata key at any depth (repeatable or "
            "comma-separated; the @secrets keys are always masked).",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite FILE if it exists.")] = False,
    link: Annotated[
        bool,
        typer.Option(
            "--link", help="Print the session's web link on the server instead of writing a file."
        ),
    ] = False,
) -> None:
    """Write a session and its child sessions to one NDJSON.gz file, secrets masked.

    The file is for someone else, so the @secrets preset (API keys, tokens, private keys,
    password=... values, and credential metadata keys) is always masked; --redact and
    --redact-key mask more. For an unmasked copy of your own, use `agentlog export`.

    Example: agentlog share latest --redact @email --redact-key customer_id -o bug-report.ndjson.gz
    """
    from agentlog.transfer.redact import Redactor
    from agentlog.transfer.share import share_session

    if link:
        from agentlog.errors import UsageError

        state = get_state(ctx)
        if not state.is_remote():
            raise UsageError("--link needs a server: pass --server URL (or set AGENTLOG_SERVER)")
        session_id = resolve_session_id(get_store(ctx), session)  # 404s like any read
        typer.echo(f"{state.store_url().rstrip('/')}/s/{session_id}")
        return
    store = get_store(ctx)
    session_id = resolve_session_id(store, session)
    # Always @secrets: a shared file leaves your machine, and forgetting a flag must not leak.
    # Keys split on commas as --tag does; a REGEX only when it is a list of @presets.
    redactor = Redactor(["@secrets", *(redact or ())], ["@secrets", *split_values(redact_key)])
    stats = share_session(store, session_id, output, redactor=redactor, force=force)
    if stats.path != "-":
        masked = f", {redactor.masked:,} values redacted" if redactor.active else ""
        message(
            f"wrote {stats.path}: {plural(stats.sessions, 'session')}, {plural(stats.events, 'event')}{masked}. "
            f"Open it with `agentlog tui {stats.path}` or `agentlog import {stats.path}`"
        )


def register(app: typer.Typer) -> None:
    app.command("share")(share_cmd)
