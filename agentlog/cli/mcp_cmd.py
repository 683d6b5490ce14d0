"""`agentlog mcp …`: record an MCP server's traffic (`proxy`), replay it (`replay`), serve the store (`serve`)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import typer

from agentlog.cli.context import CLIState, get_state
from agentlog.cli.options import JsonOpt
from agentlog.cli.output import message, print_json, write_line
from agentlog.model import Event, Session, WriteResult

if TYPE_CHECKING:
    from agentlog.storage.base import Store

app = typer.Typer(
    help="Record MCP traffic through a proxy, replay a recording, or serve AgentLog to coding "
    "assistants over MCP.",
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
        int,
        typer.Option(
            "--port", min=0, max=65535, help="With --upstream: the local port (0: any free one)."
        ),
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
    store = _store_or_none(state)
    if store is None and not state.is_remote():
        # A store that cannot be opened here would fail every batch the SDK tried, with more
        # lines on stderr: the warning said the proxy relays unrecorded, and it does.
        log = AgentLog(store=_Unrecorded(), integration="mcp-proxy")
    else:  # a server's SDK spools while it is away: record as usual
        log = AgentLog(
            db=state.db, server=state.server, api_key=state.api_key, integration="mcp-proxy"
        )
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
                store=store,
                parent_session_id=parent_session_id,
            )
        else:
            from agentlog.mcp.proxy import run_stdio

            code = run_stdio(
                command or [],
                title=title,
                agent=agent,
                log=log,
                store=store,
                parent_session_id=parent_session_id,
            )
    finally:
        log.close()
    if code:
        from agentlog.mcp.proxy import exit_like

        exit_like(code)


def _store_or_none(state: CLIState) -> Store | None:
    """The store the proxy reads the server's last tool list from, or None, with one warning,
    when it cannot be opened: the proxy relays whatever happens to its recording (an MCP
    client whose server exits loses its tools, and sees only "connection closed")."""
    from agentlog.errors import AgentLogError

    try:
        return state.store(access="record")
    except AgentLogError as exc:
        unrecorded = "" if state.is_remote() else ", unrecorded"
        message(
            f"agentlog: warning: {exc}; the server runs behind the proxy all the same{unrecorded}"
        )
        return None


class _Unrecorded:
    """The proxy's store when its own cannot be opened: takes every batch and keeps nothing."""

    url = "nowhere (the store could not be opened)"

    def write(self, sessions: Sequence[Session] = (), events: Sequence[Event] = ()) -> WriteResult:
        return WriteResult()

    def close(self) -> None:
        pass


@app.command("replay")
def replay(
    ctx: typer.Context,
    session: Annotated[
        str,
        typer.Argument(metavar="SESSION", help="The recorded MCP session (id, prefix or latest)."),
    ],
    command: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="COMMAND", help="With --against: the real server's command line, after `--`."
        ),
    ] = None,
    against: Annotated[
        bool,
        typer.Option(
            "--against",
            help="Send the recorded requests to the server started by the command after `--` "
            "and report every answer that differs (exit 1 when one does).",
        ),
    ] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", help="With --against: seconds to wait for each answer.")
    ] = 30.0,
    json: JsonOpt = False,
) -> None:
    """Answer an MCP client from a recorded session (stdio), so an agent re-runs with its tools
    frozen; or, with --against, re-ask a real server and report what changed.

    Example: agentlog mcp replay 019ca57a   (as the server in a client's configuration)
    Example: agentlog mcp replay latest --against -- uvx mcp-server-time
    """
    from agentlog.cli.resolve import resolve_session_id
    from agentlog.errors import UsageError
    from agentlog.mcp.replay import ReplayServer, recorded_exchanges, replay_against
    from agentlog.present import plural

    store = get_state(ctx).store(read_only=True)
    exchanges = recorded_exchanges(store, resolve_session_id(store, session))
    if against:
        if not command:
            raise UsageError(
                "give the server to re-ask after `--`: agentlog mcp replay SESSION --against -- CMD"
            )
        differences = replay_against(exchanges, command, timeout=timeout)
        asked = sum(e.jsonrpc_id is not None for e in exchanges)
        if json:
            print_json(
                {
                    "requests": asked,
                    "differences": [
                        {"step": d.step, "request": d.label, "recorded": d.recorded, "now": d.now}
                        for d in differences
                    ],
                }
            )
        else:
            for difference in differences:
                write_line(difference.line())
            message(
                f"{asked} recorded requests re-asked: "
                + (
                    f"{plural(len(differences), 'answer')} "
                    + ("differs" if len(differences) == 1 else "differ")
                    if differences
                    else "every answer matches"
                )
            )
        if differences:
            raise typer.Exit(1)
        return
    if command:
        raise UsageError("a command after `--` goes with --against (to re-ask a real server)")
    server = ReplayServer(exchanges)
    server.serve(sys.stdin.buffer, sys.stdout.buffer)
    summary = f"agentlog mcp replay: {plural(server.answered, 'answer')} from the recording"
    if server.misses:
        summary += f"; no answer for {plural(len(server.misses), 'request')}: " + ", ".join(
            server.misses[:5]
        )
    message(summary)


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
    run_server(state.store(read_only=not state.is_remote(), access="follow"))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="mcp")
