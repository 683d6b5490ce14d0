"""`agentlog otel`: receive OTLP traces into the local store (and, later, send sessions out)."""

from __future__ import annotations

from typing import Annotated

import typer

from agentlog.cli.context import get_state
from agentlog.cli.output import message

otel_app = typer.Typer(help="OpenTelemetry: receive OTLP traces as sessions.", no_args_is_help=True)


@otel_app.command("receive")
def receive_cmd(
    ctx: typer.Context,
    port: Annotated[
        int, typer.Option("--port", help="Port to listen on (0: any free port).")
    ] = 4318,
    host: Annotated[str, typer.Option("--host", help="Address to bind.")] = "127.0.0.1",
) -> None:
    """Listen for OTLP/HTTP traces and write them to the local store, no server needed.

    Example: agentlog otel receive --port 4318  (then OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318)
    """
    from agentlog.otel.receiver import OTLPReceiver

    store = get_state(ctx).local_store()
    try:
        server = OTLPReceiver(store, host, port)
    except OSError as exc:
        from agentlog.errors import UsageError

        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    message(f"receiving OTLP traces at {server.url}/v1/traces into {store.url} (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        message(f"stopped; {server.spans_received:,} spans stored")


def register(app: typer.Typer) -> None:
    app.add_typer(otel_app, name="otel")
