"""`agentlog db info|check|vacuum|backup|restore|upgrade|prune`: look after the database.

`info` and `prune` work on any store; `check`, `vacuum` and `backup` use
SQLiteStore's own extras and say so when pointed at a server.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from agentlog.cli.context import get_settings, get_state, get_store, missing_file
from agentlog.cli.options import JsonOpt, YesOpt
from agentlog.cli.output import (
    Format,
    is_terminal,
    message,
    output_format,
    print_json,
    print_object,
    warn,
)
from agentlog.config import Settings
from agentlog.errors import UsageError
from agentlog.model import utcnow
from agentlog.present import plural
from agentlog.storage.base import Maintainable, SessionQuery, StoreInfo, redact_url
from agentlog.timeparse import DURATION_HELP, parse_duration

NEAR_LIMIT = 0.8

db_app = typer.Typer(
    help="Look after the database: size and limits, integrity, vacuum, backup and restore, schema upgrade, prune.\n\n"
    "Example: agentlog db info",
    no_args_is_help=True,
)


def human_bytes(size: int | None) -> str:
    if size is None:
        return "unknown"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{value:,.1f} GB"


def limit_warnings(info: StoreInfo, settings: Settings) -> list[str]:
    """Warnings for a store near or past the configured limits (>80%)."""
    warnings: list[str] = []
    max_mb = int(settings.get("limits.max_db_mb") or 0)
    if max_mb > 0 and info.size_bytes is not None:
        used = info.size_bytes / (max_mb * 1024 * 1024)
        if used >= NEAR_LIMIT:
            warnings.append(
                f"the database is {human_bytes(info.size_bytes)}, {used:.0%} of limits.max_db_mb "
                f"({max_mb:,} MB); prune old sessions (agentlog db prune --older-than 30d) "
                "or raise the limit (agentlog config set limits.max_db_mb N)"
            )
    max_sessions = int(settings.get("limits.max_sessions") or 0)
    if max_sessions > 0:
        used = info.sessions / max_sessions
        if used >= NEAR_LIMIT:
            warnings.append(
                f"{info.sessions:,} sessions is {used:.0%} of limits.max_sessions "
                f"({max_sessions:,}); prune old sessions or raise the limit"
            )
    days = int(settings.get("limits.retention_days") or 0)
    too_old = utcnow() - timedelta(days=days)
    if days > 0 and info.oldest_event_at is not None and info.oldest_event_at < too_old:
        warnings.append(
            f"there are events older than limits.retention_days ({days} days); "
            "run `agentlog db prune` to erase them"
        )
    return warnings


def _local(ctx: typer.Context, what: str) -> Maintainable:
    state = get_state(ctx)
    if state.is_remote():
        raise UsageError(
            f"`agentlog db {what}` works on a local SQLite database only, not on the server "
            f"{state.store_url()}; drop --server, or run it on the server's host"
        )
    store = get_store(ctx, access="maintain")
    if not isinstance(store, Maintainable):
        raise UsageError(
            f"`agentlog db {what}` works on a local SQLite database only ({store.url})"
        )
    return store


@db_app.command("info")
def info(ctx: typer.Context, json: JsonOpt = False) -> None:
    """Size, counts and schema version against the configured limits (warns when near them).

    Example: agentlog db info --json
    """
    store = get_store(ctx, access="maintain")
    data = store.info()
    settings = get_settings(ctx)
    warnings = limit_warnings(data, settings)
    limits = {
        "max_db_mb": settings.get("limits.max_db_mb"),
        "max_sessions": settings.get("limits.max_sessions"),
        "retention_days": settings.get("limits.retention_days"),
    }
    if output_format(json) is Format.JSON:
        doc: dict[str, Any] = {
            "url": data.url,
            "backend": data.backend,
            "schema_version": data.schema_version,
            "sessions": data.sessions,
            "events": data.events,
            "size_bytes": data.size_bytes,
            "oldest_event_at": data.oldest_event_at,
            "newest_event_at": data.newest_event_at,
            "extra": data.extra,
            "limits": limits,
            "warnings": warnings,
        }
        print_json(doc)
    else:
        max_mb = limits["max_db_mb"]
        max_sessions = limits["max_sessions"]
        fields = [
            ("store", data.url),
            ("backend", data.backend),
            ("schema version", data.schema_version),
            (
                "size",
                f"{human_bytes(data.size_bytes)} (limit {max_mb:,} MB)"
                if max_mb
                else human_bytes(data.size_bytes),
            ),
            (
                "sessions",
                f"{data.sessions:,} (limit {max_sessions:,})" if max_sessions else data.sessions,
            ),
            ("events", data.events),
            ("oldest event", data.oldest_event_at),
            ("newest event", data.newest_event_at),
            (
                "retention",
                f"{limits['retention_days']} days" if limits["retention_days"] else "keep all",
            ),
            *(_extra_field(key, value) for key, value in data.extra.items()),
        ]
        print_object(data, Format.TABLE, fields=fields)
    for text in warnings:
        warn(text)


# The store's own names for its extra facts, said the way a user reads them.
EXTRA_LABELS = {
    "fts_pending": ("search index", "{:,} events waiting to be indexed (done on the next search)"),
    "fts_stale": ("stale index rows", "{:,} (found by `agentlog db check`)"),
}


def _extra_field(key: str, value: Any) -> tuple[str, Any]:
    label, text = EXTRA_LABELS.get(key, (key.replace("_", " "), None))
    if key == "fts_pending" and not value:
        return label, "up to date"
    if text is not None and isinstance(value, int):
        return label, text.format(value)
    return label, value


@db_app.command("check")
def check(ctx: typer.Context, json: JsonOpt = False) -> None:
    """Check the database's integrity and its full-text index (exit 1 on a problem).

    Example: agentlog db check
    """
    store = _local(ctx, "check")
    problems = [str(p) for p in (store.check() or [])]
    if output_format(json) is Format.JSON:
        print_json({"ok": not problems, "problems": problems})
    elif problems:
        for problem in problems:
            message(f"problem: {problem}")
    else:
        message(f"ok: {store.url} passed the integrity check")
    if problems:
        raise typer.Exit(1)


@db_app.command("vacuum")
def vacuum(ctx: typer.Context) -> None:
    """Rebuild the database file to give free pages back to the disk.

    Example: agentlog db vacuum
    """
    store = _local(ctx, "vacuum")
    before = store.info().size_bytes
    store.vacuum()
    after = store.info().size_bytes
    message(f"vacuumed {store.url}: {human_bytes(before)} → {human_bytes(after)}")


@db_app.command("keygen")
def keygen() -> None:
    """Print a new key for encryption at rest (`AGENTLOG_ENCRYPTION_KEY`).

    Example: export AGENTLOG_ENCRYPTION_KEY=$(agentlog db keygen)

    To rotate, put a new key first and keep the old ones after it, comma-separated:
    new events are sealed with the first key, and every listed key opens what it sealed.
    """
    from agentlog.storage.encrypted import new_key

    typer.echo(new_key())


@db_app.command("backup")
def backup(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(metavar="PATH", help="Where to write the copy.")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite PATH if it exists.")] = False,
) -> None:
    """Write a consistent copy of the database while it is in use (SQLite online backup; pg_dump -Fc for PostgreSQL).

    Example: agentlog db backup ~/agentlog-$(date +%F).db
    """
    target = path.expanduser()
    if target.exists() and not force:
        raise UsageError(f"{target} already exists; choose another path or add --force")
    url = _server_db(ctx)
    if url is not None:
        from agentlog.server import pgbackup

        pgbackup.backup(url, target)
        message(f"backed up {redact_url(url)} to {target} ({human_bytes(target.stat().st_size)})")
        return
    store = _local(ctx, "backup")
    if target.exists():
        target.unlink()
    store.backup(target)
    message(f"backed up {store.url} to {target} ({human_bytes(target.stat().st_size)})")


@db_app.command("restore")
def restore(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(metavar="PATH", help="A file `db backup` wrote.")],
    yes: YesOpt = False,
) -> None:
    """Load a PostgreSQL backup (pg_restore), replacing the tables it holds; stop the server first.

    Example: agentlog db restore agentlog-2026-01-31.dump --db postgresql://... --yes
    """
    url = _server_db(ctx)
    if url is None:
        raise UsageError(
            "`agentlog db restore` is for PostgreSQL; a SQLite backup is a database file: "
            "stop the writers and copy it over the store (or open it with --db PATH)"
        )
    if not yes:
        if not is_terminal(sys.stdin):
            raise UsageError("refusing to replace the database without confirmation; add --yes")
        typer.confirm(f"Replace AgentLog's tables in {redact_url(url)}?", abort=True, err=True)
    from agentlog.server import pgbackup

    pgbackup.restore(url, path.expanduser())
    message(f"restored {path} into {redact_url(url)}")


@db_app.command("upgrade")
def upgrade(ctx: typer.Context, json: JsonOpt = False) -> None:
    """Apply pending schema migrations now (for servers started with `serve --no-migrate`).

    Example: agentlog db upgrade --db postgresql://agentlog@db:5432/agentlog
    """
    from agentlog.server.schema_state import upgrade as apply_upgrade

    state = get_state(ctx)
    if state.is_remote():
        raise UsageError("`agentlog db upgrade` runs against the database; give --db URL")
    url = state.db or get_settings(ctx).db
    # No file there: a new server's first step (`serve --no-migrate` says to run this),
    # or a mistyped path; either way the user is told a store was made, not upgraded.
    created = missing_file(url) is not None
    done = apply_upgrade(url)
    if output_format(json) is Format.JSON:
        print_json({"store": redact_url(url), "applied": done, "created": created})
    elif created:
        message(
            f"created a new store at {redact_url(url)} (no file was there): "
            f"{len(done)} migrations applied"
        )
    elif done:
        message(f"applied {len(done)} migrations to {redact_url(url)}: {', '.join(done)}")
    else:
        message(f"{redact_url(url)} is up to date")


def _server_db(ctx: typer.Context) -> str | None:
    """The PostgreSQL URL the command targets, or None for a local SQLite store."""
    from agentlog.server.schema_state import is_postgres

    state = get_state(ctx)
    if state.is_remote():
        return None  # _local() explains
    url = state.db or get_settings(ctx).db
    return url if is_postgres(url) else None


@db_app.command("prune")
def prune(
    ctx: typer.Context,
    older_than: Annotated[
        str | None,
        typer.Option(
            "--older-than",
            metavar="AGE",
            help=f"Erase sessions with no activity for this long: {DURATION_HELP} "
            "(default: limits.retention_days).",
        ),
    ] = None,
    yes: YesOpt = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only count what would be erased; erase nothing.")
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Erase sessions (and their events) with no activity for longer than --older-than.

    Example: agentlog db prune --older-than 30d --dry-run
    """
    if older_than is None:
        days = int(get_settings(ctx).get("limits.retention_days") or 0)
        if days <= 0:
            raise UsageError(
                "give --older-than AGE (e.g. 30d) or set limits.retention_days "
                "(agentlog config set limits.retention_days 30)"
            )
        age = timedelta(days=days)
    else:
        age = parse_duration(older_than, "--older-than")
    if age <= timedelta(0):
        raise UsageError("--older-than must be more than zero")
    before = utcnow() - age
    store = get_store(ctx, access="maintain")
    doomed = store.count_sessions(SessionQuery()) - store.count_sessions(SessionQuery(since=before))
    if dry_run:
        if output_format(json) is Format.JSON:
            print_json({"sessions_to_erase": doomed, "before": before, "dry_run": True})
        else:
            message(
                f"would erase {plural(doomed, 'session')} with no activity since "
                f"{before:%Y-%m-%d %H:%M} UTC (dry run: nothing erased)"
            )
        return
    if doomed and not yes:
        if not is_terminal(sys.stdin):
            raise UsageError("refusing to prune without confirmation; add --yes")
        typer.confirm(
            f"Erase {plural(doomed, 'session')} with no activity since {before:%Y-%m-%d %H:%M} UTC?",
            abort=True,
            err=True,
        )
    erased = store.prune(before) if doomed else 0
    if output_format(json) is Format.JSON:
        print_json({"sessions_erased": erased, "before": before})
    else:
        message(
            f"erased {plural(erased, 'session')} with no activity since {before:%Y-%m-%d %H:%M} UTC"
        )


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
