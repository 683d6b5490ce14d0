"""`agentlog import`: read an export file back into the store, with a report of what happened."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from agentlog.cli.context import get_store
from agentlog.cli.options import JsonOpt
from agentlog.cli.output import Column, message, print_json, print_table, warn
from agentlog.errors import UsageError
from agentlog.transfer.importer import ImportReport
from agentlog.transfer.progress import Bar

SHOWN = 20  # problems listed on the terminal; --rejects / --json carry all that were kept


def import_cmd(
    ctx: typer.Context,
    file: Annotated[
        str | None,
        typer.Argument(
            metavar="FILE",
            help="Export file (.ndjson, .json, .csv, optionally .gz) or '-' for stdin; "
            "with --from claude-code|codex|gemini, the tool's sessions directory or one file "
            "(default: ~/.claude/projects, ~/.codex/sessions, ~/.gemini/tmp).",
        ),
    ] = None,
    fmt: Annotated[
        Literal["auto", "ndjson", "json", "csv"],
        typer.Option("--format", "-f", help="File format; auto tells from the name and content."),
    ] = "auto",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate and report only; write nothing.")
    ] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Stop at the first bad record and import nothing.")
    ] = False,
    overwrite: Annotated[
        bool,
        typer.Option("--overwrite", help="Replace records whose id exists with different content."),
    ] = False,
    rejects: Annotated[
        str | None,
        typer.Option(
            "--rejects",
            metavar="FILE",
            help="Write rejected records here as NDJSON, to fix and import again.",
        ),
    ] = None,
    source: Annotated[
        Literal["agentlog", "langfuse", "phoenix", "otlp", "claude-code", "codex", "gemini"],
        typer.Option(
            "--from",
            help="Whose export it is: AgentLog's own, a Langfuse trace/observation export, "
            "a Phoenix span export (JSON or JSON lines), OTLP JSON lines (as `export --format "
            "otlp` writes; mapped as `otel receive` maps spans), or a coding agent's "
            "transcripts (claude-code, codex, gemini).",
        ),
    ] = "agentlog",
    watch: Annotated[
        bool,
        typer.Option(
            "--watch",
            help="Coding agents: keep importing what is appended until Ctrl-C "
            "(without it, one incremental pass, fit for cron).",
        ),
    ] = False,
    no_redact: Annotated[
        bool,
        typer.Option(
            "--no-redact",
            help="Coding agents: keep secrets (API keys, tokens, private keys, .env values) "
            "as they are; by default they are masked before anything is written.",
        ),
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Import sessions and events from an export file (idempotent: ids already there are skipped).

    Example: agentlog import backup.ndjson.gz --rejects rejects.ndjson
    Example: agentlog import --from langfuse traces.json
    Example: agentlog import --from claude-code --watch
    """
    from agentlog.transfer.importer import import_file

    if source in CODING:
        if fmt != "auto" or overwrite or strict or rejects:
            raise UsageError(
                f"--from {source} reads the tool's own transcripts; "
                "drop --format / --overwrite / --strict / --rejects"
            )
        coding_import(
            ctx, source, file, watch=watch, redact=not no_redact, dry_run=dry_run, json=json
        )
        return
    if watch or no_redact:
        raise UsageError(
            "--watch and --no-redact are for coding agents (--from claude-code|codex|gemini)"
        )
    if file is None:
        raise UsageError("which file? e.g. agentlog import backup.ndjson.gz ('-' reads stdin)")
    if rejects and _same_file(rejects, file):
        # The rejects file is written while the input is read: the input would be cut short.
        raise UsageError(f"--rejects {rejects} is the file being imported; give another path")
    if source != "agentlog":
        if fmt == "csv" or overwrite:
            raise UsageError(
                f"--from {source} reads JSON or JSON lines and never overwrites; "
                "drop --format csv / --overwrite"
            )
        from agentlog.otel.peer_import import import_peer

        report = import_peer(
            get_store(ctx, access="record"),
            file,
            source,
            dry_run=dry_run,
            strict=strict,
            rejects_path=rejects,
        )
        if json:
            print_json(report.to_dict())
        else:
            show_report(report, rejects)
        if not report.ok:
            raise typer.Exit(1)
        return
    store = get_store(ctx, access="record")
    with Bar("importing", unit="bytes") as bar:
        report = import_file(
            store,
            file,
            fmt=fmt,
            dry_run=dry_run,
            strict=strict,
            overwrite=overwrite,
            rejects_path=rejects,
            on_progress=lambda done, total: bar.update(done, total),
        )
    if json:
        print_json(report.to_dict())
    else:
        show_report(report, rejects)
    if not report.ok:
        raise typer.Exit(1)


CODING = ("claude-code", "codex", "gemini")


def coding_import(
    ctx: typer.Context,
    source: str,
    path: str | None,
    *,
    watch: bool,
    redact: bool,
    dry_run: bool,
    json: bool,
) -> None:
    """One incremental pass over a coding agent's transcripts, or (watch) one per change."""
    from agentlog.integrations.coding.importer import CodingImporter

    importer = CodingImporter(
        get_store(ctx, access="record"), source, path, redact=redact, dry_run=dry_run
    )
    if not watch:
        report = importer.run_once()
        if json:
            print_json(report.to_dict())
        else:
            show_report(report, None)
        if not report.ok:
            raise typer.Exit(1)
        return
    message(f"watching {importer.root} (Ctrl-C to stop)")

    def on_pass(report: ImportReport) -> None:
        if json:
            print_json(report.to_dict())
        elif report.events.imported or report.rejected:
            message(
                f"{source}: {report.events.imported:,} new events, "
                f"{report.sessions.imported:,} new sessions, {report.rejected:,} rejected"
            )
            for problem in report.rejects[:SHOWN]:
                message(f"rejected {problem.reason}")

    try:
        importer.watch(on_pass)
    except KeyboardInterrupt:
        message("stopped")


def _same_file(a: str, b: str) -> bool:
    """Whether two paths name one file (the same path, a link or another spelling of it)."""
    import os

    if b == "-":
        return False
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet): compare what they would be
        return os.path.realpath(a) == os.path.realpath(b)


def show_report(report: ImportReport, rejects_path: str | None) -> None:
    """The summary table (stdout) and the first problems (stderr)."""
    verb = "would import" if report.dry_run else "imported"
    rows = [("sessions", report.sessions), ("events", report.events)]
    columns = [
        Column("", lambda r: r[0], style="bold"),
        Column(verb.upper(), lambda r: r[1].imported, justify="right"),
        Column("DUPLICATES", lambda r: r[1].duplicates, justify="right"),
        Column("CONFLICTS", lambda r: r[1].conflicts, justify="right"),
        Column("OVERWRITTEN", lambda r: r[1].overwritten, justify="right"),
        Column("REJECTED", lambda r: r[1].rejected, justify="right"),
    ]
    print_table(rows, columns)
    for problem in report.rejects[:SHOWN]:
        message(f"rejected {problem.reason}")
    for problem in report.conflicts[:SHOWN]:
        message(f"conflict at {problem.where}: {problem.reason}")
    hidden = max(0, report.rejected - SHOWN) + max(0, report.conflicted - SHOWN)
    if hidden:
        message(
            f"… and {hidden:,} more"
            + (
                f" (all rejects are in {rejects_path})"
                if rejects_path
                else " (add --rejects FILE to keep every rejected record)"
            )
        )
    if report.aborted:
        warn(f"stopped: {report.aborted}")
    if report.rolled_back:
        warn("strict mode: the import was rolled back; nothing was imported")
    elif report.strict and report.rejected:
        warn("strict mode: stopped at the first bad record; nothing was imported")
    if report.dry_run:
        message("dry run: nothing was written")


def register(app: typer.Typer) -> None:
    app.command("import")(import_cmd)
