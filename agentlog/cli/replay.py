"""`agentlog replay llm SESSION`: serve a recorded run's model answers to a re-run of the agent."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from agentlog.cli.context import get_store
from agentlog.cli.output import message, warn

replay_app = typer.Typer(
    name="replay",
    help="Reproduce a recorded run offline.",
    no_args_is_help=True,
)


@replay_app.command("llm")
def llm_cmd(
    ctx: typer.Context,
    session: Annotated[
        str, typer.Argument(metavar="SESSION", help="Session id, unique prefix, or 'latest'.")
    ],
    command: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[-- CMD...]",
            help="Run the agent with the endpoints (and AGENTLOG_REPLAY_OF) in its environment.",
        ),
    ] = None,
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1 (0 = any free one).")
    ] = 8300,
    fork_at: Annotated[
        int | None,
        typer.Option(
            "--fork-at",
            min=1,
            metavar="N",
            help="Answer model calls before N from the record, then go live (needs --upstream).",
        ),
    ] = None,
    upstream: Annotated[
        str | None,
        typer.Option(
            "--upstream",
            metavar="URL",
            help="The real model API the run goes live against, e.g. https://api.openai.com.",
        ),
    ] = None,
) -> None:
    """Answer OpenAI /v1/chat/completions and Anthropic /v1/messages with SESSION's recorded replies.

    With `-- CMD` the agent runs with OPENAI_BASE_URL / ANTHROPIC_BASE_URL pointed here and
    AGENTLOG_REPLAY_OF set, so the session it records is linked to SESSION as its replay.

    Example: agentlog replay llm latest -- python agent.py
    """
    from agentlog.cli.resolve import resolve_session_id
    from agentlog.errors import UsageError
    from agentlog.replay.llm_server import Replay, ReplayServer
    from agentlog.replay.recorded import recorded_calls

    if fork_at is not None and not upstream:
        raise UsageError(
            "--fork-at needs --upstream URL: the real model API to go live against from call N"
        )
    if upstream and not upstream.startswith(("http://", "https://")):
        raise UsageError(f"--upstream must be an http(s) URL, got {upstream!r}")
    store = get_store(ctx)
    sid = resolve_session_id(store, session)
    replay = Replay(recorded_calls(store, sid), fork_at=fork_at, upstream=upstream)
    if fork_at is not None and fork_at > len(replay.calls) + 1:
        raise UsageError(
            f"--fork-at {fork_at}: session {sid} has {len(replay.calls)} model call(s); "
            f"fork at 1..{len(replay.calls) + 1}"
        )
    try:
        server = ReplayServer(replay, "127.0.0.1", port)
    except OSError as exc:
        raise UsageError(
            f"cannot listen on 127.0.0.1:{port} ({exc.strerror or exc}); choose another --port"
        ) from None
    url = server.url
    fork_note = f", live from call {fork_at} via {upstream}" if fork_at is not None else ""
    code = 0
    if command:
        code = _run_agent(server, command, sid, fork_at)
    else:
        message(
            f"replaying {len(replay.calls)} model call(s) of session {sid} on {url}{fork_note}\n"
            f"  OPENAI_BASE_URL={url}/v1 OPENAI_API_KEY=replay\n"
            f"  ANTHROPIC_BASE_URL={url} ANTHROPIC_API_KEY=replay\n"
            f"  AGENTLOG_REPLAY_OF={sid} (links the run's session to this one)\n"
            "Ctrl-C stops it."
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    server.server_close()
    recorded = min(replay.position - replay.live_calls, len(replay.calls))
    message(f"answered {recorded} of {len(replay.calls)} recorded call(s)")
    if replay.forked:
        message(replay.forked)
    for why in replay.divergences:
        warn(why)
    if code:
        raise typer.Exit(code)
    if replay.divergences:
        raise typer.Exit(1)


def _run_agent(server: Any, command: list[str], sid: str, fork_at: int | None) -> int:
    """Serve while `command` runs with the replay's endpoints in its environment; its exit code."""
    import os
    import subprocess
    import threading

    from agentlog.errors import UsageError
    from agentlog.sdk.identity import REPLAY_FORK_AT_ENV, REPLAY_OF_ENV

    url = server.url
    env = dict(os.environ)
    env.update(
        {
            "OPENAI_BASE_URL": f"{url}/v1",
            "ANTHROPIC_BASE_URL": url,
            REPLAY_OF_ENV: sid,
        }
    )
    if fork_at is None:  # no live call: the agent needs no real key
        env.setdefault("OPENAI_API_KEY", "replay")
        env.setdefault("ANTHROPIC_API_KEY", "replay")
    else:
        env[REPLAY_FORK_AT_ENV] = str(fork_at)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        return subprocess.call(command, env=env)
    except OSError as exc:
        raise UsageError(f"cannot run {command[0]!r}: {exc.strerror or exc}") from None
    finally:
        server.shutdown()
        thread.join(5)


def register(app: typer.Typer) -> None:
    app.add_typer(replay_app)
