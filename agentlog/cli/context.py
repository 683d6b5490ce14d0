"""The per-invocation CLI state: global options, resolved settings and the open store.

The root callback puts a `CLIState` on the Click context; commands call
`get_store(ctx)` / `get_settings(ctx)` and never open stores themselves, so
`--server`, `--api-key` and `--db` mean the same thing everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

import typer

from agentlog.config import Settings

if TYPE_CHECKING:
    from agentlog.storage.base import Store


@dataclass
class CLIState:
    """Global options from the root callback; opens the store once, on first use."""

    server: str | None = None
    api_key: str | None = None
    db: str | None = None
    _settings: Settings | None = field(default=None, repr=False)
    _stores: dict[str, Store] = field(default_factory=dict, repr=False)

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

    def local_store(self) -> Store:
        """The local store (--db, else the configured file), even when a server is set:
        the source of `migrate`, which moves local data to a server."""
        return self._open(self.db or self.settings().db)

    def is_remote(self, server: str | None = None) -> bool:
        return self.store_url(server).startswith(("http://", "https://"))

    def store(self, server: str | None = None, *, read_only: bool = False) -> Store:
        return self._open(self.store_url(server), read_only=read_only)

    def _open(self, url: str, *, read_only: bool = False) -> Store:
        """One opened store per URL and mode, closed with the CLI's context."""
        from agentlog.storage import open_store

        key = f"{url}|{read_only}"
        if key not in self._stores:
            self._stores[key] = open_store(
                url, api_key=self.settings().api_key, read_only=read_only
            )
        return self._stores[key]

    def close(self) -> None:
        stores, self._stores = list(self._stores.values()), {}
        for store in stores:
            store.close()


def get_state(ctx: typer.Context) -> CLIState:
    """The root CLIState (a fresh default one when a command runs outside the root app)."""
    root = ctx.find_root()
    if not isinstance(root.obj, CLIState):
        root.obj = CLIState()
        root.call_on_close(root.obj.close)
    return root.obj


def get_store(ctx: typer.Context, server: str | None = None, *, read_only: bool = False) -> Store:
    return get_state(ctx).store(server, read_only=read_only)


def get_settings(ctx: typer.Context) -> Settings:
    return get_state(ctx).settings()


__all__ = ["CLIState", "get_settings", "get_state", "get_store"]


def stale_after(ctx: typer.Context) -> timedelta | None:
    """How long an active session may be quiet before lists show it as stale (None: never)."""
    minutes = int(get_settings(ctx).get("display.stale_after_minutes"))
    return timedelta(minutes=minutes) if minutes > 0 else None
