"""`agentlog serve`: run the team HTTP API (uvicorn) over a Store."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Annotated

import typer

from agentlog.cli.context import get_state
from agentlog.cli.output import message, warn
from agentlog.errors import UsageError
from agentlog.storage.base import redact_url


def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option("--host", help="Address to bind (default 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", min=1, max=65535, help="Port (default 8250).")
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            metavar="URL",
            help="SQLite path or postgresql:// URL (default: the configured store).",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, max=64, help="Worker processes (default serve.workers)."),
    ] = None,
    no_migrate: Annotated[
        bool,
        typer.Option(
            "--no-migrate",
            help="Refuse to start on an old schema instead of migrating it (see `agentlog db upgrade`).",
        ),
    ] = False,
    dev: Annotated[
        bool,
        typer.Option("--dev", help="No auth for loopback clients (refused on other addresses)."),
    ] = False,
    access_log: Annotated[
        bool | None,
        typer.Option(
            "--access-log/--no-access-log",
            help="One JSON line per request on stdout (default serve.access_log: on).",
        ),
    ] = None,
) -> None:
    """Run the AgentLog server: the HTTP API, /docs and /metrics over your store.

    Example: agentlog serve --port 8250 --db /var/lib/agentlog/agentlog.db
    """
    import uvicorn

    from agentlog.config import Settings
    from agentlog.server.bootstrap import bootstrap_admin, check_jwt_secret, wait_for_database
    from agentlog.server.schema_state import pending_migrations
    from agentlog.server.service import open_backends, teamless_hint, teamless_sessions
    from agentlog.server.settings import DEV_ENV, ServerSettings, is_loopback
    from agentlog.server.tokens import KeyRing

    state = get_state(ctx)
    settings = ServerSettings.load(dev=dev, db=db or state.db, serve_host=host, serve_port=port)
    if dev and not is_loopback(settings.host):
        raise UsageError(
            f"--dev turns authentication off, so it only binds loopback; drop --dev or use --host 127.0.0.1 (not {settings.host})"
        )
    check_jwt_secret(settings)
    _note_own_store(settings.db)
    _check_port_free(settings.host, settings.port)
    config = Settings.load()
    workers = workers or config.get("serve.workers")  # its check keeps it within 1-64

    def retrying(msg: str, delay: float) -> None:
        warn(f"{msg}; retrying in {delay:.1f}s")

    if no_migrate:
        pending = wait_for_database(
            lambda: pending_migrations(settings.db),
            config.get("serve.db_wait_seconds"),
            on_retry=retrying,
        )
        if pending:
            raise UsageError(
                f"the schema of {redact_url(settings.db)} is behind this agentlog "
                f"({len(pending)} migrations pending: {', '.join(pending)}); run "
                "`agentlog db upgrade` first, or start without --no-migrate"
            )
    store, accounts = wait_for_database(
        lambda: open_backends(settings.db), config.get("serve.db_wait_seconds"), on_retry=retrying
    )
    try:
        first = bootstrap_admin(
            accounts,
            config.get("admin.email"),
            config.get("admin.password"),
            config.get("admin.team"),
        )
        users = accounts.count_users()
        teamless = teamless_sessions(store)
    finally:
        accounts.close()
        store.close()
    if first.created:
        message(first.note)
    KeyRing(settings.data_dir, settings.jwt_secret)  # first start: generate the signing key (0600)
    # Workers re-read their settings from the environment (`app_from_env`).
    os.environ["AGENTLOG_DB"] = settings.db
    os.environ["AGENTLOG_SERVE_HOST"] = settings.host
    os.environ["AGENTLOG_SERVE_PORT"] = str(settings.port)
    os.environ[DEV_ENV] = "1" if dev else ""
    if access_log is not None:
        os.environ["AGENTLOG_SERVE_ACCESS_LOG"] = "1" if access_log else "0"
    url = f"http://{settings.host}:{settings.port}"
    if dev:
        warn("DEV MODE: authentication is OFF for loopback clients. Never use this for real data.")
    if workers > 1 and not settings.redis_url:
        warn(
            f"{workers} workers without serve.redis_url: rate limits count per worker and "
            "/v1/events/stream only sees events written through the same worker; set "
            "AGENTLOG_SERVE_REDIS_URL=redis://... for a shared budget and fan-out"
        )
    if users == 0 and not dev:
        message(
            "No users yet. Set AGENTLOG_ADMIN_EMAIL and AGENTLOG_ADMIN_PASSWORD and restart, "
            "or create the first admin on this machine:\n"
            f"  agentlog admin create-user you@example.com --admin --db {redact_url(settings.db)}\n"
            f"  agentlog admin keys create --label my-laptop --db {redact_url(settings.db)}\n"
            f"then: export AGENTLOG_SERVER={url} AGENTLOG_API_KEY=<the key>"
        )
    if teamless:
        message(teamless_hint(teamless, redact_url(settings.db), url))
    message(f"AgentLog server on {url} (store: {redact_url(settings.db)}; API docs: {url}/docs)")
    with _metrics_dir(workers):
        uvicorn.run(
            "agentlog.server.app:app_from_env",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=workers,
            access_log=False,  # ours is structured (agentlog.server.accesslog)
            log_level="info",
            proxy_headers=False,
            server_header=False,
            timeout_graceful_shutdown=5,
        )


@contextlib.contextmanager
def _metrics_dir(workers: int) -> Iterator[None]:
    """With several workers, a private directory where they all write their metrics
    (prometheus_client's multiprocess mode), so whichever answers /metrics reports the
    whole server. Set in the environment the workers start with; removed at exit.
    One worker keeps the app's in-process registry, whatever the environment says."""
    # prometheus_client reads these when it is first imported (in each worker), so this
    # must not import it (nor agentlog.server.metrics) first.
    names = ("PROMETHEUS_MULTIPROC_DIR", "prometheus_multiproc_dir")
    before = {name: os.environ.pop(name) for name in names if name in os.environ}
    path = tempfile.mkdtemp(prefix="agentlog-metrics-") if workers > 1 else None  # 0700
    if path:
        os.environ[names[0]] = path
    try:
        yield
    finally:
        if path:
            shutil.rmtree(path, ignore_errors=True)
            os.environ.pop(names[0], None)
        os.environ.update(before)


def _note_own_store(db: str) -> None:
    """On the first start with the default store, say where it is and where it was."""
    from pathlib import Path

    from agentlog.config import default_db_path, default_server_db_path

    local = default_db_path()
    if db == str(default_server_db_path()) and not Path(db).exists() and local.exists():
        message(
            f"the server keeps its own store, {db}; your local store {local} stays yours "
            "(move its sessions with `agentlog migrate --to http://HOST:PORT`, or serve it "
            f"as before with --db {local})"
        )


def _check_port_free(host: str, port: int) -> None:
    """Fail before any banner or bootstrap when the address is taken (uvicorn only says so late)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise UsageError(
                f"cannot listen on {host}:{port} ({exc.strerror or exc}); another server may "
                "be running there: stop it or choose another --port"
            ) from None


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
