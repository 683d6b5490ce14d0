"""Storage: the `Store` protocol and `open_store`, which picks a backend from a URL.

`open_store(None)` opens the local SQLite file; a path or `sqlite:///path`
opens that file; `postgresql://…` the PostgreSQL backend (extra `team`);
`http(s)://…` a remote `agentlog serve` through `RemoteStore`.
"""

from __future__ import annotations

import os
import re

from agentlog.storage.base import (
    EventQuery,
    Page,
    SessionQuery,
    Store,
    StoreInfo,
    event_cursor,
    iter_events,
    iter_sessions,
)

# The URLs `open_store` opens that are not SQLite files.
SERVER_SCHEMES = ("http://", "https://")
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def open_store(
    url: str | None = None, *, api_key: str | None = None, read_only: bool = False
) -> Store:
    """Open the store at `url` (default: the configured store; see `Settings.store_url`)."""
    from agentlog.config import Settings
    from agentlog.errors import UsageError

    if url is None:
        settings = Settings.load()
        url = settings.store_url()
        api_key = api_key or settings.api_key
    if url.startswith(SERVER_SCHEMES):
        from agentlog.storage.remote import RemoteStore

        return RemoteStore(url, api_key=api_key)
    if url.startswith(POSTGRES_SCHEMES):
        try:
            from agentlog.storage.postgres.store import PostgresStore
        except ImportError as exc:
            raise UsageError(
                f"the PostgreSQL backend needs the team extra: pip install 'agentlog[team]' ({exc})"
            ) from None
        return _sealed(PostgresStore(url))
    from agentlog.storage.sqlite.store import SQLiteStore

    path = sqlite_path(url)
    return _sealed(SQLiteStore(path, read_only=read_only, synchronous=_synchronous()))


# A URL's scheme (two characters or more: `C://` is a Windows drive, not a scheme).
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+://")
# host:port (a name or an IPv4 address, a port, perhaps a path): a server without its scheme.
_HOST_PORT = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]*:\d{1,5}(/.*)?\Z")


def check_store_url(url: str) -> None:
    """UsageError unless `url` is a kind of store `open_store` opens (checked, not opened)."""
    if not url.startswith(SERVER_SCHEMES + POSTGRES_SCHEMES):
        sqlite_path(url)


def sqlite_path(url: str) -> str:
    """The SQLite file a path or `sqlite:///PATH` names. Any other URL is a UsageError: a
    mistyped scheme (`htp://`, `postgress://`) would otherwise become a directory named
    after it with a new database inside, and the command would report success. So is an
    existing directory."""
    from agentlog.errors import UsageError

    path = url.removeprefix("sqlite:///")
    scheme = None if path != url else _SCHEME.match(url)
    if scheme is not None:
        raise UsageError(
            f"{scheme.group()} is not a kind of store; give a file path, sqlite:///PATH,"
            " postgresql://HOST/DB or http(s)://SERVER"
        )
    if _HOST_PORT.match(path):
        # `--to 127.0.0.1:8250` meant the server there, not a file of that name beside you.
        raise UsageError(
            f"{path} looks like a server address; give http://{path} (or ./{path} for a file"
            " of that name)"
        )
    if os.path.isdir(path):
        # SQLite's own answer ("unable to open database file") reads as a missing or
        # read-only folder, which an existing folder is not.
        raise UsageError(
            f"{path} is a directory; give a file name for the database,"
            f" e.g. {os.path.join(path, 'agentlog.db')}"
        )
    return path


def _sealed(store: Store) -> Store:
    """`store` encrypted at rest when `encryption.key` is set (see `storage/encrypted.py`).

    A config that cannot be read stops here when it may hold the key: opening the store
    without it would write in clear what is meant to be sealed.
    """
    from agentlog.config import Settings
    from agentlog.errors import ConfigError

    try:
        settings = Settings.load()
    except ConfigError:
        if os.environ.get("AGENTLOG_ENCRYPTION_KEY"):
            store.close()
            raise
        return store
    key = str(settings.get("encryption.key") or "")
    if not key:
        return store
    from agentlog.storage.encrypted import encrypted

    try:
        return encrypted(store, key, str(settings.get("encryption.fields")))
    except ConfigError:
        store.close()
        raise


def _synchronous() -> str:
    """The configured SQLite durability; an unreadable config keeps the default (the CLI
    reports config errors itself, and the SDK must still be able to write)."""
    from agentlog.config import Settings
    from agentlog.errors import ConfigError

    try:
        return str(Settings.load().get("sqlite.synchronous"))
    except ConfigError:
        return "normal"


__all__ = [
    "POSTGRES_SCHEMES",
    "SERVER_SCHEMES",
    "EventQuery",
    "Page",
    "SessionQuery",
    "Store",
    "StoreInfo",
    "check_store_url",
    "event_cursor",
    "iter_events",
    "iter_sessions",
    "open_store",
    "sqlite_path",
]
