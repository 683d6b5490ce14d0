"""`agentlog migrate --to URL`: move the local store to a server or another store, resumably."""

from __future__ import annotations

import os
import tempfile
from typing import Annotated

import typer

from agentlog.cli.context import get_state, missing_file
from agentlog.cli.options import (
    AgentOpt,
    JsonOpt,
    SessionStatusOpt,
    SinceOpt,
    TagOpt,
    UntilOpt,
    agents,
    tags,
)
from agentlog.cli.output import Format, message, print_json, print_object, warn
from agentlog.errors import UsageError
from agentlog.present import duration
from agentlog.transfer.migrate import MigrateReport
from agentlog.transfer.progress import Bar

SHOWN = 20


def migrate_cmd(
    ctx: typer.Context,
    to: Annotated[
        str,
        typer.Option(
            "--to",
            metavar="URL",
            help="Target: https://server, postgresql://…, or a SQLite file path.",
        ),
    ],
    api_key: Annotated[
        str | None, typer.Option("--api-key", metavar="KEY", help="API key for a server target.")
    ] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    agent: AgentOpt = None,
    tag: TagOpt = None,
    status: SessionStatusOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would move; send nothing.")
    ] = False,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify", help="Only compare both sides (counts and checksums); send nothing."
        ),
    ] = False,
    no_verify: Annotated[
        bool, typer.Option("--no-verify", help="Skip the comparison at the end of a migration.")
    ] = False,
    skip_existing: Annotated[
        bool,
        typer.Option(
            "--skip-existing",
            help="Leave sessions the target already holds differently as they are.",
        ),
    ] = False,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            help="Replace sessions the target holds differently with the local copy.",
        ),
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Copy every session and event of the local store to another one; re-run to resume.

    The source is the local store even when AGENTLOG_SERVER is set (pass --server
    to copy from a server instead). Filters choose sessions; every event of a chosen session moves.

    Example: agentlog migrate --to https://agentlog.example.com --api-key $KEY
    """
    from agentlog.storage import open_store
    from agentlog.transfer.export import Selection
    from agentlog.transfer.migrate import Migration, verify_only

    if verify and dry_run:
        raise UsageError("choose one of --verify and --dry-run")
    if skip_existing and overwrite:
        raise UsageError("choose one of --skip-existing and --overwrite")
    existing = "skip" if skip_existing else "overwrite" if overwrite else "check"
    state = get_state(ctx)
    # The source is the local store, even with AGENTLOG_SERVER set; --server makes it a server.
    source = state.store() if state.server else state.local_store(access="maintain")
    key = api_key or (state.settings().api_key if to.startswith(("http://", "https://")) else None)
    preview_dir = None
    missing = missing_file(to)
    if missing is not None and verify:
        raise UsageError(f"there is no store at {missing}; nothing to verify")
    if missing is not None and dry_run:
        # A preview changes nothing: an empty stand-in, not a new file (and folders) at --to.
        preview_dir = tempfile.TemporaryDirectory(prefix="agentlog-preview-")
        target = open_store(os.path.join(preview_dir.name, "preview.db"))
    else:
        target = open_store(to, api_key=key)
    try:
        sel = Selection(
            all=True, since=since, until=until, agents=agents(agent), tags=tags(tag), status=status
        )
        if len(sel.agents or ()) > 1:
            raise UsageError("migrate takes one --agent (it chooses sessions)")
        if verify:
            report = verify_only(source, target, sel)
        else:
            migration = Migration(source, target, selection=sel, existing=existing)
            try:
                if dry_run:
                    report = migration.preview()
                else:
                    with Bar("migrating", migration.total_events()) as bar:
                        migration.on_progress = bar.advance
                        report = migration.run(verify=False)
                    if not no_verify:
                        with Bar("verifying", report.sessions, unit="sessions") as bar:
                            report = migration.verify(on_checked=bar.update)
            finally:
                migration.close()
    finally:
        target.close()
        if preview_dir is not None:
            preview_dir.cleanup()
    if json:
        print_json(report.to_dict())
    else:
        show_report(report, verify_only=verify, verified=not no_verify and not dry_run)
    if not report.ok:
        raise typer.Exit(1)


def show_report(report: MigrateReport, *, verify_only: bool, verified: bool) -> None:
    rows: list[tuple[str, object]] = [
        ("target", report.target),
        ("sessions selected", report.sessions),
    ]
    if verify_only:
        rows += [
            ("sessions matching", report.verified),
            ("sessions differing", len(report.mismatches)),
        ]
    elif report.dry_run:
        rows += [
            ("sessions to send", report.sessions_copied),
            ("sessions already there", report.sessions_existing),
            ("of which with different fields", report.session_conflicts),
            ("events in selected sessions", report.events_total),
            ("events to send", report.events_sent),
        ]
    else:
        rows += [
            ("sessions sent", report.sessions_copied),
            ("sessions already migrated", report.sessions_skipped),
            ("sessions left as the target had them", report.sessions_left),
            ("sessions overwritten on the target", report.sessions_overwritten),
            ("events sent", report.events_sent),
            ("events new on the target", report.events_inserted),
            ("events already there", report.events_duplicates),
            ("events rejected", report.events_rejected),
            ("time", duration(report.seconds * 1000)),
            ("events/s", round(report.rate)),
        ]
        if verified:
            rows += [
                ("sessions verified", report.verified),
                ("sessions differing", len(report.mismatches)),
            ]
            if report.repaired:
                rows.append(("sessions re-sent after a mismatch", report.repaired))
    if report.sessions_other_teams:
        rows.append(("sessions of other teams, left out", report.sessions_other_teams))
    print_object(None, Format.TABLE, fields=rows)
    for item in report.rejected[:SHOWN]:
        warn(f"rejected event {item['event_id']} of session {item['session_id']}: {item['error']}")
    for mismatch in report.mismatches[:SHOWN]:
        warn(f"session {mismatch.session_id} differs: {mismatch.reason}")
    if report.dry_run:
        message(
            "dry run: nothing was sent. Events the target would refuse show only when sending; "
            "a re-run after fixing them resumes where it stopped"
        )
    elif report.mismatches and not report.events_rejected:
        message(
            "the target holds its own copy of these sessions: add --skip-existing to keep "
            "its copy, or --overwrite to replace it with yours"
        )
    elif report.events_rejected or report.mismatches:
        message(
            "fix the problems above and run the same command again: it resumes and never doubles events"
        )


def register(app: typer.Typer) -> None:
    app.command("migrate")(migrate_cmd)
