"""`agentlog replay llm SESSION`: serve a recorded run's model answers to a re-run of the agent."""

from __future__ import annotations

from typing import Annotated

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
    port: Annotated[
        int, typer.Option("--port", help="Port on 127.0.0.1 (0 = any free one).")
    ] = 8300,
) -> None:
    """Answer OpenAI /v1/chat/completions and Anthropic /v1/messages with SESSION's recorded replies.

    Example: agentlog replay llm latest & OPENAI_BASE_URL=http://127.0.0.1:8300/v1 python agent.py
    """
    from agentlog.cli.resolve import resolve_session_id
    from agentlog.errors import UsageError
    from agentlog.replay.llm_server import Replay, ReplayServer
    from agentlog.replay.recorded import recorded_calls

    store = get_store(ctx)
    sid = resolve_session_id(store, session)
    replay = Replay(recorded_calls(store, sid))
    try:
        server = ReplayServer(replay, "127.0.0.1", port)
    except OSError as exc:
        raise UsageError(
            f"cannot listen on 127.0.0.1:{port} ({exc.strerror or exc}); choose another --port"
        ) from None
    url = server.url
    message(
        f"replaying {len(replay.calls)} model call(s) of session {sid} on {url}\n"
        f"  OPENAI_BASE_URL={url}/v1 OPENAI_API_KEY=replay\n"
        f"  ANTHROPIC_BASE_URL={url} ANTHROPIC_API_KEY=replay\n"
        "Ctrl-C stops it."
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        message(f"answered {replay.position} of {len(replay.calls)} recorded call(s)")
        for why in replay.divergences:
            warn(why)
    if replay.divergences:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(replay_app)
