"""`agentlog hook claude-code`: the command a Claude Code hooks configuration calls."""

from __future__ import annotations

import sys
from typing import Annotated, Literal

import typer

from agentlog.cli.context import get_store
from agentlog.cli.output import warn

MAX_INPUT = 64 * 1024 * 1024  # a hook input holds one tool's input or output


def hook_cmd(
    ctx: typer.Context,
    tool: Annotated[
        Literal["claude-code"],
        typer.Argument(metavar="TOOL", help="Which coding agent is calling: claude-code."),
    ],
    no_redact: Annotated[
        bool,
        typer.Option("--no-redact", help="Keep secrets as they are (masked by default)."),
    ] = False,
) -> None:
    """Record a Claude Code hook event read from stdin (tool calls now, the transcript at stops).

    Never stops the agent: a problem is one warning on stderr and exit code 0.
    See README "Coding agents" for the hooks configuration.

    Example: echo '{"hook_event_name": "Stop", ...}' | agentlog hook claude-code
    """
    import orjson

    from agentlog.errors import AgentLogError
    from agentlog.integrations.coding.hook import record_hook

    try:
        payload = orjson.loads(sys.stdin.buffer.read(MAX_INPUT))
        record_hook(get_store(ctx, access="record"), payload, redact=not no_redact)
    except (orjson.JSONDecodeError, ValueError, AgentLogError, OSError) as exc:
        warn(f"agentlog hook {tool}: not recorded: {str(exc).splitlines()[0][:300]}")


def register(app: typer.Typer) -> None:
    app.command("hook")(hook_cmd)
