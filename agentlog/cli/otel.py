"""`agentlog otel`: receive OTLP traces into the local store (and, later, send sessions out)."""

from __future__ import annotations

from typing import Annotated

import typer

from agentlog.cli.context import get_state, get_store
from agentlog.cli.options import SinceOpt
from agentlog.cli.output import message
from agentlog.present import plural

otel_app = typer.Typer(
    help="OpenTelemetry: receive OTLP traces as sessions, send sessions out.", no_args_is_help=True
)


@otel_app.command("receive")
def receive_cmd(
    ctx: typer.Context,
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port to listen on (0: any free port).")
    ] = 4318,
    host: Annotated[str, typer.Option("--host", help="Address to bind.")] = "127.0.0.1",
) -> None:
    """Listen for OTLP/HTTP traces and write them to the local store, no server needed.

    Example: agentlog otel receive --port 4318  (then OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318)
    """
    from agentlog.otel.receiver import OTLPReceiver

    store = get_state(ctx).local_store(access="record")
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
        rejected = f", {server.spans_rejected:,} rejected" if server.spans_rejected else ""
        message(f"stopped; {server.spans_received:,} spans stored{rejected}")


@otel_app.command("send")
def send_cmd(
    ctx: typer.Context,
    to: Annotated[
        str, typer.Option("--to", metavar="URL", help="OTLP/HTTP endpoint (base or /v1/traces).")
    ],
    sessions: Annotated[
        list[str] | None,
        typer.Argument(metavar="[SESSION]...", help="Session ids or prefixes (or use --all)."),
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every session.")] = False,
    since: SinceOpt = None,
    header: Annotated[
        list[str] | None,
        typer.Option("--header", "-H", metavar="K=V", help="HTTP header, e.g. Authorization=…"),
    ] = None,
) -> None:
    """Push sessions as OTLP JSON to any OTLP/HTTP endpoint (Collector, Phoenix, Langfuse).

    Example: agentlog otel send --all --since 1d --to http://127.0.0.1:4318
    """
    from agentlog.cli.resolve import resolve_session_id
    from agentlog.errors import UsageError
    from agentlog.otel.files import send_otlp
    from agentlog.transfer.export import Selection
    from agentlog.transfer.progress import Bar

    headers: dict[str, str] = {}
    for item in header or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--header wants KEY=VALUE, got {item[:60]!r}")
        headers[key.strip()] = value
    store = get_store(ctx)
    ids = tuple(resolve_session_id(store, s) for s in sessions or ())
    sel = Selection(session_ids=ids, all=all_, since=since)
    with Bar("sending", None) as bar:
        sent = send_otlp(store, sel, to, headers, on_progress=bar.update)
    message(
        f"sent {plural(sent.sessions, 'session')}, {plural(sent.events, 'event')} in "
        f"{plural(sent.requests, 'request')}"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(otel_app, name="otel")
