"""`agentlog demo`: fill the store with realistic sample sessions and say what to try next."""

from __future__ import annotations

import sys
import time
from typing import Annotated

import typer

from agentlog.cli.context import get_store
from agentlog.cli.options import JsonOpt
from agentlog.cli.output import Format, err, is_terminal, message, output_format, print_json
from agentlog.cli.resolve import resolve_session_id
from agentlog.demo import DemoResult, generate_demo
from agentlog.errors import AgentLogError
from agentlog.storage.base import Store


def _short_id(store: Store, session_id: str) -> str:
    """The shortest of a few readable prefixes that still names only this session."""
    for size in (8, 13, 18, 23):
        try:
            if resolve_session_id(store, session_id[:size]) == session_id:
                return session_id[:size]
        except AgentLogError:
            continue
    return session_id


def _next_steps(store: Store, result: DemoResult) -> str:
    long_id = _short_id(store, result.long_session_id)
    return "\n".join(
        [
            "Try next:",
            "  agentlog sessions list",
            f"  agentlog events {long_id} --type TOOL_CALL",
            "  agentlog search timeout",
            "  agentlog stats",
            "  agentlog agents",
            "  agentlog tui",
        ]
    )


def demo(
    ctx: typer.Context,
    seed: Annotated[
        int, typer.Option("--seed", help="Another seed writes another, separate set of sessions.")
    ] = 0,
    server: Annotated[
        str | None, typer.Option("--server", metavar="URL", help="Write to this server instead.")
    ] = None,
    json: JsonOpt = False,
) -> None:
    """Fill the store with realistic sample sessions (hand-offs, tools, LLM and MCP calls, errors).

    Example: agentlog demo && agentlog sessions list
    """
    fmt = output_format(json)
    store = get_store(ctx, server, access="record")
    interactive = is_terminal(sys.stdout) and is_terminal(sys.stderr)
    started = time.perf_counter()
    if interactive:
        from rich.progress import BarColumn, Progress, TextColumn

        with Progress(
            TextColumn("writing demo events"),
            BarColumn(),
            TextColumn("{task.completed:,} events"),
            console=err(),
            transient=True,
        ) as bar:
            task = bar.add_task("demo", total=None)
            result = generate_demo(
                store,
                seed=seed,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    else:
        result = generate_demo(store, seed=seed)
    elapsed = time.perf_counter() - started
    if fmt is Format.JSON:
        print_json(
            {
                "seed": result.seed,
                "store": store.url,
                "already_present": result.already_present,
                "sessions": result.session_count,
                "events": result.event_count,
                "session_ids": result.sessions,
                "seconds": round(elapsed, 3),
            }
        )
    if result.already_present:
        message(
            f"the demo sessions for seed {seed} are already in {store.url}; "
            f"use --seed {seed + 1} for another set"
        )
    else:
        message(
            f"wrote {result.session_count} demo sessions and {result.event_count:,} events "
            f"to {store.url} in {elapsed:.1f}s"
        )
    if interactive and fmt is Format.TABLE:
        message(_next_steps(store, result))


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
