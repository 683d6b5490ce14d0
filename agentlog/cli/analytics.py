"""`agentlog stats [SESSION]` and `agentlog agents`: the performance profile and who did what."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from agentlog import present
from agentlog.cli.context import get_store
from agentlog.cli.options import (
    EventFilters,
    JsonOpt,
    NdjsonOpt,
    SinceOpt,
    event_filter_options,
)
from agentlog.cli.output import (
    Column,
    Format,
    message,
    out,
    output_format,
    print_json,
    print_ndjson,
    print_rows,
    print_table,
)
from agentlog.cli.render import SEARCH_COLUMNS
from agentlog.model import AgentSummary, StatsReport
from agentlog.present import duration

DURATION_COLUMNS = [
    Column("NAME", lambda d: d.name, max_width=40),
    Column("CALLS", lambda d: d.count, justify="right"),
    Column("P50", lambda d: duration(d.p50_ms), justify="right"),
    Column("P95", lambda d: duration(d.p95_ms), justify="right"),
    Column("MAX", lambda d: duration(d.max_ms), justify="right"),
    Column("TOTAL", lambda d: duration(d.total_ms), justify="right"),
    Column("ERRORS", lambda d: d.errors or "", justify="right"),
]
USAGE_COLUMNS = [
    Column("MODEL", lambda kv: kv[0], max_width=40),
    Column("CALLS", lambda kv: kv[1].calls, justify="right"),
    Column("INPUT", lambda kv: kv[1].input_tokens, justify="right"),
    Column("OUTPUT", lambda kv: kv[1].output_tokens, justify="right"),
    Column("COST", lambda kv: f"${kv[1].cost_usd:.4f}", justify="right"),
]
COUNT_COLUMN = Column("EVENTS", lambda kv: kv[1], justify="right")
SLOWEST_COLUMNS = [
    Column("DURATION", lambda e: duration(e.duration_ms), justify="right"),
    *SEARCH_COLUMNS[:5],
]
AGENT_COLUMNS = [
    Column("AGENT", lambda a: a.agent_id, style="bold"),
    Column("SESSIONS", lambda a: a.sessions, justify="right"),
    Column("EVENTS", lambda a: a.events, justify="right"),
    Column("ERRORS", lambda a: a.errors, justify="right"),
    Column("ERROR RATE", lambda a: f"{a.error_rate:.1%}", justify="right"),
    Column("FIRST SEEN", lambda a: a.first_seen),
    Column("LAST SEEN", lambda a: a.last_seen),
]


def report_dict(report: StatsReport) -> dict[str, Any]:
    return report.to_json_dict() | {"error_rate": report.error_rate}


def agent_dict(agent: AgentSummary) -> dict[str, Any]:
    return agent.to_json_dict()  # error_rate included: a computed field of the model


def _counted(n: int, word: str) -> str:
    """present.plural with the number in bold: '[bold]1[/] session'."""
    number, noun = present.plural(n, word).split(" ", 1)
    return f"[bold]{number}[/] {noun}"


def print_report(report: StatsReport) -> None:
    tokens = present.tokens(
        report.input_tokens,
        report.output_tokens,
        report.cache_read_tokens,
        report.cache_creation_tokens,
        report.reasoning_tokens,
    )
    out().print(
        f"{_counted(report.sessions, 'session')}  {_counted(report.events, 'event')}  "
        f"{_counted(report.errors, 'error')} ({report.error_rate:.1%})\n"
        f"tokens {tokens}  cost [bold]${report.cost_usd:.4f}[/]",
        highlight=False,
    )
    by_type = sorted(report.by_type.items(), key=lambda kv: -kv[1])
    by_agent = sorted(report.by_agent.items(), key=lambda kv: -kv[1])
    sections: list[tuple[str, list, list[Column]]] = [
        ("Events by type", by_type, [Column("TYPE", lambda kv: kv[0]), COUNT_COLUMN]),
        ("Events by agent", by_agent, [Column("AGENT", lambda kv: kv[0]), COUNT_COLUMN]),
        ("Tools", report.tools, DURATION_COLUMNS),
        ("Models", report.models, DURATION_COLUMNS),
        ("Tokens and cost by model", list(report.by_model.items()), USAGE_COLUMNS),
        ("Slowest steps", report.slowest, SLOWEST_COLUMNS),
    ]
    for title, rows, columns in sections:
        if rows:
            out().print()
            print_table(rows, columns, title=title)


@event_filter_options()
def stats(
    ctx: typer.Context,
    session: Annotated[
        str | None,
        typer.Argument(
            metavar="[SESSION]", help="One session (id, prefix or latest); default all."
        ),
    ] = None,
    filters: EventFilters = EventFilters(),
    json: JsonOpt = False,
) -> None:
    """Performance profile: events by type and agent, p50/p95/max per tool and model, tokens, cost.

    Example: agentlog stats latest --json
    """
    fmt = output_format(json)
    store = get_store(ctx)
    query = filters.query(store, session=session)
    report = store.stats(query)
    if fmt is Format.JSON:
        print_json(report_dict(report))
    elif report.events == 0:
        message("no events match")
    else:
        print_report(report)


def agents(
    ctx: typer.Context,
    since: SinceOpt = None,
    json: JsonOpt = False,
    ndjson: NdjsonOpt = False,
) -> None:
    """Every agent with its sessions, events, errors, error rate and when it was last seen.

    Example: agentlog agents --since 7d
    """
    fmt = output_format(json, ndjson)
    rows = get_store(ctx).agents(since=since)
    if fmt is Format.NDJSON:
        print_ndjson(agent_dict(a) for a in rows)
    elif fmt is Format.JSON:
        print_json({"items": [agent_dict(a) for a in rows], "next_cursor": None})
    else:
        print_rows(rows, AGENT_COLUMNS, fmt, empty="no agents yet")


def register(app: typer.Typer) -> None:
    app.command("stats")(stats)
    app.command("agents")(agents)
