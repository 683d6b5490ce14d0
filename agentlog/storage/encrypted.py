"""Encryption at rest: event content and metadata sealed with keys from the environment, over any Store.

`open_store` wraps a SQLite or PostgreSQL store in `EncryptedStore` when
`encryption.key` (`AGENTLOG_ENCRYPTION_KEY`) holds one or more Fernet keys
(AES-128-CBC + HMAC-SHA256, from `cryptography`), comma-separated: the first
seals what is written, every one of them opens what is read, so a key is
rotated by putting the new one first and keeping the old ones until nothing
sealed with them is left. `encryption.fields` chooses what is sealed
(`content`, `metadata` or both); what is not sealed stays searchable and
filterable, what is sealed is found by no full-text search or metadata filter.

Sealed content is the text `agentlog:enc:v1:<token>`; sealed metadata is the
object `{"agentlog:enc:v1": "<token>"}` (still a JSON object, so every backend
stores it unchanged). The full-text index skips sealed content. A value no configured key opens is returned sealed, never
dropped: nothing is lost to a missing key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson

from agentlog.errors import ConfigError
from agentlog.storage.base import Page
from agentlog.storage.sql.textsearch import SEALED_PREFIX

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet

    from agentlog.model import Event, Session, WriteResult
    from agentlog.storage.base import EventQuery, Store

PREFIX = SEALED_PREFIX  # the search index skips content that starts with it
META_KEY = "agentlog:enc:v1"
FIELDS = ("content", "metadata")


def keyring(text: str, source: str = "AGENTLOG_ENCRYPTION_KEY") -> MultiFernet:
    """The keys in `text` (comma-separated Fernet keys, the sealing one first), or ConfigError."""
    try:
        from cryptography.fernet import Fernet, MultiFernet
    except ImportError:  # pragma: no cover - cryptography is a core dependency
        raise ConfigError(
            f"{source} is set but the cryptography package is missing: pip install cryptography"
        ) from None
    keys = []
    for position, key in enumerate((k.strip() for k in text.split(",") if k.strip()), 1):
        try:
            keys.append(Fernet(key))
        except (ValueError, TypeError):
            raise ConfigError(
                f"{source}: key {position} is not a Fernet key (44 characters of url-safe "
                "base64); make one with `agentlog db keygen`"
            ) from None
    if not keys:
        raise ConfigError(f"{source} holds no key; make one with `agentlog db keygen`")
    return MultiFernet(keys)


def new_key() -> str:
    """A fresh key for `encryption.key`."""
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def parse_fields(text: str, source: str = "encryption.fields") -> tuple[str, ...]:
    """`content`, `metadata` or both, from a comma-separated setting, or ConfigError."""
    fields = tuple(dict.fromkeys(f.strip() for f in text.split(",") if f.strip()))
    wrong = [f for f in fields if f not in FIELDS]
    if wrong or not fields:
        raise ConfigError(f"{source} is {text!r}; use content, metadata or content,metadata")
    return fields


class EncryptedStore:
    """A Store whose events' content and metadata are sealed on write and opened on read.

    Every other method is the inner store's own (sessions, counts, stats, facets and
    administration carry no event content)."""

    def __init__(self, inner: Store, keys: MultiFernet, fields: Sequence[str] = FIELDS) -> None:
        self._inner = inner
        self._keys = keys
        self._seal_content = "content" in fields
        self._seal_metadata = "metadata" in fields
        self.url = getattr(inner, "url", "")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __enter__(self) -> EncryptedStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<EncryptedStore {self._inner!r}>"

    def close(self) -> None:
        self._inner.close()

    # Named here, not only reached through __getattr__: runtime protocol checks
    # (`Maintainable`) look at the class on Python 3.12+.
    def check(self) -> list[str]:
        return self._inner.check()  # type: ignore[attr-defined]

    def vacuum(self) -> None:
        self._inner.vacuum()  # type: ignore[attr-defined]

    def backup(self, dest_path: Any) -> Any:
        return self._inner.backup(dest_path)  # type: ignore[attr-defined]

    @property
    def team_id(self) -> str | None:
        return self._inner.team_id

    def scoped(self, team_id: str | None, user_id: str | None = None) -> EncryptedStore:
        inner = self._inner.scoped(team_id, user_id)
        return EncryptedStore(inner, self._keys, self.fields)

    @property
    def fields(self) -> list[str]:
        """What this store seals."""
        sealed = (self._seal_content, self._seal_metadata)
        return [f for f, on in zip(FIELDS, sealed, strict=True) if on]

    # ------------------------------------------------------------ writing
    def write(self, sessions: Sequence[Session] = (), events: Sequence[Event] = ()) -> WriteResult:
        return self._inner.write(sessions, [self._sealed(e) for e in events])

    def _sealed(self, event: Event) -> Event:
        changes: dict[str, Any] = {}
        if self._seal_content and event.content is not None:
            changes["content"] = PREFIX + self._keys.encrypt(event.content.encode()).decode()
        if self._seal_metadata and event.metadata:
            token = self._keys.encrypt(orjson.dumps(event.metadata)).decode()
            changes["metadata"] = {META_KEY: token}
        return event.model_copy(update=changes) if changes else event

    # ------------------------------------------------------------ reading
    def get_event(self, event_id: str) -> Event:
        return self._opened(self._inner.get_event(event_id))

    def list_events(self, query: EventQuery) -> Page[Event]:
        page = self._inner.list_events(query)
        return Page([self._opened(e) for e in page.items], page.next_cursor)

    def list_event_records(self, query: EventQuery) -> Page[dict[str, Any]]:
        page = self._inner.list_event_records(query)
        return Page([self._opened_record(r) for r in page.items], page.next_cursor)

    def _opened(self, event: Event) -> Event:
        content = self.open_text(event.content)
        metadata = self.open_metadata(event.metadata)
        if content is event.content and metadata is event.metadata:
            return event
        return event.model_copy(update={"content": content, "metadata": metadata})

    def _opened_record(self, record: dict[str, Any]) -> dict[str, Any]:
        content = record.get("content")
        metadata = record.get("metadata")
        opened_content = self.open_text(content) if isinstance(content, str) else content
        if isinstance(metadata, dict):
            opened_metadata: Any = self.open_metadata(metadata)
        elif isinstance(metadata, str) and META_KEY in metadata:  # a record keeps it as JSON
            opened_metadata = orjson.dumps(self.open_metadata(orjson.loads(metadata))).decode()
        else:
            opened_metadata = metadata
        if opened_content is content and opened_metadata is metadata:
            return record
        return {**record, "content": opened_content, "metadata": opened_metadata}

    def open_text(self, text: str | None) -> str | None:
        """Sealed content opened; anything else (or what no key opens) as it is."""
        if text is None or not text.startswith(PREFIX):
            return text
        from cryptography.fernet import InvalidToken

        try:
            return self._keys.decrypt(text[len(PREFIX) :].encode()).decode()
        except (InvalidToken, ValueError):
            return text

    def open_metadata(self, metadata: dict[str, Any]) -> dict[str, Any]:
        """Sealed metadata opened; anything else (or what no key opens) as it is."""
        token = metadata.get(META_KEY) if len(metadata) == 1 else None
        if not isinstance(token, str):
            return metadata
        from cryptography.fernet import InvalidToken

        try:
            opened = orjson.loads(self._keys.decrypt(token.encode()))
        except (InvalidToken, ValueError):
            return metadata
        return opened if isinstance(opened, dict) else metadata


def encrypted(store: Store, key: str, fields: str = "content,metadata") -> Store:
    """`store` sealed with `key` (comma-separated Fernet keys), or `store` itself when empty."""
    if not key.strip():
        return store
    return EncryptedStore(store, keyring(key), parse_fields(fields))


__all__ = ["FIELDS", "META_KEY", "PREFIX", "EncryptedStore", "encrypted", "keyring", "new_key"]
