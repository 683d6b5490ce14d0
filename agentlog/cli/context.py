"""The per-invocation CLI state: global options, resolved settings and the open store.

The root callback puts a `CLIState` on the Click context; commands call
`get_store(ctx)` / `get_settings(ctx)` and never open stores themselves, so
`--server`, `--api-key` and `--db` mean the same thing everywhere.

Each command says how it uses the store (`Access`), and this is the one place that
decides what a missing SQLite file means. A command that records creates it. A
read never creates anything: a path the user gave (--db, AGENTLOG_DB, the config
file) that does not exist is a usage error naming it (a typo must not become an
empty store that reads "no sessions yet"); the default store not made yet reads
as an empty store in a temporary folder, removed when the command ends, so a new
user's first `agentlog sessions list` says there are no sessions and how to
record some. A live view (`tail`, `tui`, `mcp serve`) of the default store
creates it, as the run it waits for would.
"""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Literal

import typer

from agentlog.config import Settings
from agentlog.errors import UsageError

if TYPE_CHECKING:
    from agentlog.storage.base import Store

# How a command uses the store, which decides what a missing SQLite file means:
#   record   creates it (demo, run, log, import, hook, otel receive, mcp proxy, sessions new)
#   read     never creates: a given path that is missing is a usage error; the default
#            store not made yet reads as empty
#   follow   a live view: a given path that is missing is a usage error; the default store
#            is created, as the run it waits for would create it (tail, tui, mcp serve)
#   maintain the file must exist, given or default (db info/check/vacuum/..., migrate's source)
Access = Literal["read", "follow", "record", "maintain"]


@dataclass
class CLIState:
    """Global options from the root callback; opens the store once, on first use."""

    server: str | None = None
    api_key: str | None = None
    db: str | None = None
    _settings: Settings | None = field(default=None, repr=False)
    _stores: dict[str, Store] = field(default_factory=dict, repr=False)
    _cleanups: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings.load(server=self.server, api_key=self.api_key, db=self.db)
        return self._settings

    def store_url(self, server: str | None = None) -> str:
        """Where to read and write: --server, then --db, then env/file settings."""
        if server or self.server:
            from agentlog.config import server_url

            return server_url(server or self.server or "", "--server")
        if self.db:
            # An explicit --db flag beats a server set in the environment or file.
            return self.db
        return self.settings().store_url()

    def local_store(self, *, access: Access = "read") -> Store:
        """The local store (--db, else the configured file), even when a server is set:
        the source of `migrate`, which moves local data to a server."""
        return self._open(self.db or self.settings().db, access=access)

    def is_remote(self, server: str | None = None) -> bool:
        return self.store_url(server).startswith(("http://", "https://"))

    def store(
        self, server: str | None = None, *, read_only: bool = False, access: Access = "read"
    ) -> Store:
        return self._open(self.store_url(server), read_only=read_only, access=access)

    def _given(self) -> str | None:
        """Where the user named the local store (None: the default path)."""
        if self.db:
            return "--db"
        source = self.settings().sources.get("db", "default")
        return {"env": "AGENTLOG_DB", "file": "the config file"}.get(source)

    def _open(self, url: str, *, read_only: bool = False, access: Access = "read") -> Store:
        """One opened store per URL and mode, closed with the CLI's context."""
        from agentlog.storage import open_store

        key = f"{url}|{read_only}"
        if key in self._stores:
            return self._stores[key]
        missing = None if access == "record" else missing_file(url)
        if missing is not None:
            given = self._given()
            if given is not None or access == "maintain":
                where = f" (from {given})" if given not in (None, "--db") else ""
                raise UsageError(
                    f"no AgentLog store at {missing}{where}: check the path, or record "
                    f"something first (agentlog demo --db {shlex.quote(missing)})"
                )
            if access == "read":
                self._stores[key] = self._empty_store()
                return self._stores[key]
        self._stores[key] = open_store(url, api_key=self.settings().api_key, read_only=read_only)
        return self._stores[key]

    def _empty_store(self) -> Store:
        """An empty store in a temporary folder (removed on close): the default store, unmade."""
        import tempfile

        from agentlog.storage.sqlite.store import SQLiteStore

        folder = tempfile.mkdtemp(prefix="agentlog-empty-")
        self._cleanups.append(lambda: shutil.rmtree(folder, ignore_errors=True))
        store = SQLiteStore(os.path.join(folder, "agentlog.db"))
        store.url = self.settings().db  # what it stands for, in messages
        return store

    def close(self) -> None:
        stores, self._stores = list(self._stores.values()), {}
        cleanups, self._cleanups = self._cleanups, []
        try:
            for store in stores:
                store.close()
        finally:
            for cleanup in cleanups:
                cleanup()


def missing_file(url: str) -> str | None:
    """The SQLite path `url` names when no file is there yet (None: it exists, or not a file)."""
    from agentlog.storage import POSTGRES_SCHEMES, SERVER_SCHEMES, sqlite_path

    if url.startswith(SERVER_SCHEMES + POSTGRES_SCHEMES):
        return None
    path = sqlite_path(url)
    return None if os.path.exists(os.path.expanduser(path)) else path


def get_state(ctx: typer.Context) -> CLIState:
    """The root CLIState (a fresh default one when a command runs outside the root app)."""
    root = ctx.find_root()
    if not isinstance(root.obj, CLIState):
        root.obj = CLIState()
        root.call_on_close(root.obj.close)
    return root.obj


def get_store(
    ctx: typer.Context,
    server: str | None = None,
    *,
    read_only: bool = False,
    access: Access = "read",
) -> Store:
    """The command's store; `access` says how it is used (see `Access`): reads never create."""
    return get_state(ctx).store(server, read_only=read_only, access=access)


def get_settings(ctx: typer.Context) -> Settings:
    return get_state(ctx).settings()


__all__ = ["Access", "CLIState", "get_settings", "get_state", "get_store"]


def stale_after(ctx: typer.Context) -> timedelta | None:
    """How long an active session may be quiet before lists show it as stale (None: never)."""
    minutes = int(get_settings(ctx).get("display.stale_after_minutes"))
    return timedelta(minutes=minutes) if minutes > 0 else None
