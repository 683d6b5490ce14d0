"""`agentlog sync`: send what the SDK spooled while the server was unreachable, or show it."""

from __future__ import annotations

from typing import Annotated

import typer

from agentlog.cli.context import get_settings, get_state
from agentlog.cli.options import JsonOpt
from agentlog.cli.output import Format, message, print_json, print_object, warn
from agentlog.errors import UsageError
from agentlog.transfer.progress import Bar


def sync_cmd(
    ctx: typer.Context,
    server: Annotated[
        str | None,
        typer.Option(
            "--server", metavar="URL", help="Server to send to (default: the configured server)."
        ),
    ] = None,
    status: Annotated[
        bool, typer.Option("--status", help="Only show what is waiting; send nothing.")
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Push every spooled (unsynced) session and event to the server, in order.

    Example: agentlog sync --status && agentlog sync
    """
    from agentlog.sdk.spool import (
        SpoolLock,
        default_spool_path,
        open_spool,
        pending,
        refusal,
        sync,
    )

    path = default_spool_path()
    waiting = pending(path)
    if status:
        if json:
            print_json(waiting.to_dict())
            return
        print_object(waiting.to_dict(), Format.TABLE)
        if waiting.empty:
            message("nothing is waiting: everything was sent")
        return
    url = server or get_state(ctx).server or get_settings(ctx).server
    if not url:
        raise UsageError("no server to sync to: give --server URL or set AGENTLOG_SERVER")
    if waiting.empty:
        if json:
            print_json({"events_sent": 0, "sessions_synced": 0, "pending": waiting.to_dict()})
        else:
            message("nothing to sync: the spool is empty")
        return
    from agentlog.storage import open_store

    remote = open_store(url, api_key=get_settings(ctx).api_key)
    spool = open_spool(path)
    try:
        with Bar("syncing", waiting.events) as bar:
            report = sync(spool, remote, lock=SpoolLock(path), progress=bar.advance)
        left = pending(spool)
    finally:
        spool.close()
        remote.close()
    if json:
        print_json({**report.to_dict(), "pending": left.to_dict()})
    else:
        message(
            f"sent {report.events_sent:,} events ({report.inserted:,} new, {report.duplicates:,} "
            f"already there); {report.sessions_synced:,} sessions synced, {left.events:,} events still waiting"
        )
        for rejection in report.rejected[:20]:
            warn(
                f"rejected event {rejection.event_id} of session {rejection.session_id}: {rejection.error}"
            )
        refused = refusal(report.exception) if report.exception is not None else None
        if refused:
            warn(f"stopped: {refused}; the events stay in the spool for the next `agentlog sync`")
        elif report.error:
            warn(f"stopped: {report.error}; run `agentlog sync` again when the server is back")
    if report.error or report.rejected:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("sync")(sync_cmd)
