"""`agentlog export`: sessions and events to an NDJSON, JSON or CSV file (gzip by name)."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from agentlog.cli.context import get_store
from agentlog.cli.options import (
    AgentOpt,
    SearchOpt,
    SessionStatusOpt,
    SinceOpt,
    TagOpt,
    TypeOpt,
    UntilOpt,
    agents,
    event_types,
    tags,
)
from agentlog.cli.output import message
from agentlog.cli.resolve import resolve_session_id
from agentlog.errors import UsageError
from agentlog.present import plural
from agentlog.transfer.fileio import format_from_name, is_stdio, refuse_overwrite
from agentlog.transfer.progress import Bar

FormatOpt = Annotated[
    Literal["ndjson", "json", "csv", "otlp"] | None,
    typer.Option(
        "--format",
        "-f",
        help="ndjson (default, lossless and streamable), json, csv or otlp (OTLP JSON lines); "
        "default from the -o name.",
    ),
]
OutputOpt = Annotated[
    str,
    typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        help="Write here ('-' = stdout); gzip when it ends in .gz.",
    ),
]


def export_cmd(
    ctx: typer.Context,
    sessions: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[SESSION]...", help="Session ids or prefixes (or use --all / filters)."
        ),
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every session.")] = False,
    since: SinceOpt = None,
    until: UntilOpt = None,
    type_: TypeOpt = None,
    agent: AgentOpt = None,
    tag: TagOpt = None,
    status: SessionStatusOpt = None,
    search: SearchOpt = None,
    fmt: FormatOpt = None,
    output: OutputOpt = "-",
    force: Annotated[bool, typer.Option("--force", help="Overwrite FILE if it exists.")] = False,
) -> None:
    """Export sessions and their events (streamed, constant memory).

    Example: agentlog export --all --format ndjson -o backup.ndjson.gz
    """
    from agentlog.transfer.export import Selection, estimate_events, export

    store = get_store(ctx)
    ids = tuple(resolve_session_id(store, s) for s in sessions or ())
    sel = Selection(
        session_ids=ids,
        all=all_,
        since=since,
        until=until,
        types=event_types(type_),
        agents=agents(agent),
        tags=tags(tag),
        status=status,
        text=search,
    )
    sel.check()
    chosen = fmt or format_from_name(output) or _no_suffix(output)
    refuse_overwrite(output, force=force)
    if chosen == "otlp":
        from agentlog.otel.files import export_otlp

        with Bar("exporting", estimate_events(store, sel)) as bar:
            sent = export_otlp(store, sel, output, on_progress=bar.update)
        if not is_stdio(output):
            message(
                f"exported {plural(sent.sessions, 'session')}, {plural(sent.events, 'event')} to "
                f"{output} (otlp)"
            )
        return
    with Bar("exporting", estimate_events(store, sel)) as bar:
        stats = export(store, sel, chosen, output, on_progress=bar.update)
    if not is_stdio(output):
        message(
            f"exported {plural(stats.sessions, 'session')}, {plural(stats.events, 'event')} "
            f"to {output} ({chosen})"
        )


def _no_suffix(output: str | None) -> str:
    """ndjson for a name that says nothing (`backup`, stdout); an unknown suffix is a mistake."""
    from pathlib import PurePath

    suffix = (
        "" if output is None or is_stdio(output) else PurePath(output.removesuffix(".gz")).suffix
    )
    if suffix:
        raise UsageError(
            f"cannot tell the format of {output!r} from {suffix!r}; name it .ndjson, .json "
            "or .csv (optionally .gz), or give --format ndjson|json|csv|otlp"
        )
    return "ndjson"


def register(app: typer.Typer) -> None:
    app.command("export")(export_cmd)
