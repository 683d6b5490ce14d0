"""PostgreSQL backups for `agentlog db backup|restore`: `pg_dump -Fc` / `pg_restore`, run with the password kept off the command line."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from agentlog.errors import StoreError, UsageError
from agentlog.storage.postgres.conn import Target, parse_url
from agentlog.storage.private_files import create_private


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise UsageError(
            f"{name} is not installed here; install the PostgreSQL client tools "
            f"(apt install postgresql-client-16, brew install libpq), or run it where the "
            f"database is: docker compose exec postgres {name} ..."
        )
    return found


def _split_password(target: Target) -> tuple[str, dict[str, str]]:
    """The conninfo without its password, and the environment that carries it (PGPASSWORD)."""
    parts = urlsplit(target.conninfo)
    env = dict(os.environ)
    if parts.password is not None:
        env["PGPASSWORD"] = unquote(parts.password)
        userinfo, host = parts.netloc.rsplit("@", 1)
        parts = parts._replace(netloc=f"{userinfo.split(':', 1)[0]}@{host}")
    return urlunsplit(parts), env


def _run(args: list[str], env: dict[str, str], what: str, display: str) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = [ln for ln in done.stderr.strip().splitlines() if ln.strip()]
        detail = lines[-1] if lines else f"exit status {done.returncode}"
        raise StoreError(f"{what} of {display} failed: {detail}")


def backup(url: str, path: Path) -> None:
    """Write `url`'s AgentLog data (its schema, or the whole database) to `path` in pg_dump's custom format."""
    target = parse_url(url)
    conninfo, env = _split_password(target)
    args = [_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(path)]
    # Owner-only, as the store files: pg_dump writes into the file made here (and one
    # replaced with --force is tightened), so it is never readable by others meanwhile.
    made = not path.exists()
    create_private(path)
    os.chmod(path, 0o600)
    if target.schema:
        args += ["--schema", target.schema]
    try:
        _run([*args, "--dbname", conninfo], env, "pg_dump", target.display)
    except BaseException:
        if made:  # no empty file left where a backup was expected
            path.unlink(missing_ok=True)
        raise


def restore(url: str, path: Path) -> None:
    """Load a `backup()` file into `url`'s database in one transaction, replacing the objects it holds."""
    if not path.is_file():
        raise UsageError(f"{path} is not a file; give the path `agentlog db backup` wrote")
    target = parse_url(url)
    conninfo, env = _split_password(target)
    # pg_restore --clean cannot drop what a partition inherits from its parent (the
    # month partitions of events since schema 8: "cannot drop inherited constraint").
    # So its script runs through psql in one transaction that first drops the
    # partitioned tables (their partitions, keys and indexes go with them); the
    # script's own drops of those then find nothing (IF EXISTS), and it recreates all.
    # The script is written out whole first: psql commits at the end of its input, so
    # it must never read the start of a script whose writer failed half-way.
    schema = '"' + (target.schema or "public").replace('"', '""') + '"'
    first = f"DROP TABLE IF EXISTS {schema}.events, {schema}.events_fts CASCADE"
    with tempfile.TemporaryDirectory(prefix=".agentlog-restore-", dir=path.parent) as tmp:
        script = Path(tmp) / "restore.sql"
        _run(
            [
                _tool("pg_restore"),
                "--no-owner",
                "--clean",
                "--if-exists",
                "--file",
                str(script),
                str(path),
            ],
            env,
            "pg_restore",
            target.display,
        )
        args = [
            _tool("psql"),
            "--no-psqlrc",
            "--quiet",
            "--single-transaction",
            "--set",
            "ON_ERROR_STOP=1",
            "--command",
            first,
            "--file",
            str(script),
            "--dbname",
            conninfo,
        ]
        _run(args, env, "pg_restore", target.display)
