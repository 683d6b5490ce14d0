"""`agentlog mcp …`: record an MCP server's traffic (`proxy`) and answer assistants from the store (`serve`)."""

from __future__ import annotations

from typing import Annotated

import typer

from agentlog.cli.context import get_state

app = typer.Typer(
    help="Record MCP traffic through a proxy, or serve AgentLog to coding assistants over MCP.",
    no_args_is_help=True,
)


@app.command(
    "proxy",
    context_settings={"allow_interspersed_args": False},
)
def proxy(
    ctx: typer.Context,
    command: Annotated[
        list[str] | None, typer.Argument(help="The MCP server's command line, after `--`.")
    ] = None,
    title: Annotated[str | None, typer.Option("--title", help="Session title.")] = None,
    agent: Annotated[
        str | None,
        typer.Option("--agent", help="Agent id (default: the client's name from the handshake)."),
    ] = None,
    upstream: Annotated[
        str | None,
        typer.Option(
            "--upstream", help="A remote server's Streamable HTTP URL (instead of a command)."
        ),
    ] = None,
    port: Annotated[
        int, typer.Option("--port", help="With --upstream: the local port (0: any free one).")
    ] = 8333,
    host: Annotated[
        str, typer.Option("--host", help="With --upstream: the local address to listen on.")
    ] = "127.0.0.1",
    parent: Annotated[
        str | None,
        typer.Option(
            "--parent",
            metavar="SESSION",
            envvar="AGENTLOG_PARENT_SESSION_ID",
            help="Record as a child session of SESSION, e.g. the agent run that started the "
            "server (env AGENTLOG_PARENT_SESSION_ID).",
        ),
    ] = None,
) -> None:
    """Run an MCP server behind a recording proxy; the client sees the server's exact bytes.

    Example: agentlog mcp proxy -- uvx mcp-server-time
    Example: agentlog mcp proxy --upstream https://host/mcp --port 8333
    """
    from agentlog.errors import UsageError
    from agentlog.sdk.client import AgentLog

    if upstream and command:
        raise UsageError("give either --upstream URL or a command after `--`, not both")
    if upstream:
        from agentlog.mcp.http_proxy import check_upstream

        check_upstream(upstream)
    parent_session_id = parent_id(parent) if parent else None
    state = get_state(ctx)
    log = AgentLog(db=state.db, server=state.server, api_key=state.api_key, integration="mcp-proxy")
    code = 0
    try:
        if upstream:
            from agentlog.mcp.http_proxy import run_http

            run_http(
                upstream,
                host=host,
                port=port,
                title=title,
                agent=agent,
                log=log,
                store=state.store(),
                parent_session_id=parent_session_id,
            )
        else:
            from agentlog.mcp.proxy import run_stdio

            code = run_stdio(
                command or [],
                title=title,
                agent=agent,
                log=log,
                store=state.store(),
                parent_session_id=parent_session_id,
            )
    finally:
        log.close()
    if code:
        from agentlog.mcp.proxy import exit_like

        exit_like(code)


def parent_id(value: str) -> str:
    """A full session id for --parent, or one clear line (a prefix cannot be resolved here)."""
    from agentlog.errors import UsageError
    from agentlog.model import normalize_id

    try:
        return normalize_id(value, "--parent")
    except ValueError:
        raise UsageError(
            f"--parent {value!r} is not a session id; give the full id of the session "
            "that started this server (AGENTLOG_PARENT_SESSION_ID)"
        ) from None


@app.command("serve")
def serve(ctx: typer.Context) -> None:
    """Answer a coding assistant from the store over MCP (stdio): sessions, events, search, stats.

    Example: agentlog mcp serve --server https://agentlog.example.com
    """
    from agentlog.mcp.serve import run_server

    state = get_state(ctx)
    run_server(state.store(read_only=not state.is_remote()))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="mcp")
