"""The `Store` protocol every backend implements, and the query and page types it speaks.

SQLite, PostgreSQL and the HTTP client (`RemoteStore`) all implement this one
interface, so the SDK, CLI, TUI, server and migrate work unchanged against any
of them. A feature that needs a new query adds a method here, with a contract
test in `tests/storage/` that runs against every backend.

The protocol is synchronous on purpose: SQLite and psycopg calls block anyway, the
SDK writes from its own thread, and the server runs store calls in a thread pool
(ARCHITECTURE.md, "Hot paths"); one sync interface serves every face.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import (
    TYPE_CHECKING,
    Any,
    Generic,
    Literal,
    Protocol,
    TypeVar,
    cast,
    runtime_checkable,
)

import orjson

from agentlog.errors import InvalidCursor, InvalidInput, NotFound
from agentlog.model import (
    AgentSummary,
    Event,
    EventStatus,
    EventType,
    Session,
    SessionStatus,
    SessionSummary,
    SessionUpdate,
    StatsReport,
    WriteResult,
    from_us,
    to_us,
)

if TYPE_CHECKING:
    from agentlog.storage.tree import TreeTotals

T = TypeVar("T")
Order = Literal["asc", "desc"]
MAX_PAGE = 1000

SessionSort = Literal[
    "last_event_at",
    "created_at",
    "updated_at",
    "title",
    "event_count",
    "error_count",
    "duration_ms",
    "input_tokens",
    "output_tokens",
    "cost_usd",
]


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of results and the opaque cursor for the next (None at the end)."""

    items: list[T]
    next_cursor: str | None = None

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def _no_nul(*fields: tuple[str, Any]) -> None:
    """Refuse a NUL character in a filter: no stored text can hold one (see model.encodable),
    and PostgreSQL cannot even compare with it; the same 4xx on every backend."""
    for name, value in fields:
        values = value if isinstance(value, list | tuple) else (value,)
        if any(isinstance(v, str) and "\x00" in v for v in values):
            raise InvalidInput(f"{name} contains a NUL character (\\x00); remove it")


@dataclass(frozen=True, slots=True)
class EventQuery:
    """Which events to read. Every field narrows; None means "any"."""

    session_id: str | None = None
    types: Sequence[EventType] | None = None
    agents: Sequence[str] | None = None
    names: Sequence[str] | None = None  # tool, node, model or MCP method
    status: EventStatus | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    text: str | None = None  # full-text search over content and name
    metadata: dict[str, str] = field(default_factory=dict)  # key=value, value as text
    parent_id: str | None = None
    order: Order = "asc"  # by (timestamp, id)
    limit: int = 100
    cursor: str | None = None

    def __post_init__(self) -> None:
        _no_nul(
            ("session_id", self.session_id),
            ("agent", self.agents),
            ("name", self.names),
            ("text", self.text),
            ("metadata", [*self.metadata.keys(), *self.metadata.values()]),
            ("parent_id", self.parent_id),
        )

    def fingerprint(self) -> str:
        """What a cursor is bound to: the query without its page position."""
        return _fingerprint(
            "events",
            self.session_id,
            sorted(str(t) for t in self.types or ()),
            sorted(self.agents or ()),
            sorted(self.names or ()),
            self.status,
            self.since and to_us(self.since),
            self.until and to_us(self.until),
            self.text,
            sorted(self.metadata.items()),
            self.parent_id,
            self.order,
        )


@dataclass(frozen=True, slots=True)
class SessionQuery:
    """Which sessions to list. `text` searches title and description."""

    status: SessionStatus | None = None
    tags: Sequence[str] | None = None  # every tag must be present
    agent: str | None = None
    since: datetime | None = None  # last activity at or after
    until: datetime | None = None  # created before
    text: str | None = None
    parent_session_id: str | None = None
    replay_of: str | None = None  # only replays of this session (metadata["replay_of"])
    sort: SessionSort = "last_event_at"
    order: Order = "desc"
    limit: int = 100
    cursor: str | None = None

    def __post_init__(self) -> None:
        _no_nul(
            ("tag", self.tags),
            ("agent", self.agent),
            ("text", self.text),
            ("parent_session_id", self.parent_session_id),
            ("replay_of", self.replay_of),
        )

    def fingerprint(self) -> str:
        return _fingerprint(
            "sessions",
            self.status,
            sorted(self.tags or ()),
            self.agent,
            self.since and to_us(self.since),
            self.until and to_us(self.until),
            self.text,
            self.parent_session_id,
            self.replay_of,
            self.sort,
            self.order,
        )


@dataclass(frozen=True, slots=True)
class StoreInfo:
    """What `agentlog db info` shows."""

    url: str
    backend: str
    schema_version: int
    sessions: int
    events: int
    size_bytes: int | None = None
    oldest_event_at: datetime | None = None
    newest_event_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Deleted:
    """What `Store.delete_session_tree` erased: sessions (the one named and every session
    below it) and their events."""

    sessions: int
    events: int

    @property
    def sub_sessions(self) -> int:
        """The sessions erased below the one named (children, grandchildren, ...)."""
        return self.sessions - 1


@dataclass(frozen=True, slots=True)
class SessionChanges:
    """Sessions changed since a token (most recent change first) and the token for next time."""

    sessions: list[SessionSummary]
    token: str
    more: bool = False  # more changed than `limit`: re-list instead of applying these


# A change is stamped with the writer's clock when its transaction starts; a
# reader re-reads this much before its token so that a transaction committing
# late, or a writer whose clock is a little behind, is never skipped.
CHANGE_MARGIN_US = 5_000_000


def change_token(changed_us: int) -> str:
    """The opaque "changed since" token for a store's newest change stamp."""
    return f"c{changed_us}"


def change_since(token: str) -> int:
    """The change stamp in `token`, or InvalidCursor if it is not one `changed_sessions` gave."""
    if token.startswith("c") and token[1:].isdigit():
        return int(token[1:])
    raise InvalidCursor(
        "the changes token is not valid; use the token from the previous changed_sessions "
        "answer, or none to start"
    )


# ---------------------------------------------------------------- cursors
def _fingerprint(*parts: Any) -> str:
    raw = orjson.dumps(parts, default=str)
    return hashlib.blake2b(raw, digest_size=6).hexdigest()


def encode_cursor(fingerprint: str, key: Sequence[Any]) -> str:
    """An opaque, URL-safe cursor: the last row's sort key, bound to its query."""
    raw = orjson.dumps({"q": fingerprint, "k": list(key)})
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str, fingerprint: str) -> list[Any]:
    """The sort key in `cursor`, or InvalidCursor if it is malformed or from another query."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
        key = data["k"]
        if not isinstance(key, list):
            raise TypeError
    except Exception:
        raise InvalidCursor(
            "the cursor is not valid; use the next_cursor value from the previous page"
        ) from None
    if data.get("q") != fingerprint:
        raise InvalidCursor(
            "the cursor belongs to a different query; repeat the same filters or start "
            "again without a cursor"
        )
    return key


def event_cursor(query: EventQuery, timestamp_us: int, event_id: str) -> str:
    """Cursor positioned after the event with this (timestamp, id) in `query`'s order."""
    return encode_cursor(query.fingerprint(), [timestamp_us, event_id])


def event_key(event: Event) -> tuple[int, str]:
    return (to_us(event.timestamp), event.id)


def redact_url(url: str) -> str:
    """The URL without a password: for messages, logs and checkpoint names."""
    import re

    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", url)


# ---------------------------------------------------------------- protocol
@runtime_checkable
class Store(Protocol):
    """Everything AgentLog reads and writes goes through this interface."""

    url: str

    @property
    def team_id(self) -> str | None:
        """The tenant this view is scoped to; None = every row."""
        ...

    def scoped(self, team_id: str | None, user_id: str | None = None) -> Store:
        """A view of the same store that sees and writes only `team_id`'s rows.

        Sessions and events are keyed by (team, id): ids are per team, so another
        team's id is, to this view, simply a new one (`storage/sql/teams.py`).
        """
        ...

    def close(self) -> None: ...

    # -- writes (idempotent on id; one transaction per call)
    def write(self, sessions: Sequence[Session] = (), events: Sequence[Event] = ()) -> WriteResult:
        """Upsert sessions, then insert events (existing ids are duplicates, not errors).

        Events for a session that does not exist create it (untitled, active).
        Items that fail (e.g. invalid, or in an unscoped view a session id several
        teams hold) are reported in `WriteResult.errors` by index into `events`;
        the rest are stored.
        """
        ...

    def update_session(self, session_id: str, changes: SessionUpdate) -> SessionSummary: ...

    def delete_session(self, session_id: str) -> int:
        """Erase this one session and its events; return the number of events erased.

        Its child sessions are kept, still naming it as their parent: this is for
        writing a session again in place (rebuild, `migrate --overwrite`, the spool's
        sync). To erase a run, use `delete_session_tree`.
        """
        ...

    def delete_session_tree(self, session_id: str) -> Deleted:
        """Erase a session, every session below it (`parent_session_id`, at any depth: a
        supervisor's workers, their sub-agents) and all their events, in one transaction.

        A cycle of parent ids ends; only sessions of the named session's team are erased.
        """
        ...

    def prune(self, before: datetime) -> int:
        """Erase sessions whose last activity is before `before`; return sessions erased."""
        ...

    # -- reads
    def get_session(self, session_id: str) -> SessionSummary:
        """The session with its aggregates, or NotFound."""
        ...

    def list_sessions(self, query: SessionQuery) -> Page[SessionSummary]: ...

    def count_sessions(self, query: SessionQuery) -> int: ...

    def changed_sessions(self, since: str | None = None, limit: int = 200) -> SessionChanges:
        """Sessions created, written to or updated since `since` (a token from an earlier answer).

        Without `since`, no sessions and the token of the store's newest change:
        a live view lists once, then polls with one call per refresh. Sessions
        changed just before the token may come again (see CHANGE_MARGIN_US);
        `more` says over `limit` changed, and the view should list afresh.
        """
        ...

    def tree_totals(self, session_ids: Sequence[str]) -> dict[str, TreeTotals]:
        """Each of these sessions with every session below it (`parent_session_id`, at any
        depth, in its own team) summed, in one query however many are asked: a supervisor's
        tokens are on its workers' sessions. Ids this view does not see are left out."""
        ...

    def get_event(self, event_id: str) -> Event: ...

    def list_events(self, query: EventQuery) -> Page[Event]:
        """A page of events in (timestamp, id) order; `text` searches the full-text index."""
        ...

    def list_event_records(self, query: EventQuery) -> Page[dict[str, Any]]:
        """`list_events` as JSON-ready dicts: the same page and cursor, each item `event_record(event)`.

        Exports stream every event through this; a backend can build the dicts
        straight from its rows instead of building an Event first.
        """
        ...

    def count_events(self, query: EventQuery) -> int: ...

    def facets(self, query: EventQuery) -> dict[str, dict[str, int]]:
        """Counts of matching events by "type", "agent" and "status" (for filter toggles)."""
        ...

    def event_keys(self, query: EventQuery) -> list[tuple[int, str]]:
        """Every matching (timestamp_us, id) in order, ignoring limit/cursor.

        Cheap ordering keys for virtualised views: the TUI loads these first,
        then fetches bodies by `event_cursor` around the viewport.
        """
        ...

    def stats(self, query: EventQuery) -> StatsReport:
        """Performance profile of the matching events (limit/cursor ignored)."""
        ...

    def agents(self, since: datetime | None = None) -> list[AgentSummary]: ...

    def info(self) -> StoreInfo: ...


# ---------------------------------------------------------------- helpers on any Store
def session_exists(store: Store, session_id: str) -> bool:
    """Whether `store` holds the session `session_id` (that its caller may see)."""
    try:
        store.get_session(session_id)
    except NotFound:
        return False
    return True


def iter_events(store: Store, query: EventQuery, page_size: int = 1000) -> Iterator[Event]:
    """Every matching event, streamed page by page (constant memory)."""
    from dataclasses import replace

    q = replace(query, limit=min(page_size, MAX_PAGE), cursor=query.cursor)
    while True:
        page = store.list_events(q)
        yield from page.items
        if not page.next_cursor:
            return
        q = replace(q, cursor=page.next_cursor)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@functools.lru_cache(maxsize=4096)
def _second_text(second: int) -> str:
    return (_EPOCH + timedelta(seconds=second)).isoformat()[:19]


def ts_text_us(us: int) -> str:
    """Epoch microseconds as ISO 8601 UTC with microseconds and `Z` (the export form).

    The same text as `isoformat(timespec="microseconds")` with `Z`; the date and
    time of day are cached per second, since events of a session share seconds.
    """
    second, micro = divmod(us, 1_000_000)
    return f"{_second_text(second)}.{micro:06d}Z"


def ts_text(dt: datetime) -> str:
    """A datetime in the export form (naive is taken as UTC)."""
    if dt.tzinfo is not UTC:
        dt = dt.astimezone(UTC) if dt.tzinfo is not None else dt.replace(tzinfo=UTC)
    return dt.isoformat(timespec="microseconds")[:-6] + "Z"


def event_record(event: Event) -> dict[str, Any]:
    """An event as its JSON-ready dict: the export record and `list_event_records`' items."""
    return {
        "id": event.id,
        "session_id": event.session_id,
        "timestamp": ts_text(event.timestamp),
        "type": event.type.value,
        "agent_id": event.agent_id,
        "name": event.name,
        "content": event.content,
        "metadata": event.metadata,
        "parent_id": event.parent_id,
        "duration_ms": event.duration_ms,
        "status": event.status.value,
        "input_tokens": event.input_tokens,
        "output_tokens": event.output_tokens,
        "cost_usd": event.cost_usd,
        "cache_read_tokens": event.cache_read_tokens,
        "cache_creation_tokens": event.cache_creation_tokens,
        "reasoning_tokens": event.reasoning_tokens,
    }


def event_records_page(page: Page[Event]) -> Page[dict[str, Any]]:
    """A page of events as `list_event_records` returns it (for backends that build Events anyway)."""
    return Page([event_record(e) for e in page.items], page.next_cursor)


def session_view(store: Store, session: Session) -> Store:
    """The view of `store` to read `session` by its id: its team's, when `store` sees every team.

    Ids are per team (`storage/sql/teams.py`), so a view over several teams cannot
    tell two teams' sessions of one id apart; a team's own view always can.
    """
    if session.team_id and store.team_id is None:
        return store.scoped(session.team_id)
    return store


def iter_sessions(
    store: Store, query: SessionQuery, page_size: int = 500
) -> Iterator[SessionSummary]:
    from dataclasses import replace

    q = replace(query, limit=min(page_size, MAX_PAGE))
    while True:
        page = store.list_sessions(q)
        yield from page.items
        if not page.next_cursor:
            return
        q = replace(q, cursor=page.next_cursor)


@runtime_checkable
class Maintainable(Store, Protocol):
    """A Store this machine maintains itself (a local SQLite file): check, vacuum, backup."""

    def check(self) -> list[str]:
        """Problems found by an integrity check (empty: none)."""
        ...

    def vacuum(self) -> None:
        """Reclaim free space and clear index tombstones."""
        ...

    def backup(self, dest_path: str | Path) -> Path:
        """An online, consistent copy of the store at `dest_path`."""
        ...


@runtime_checkable
class WritesRows(Protocol):
    """A store that takes events as checked rows (the local SQLite store): the SDK's writer,
    `agentlog import` and the API's batch route hand it rows from `agentlog.rowcheck`
    instead of building an Event per event. A wrapper that changes what is stored
    (`storage.encrypted`) must not offer this."""

    def write_rows(
        self, sessions: Sequence[Session] = (), rows: Sequence[Sequence[Any]] = ()
    ) -> WriteResult:
        """`Store.write` of events in `storage.sql.rows.event_values`' column order, values
        the model accepts (nothing is checked again); errors index into `rows`."""
        ...


def writes_rows(store: object) -> WritesRows | None:
    """`store` if it takes checked rows itself (looked up on its class: a wrapper that
    forwards unknown attributes must not pass a store's own `write_rows` through)."""
    return store if callable(getattr(type(store), "write_rows", None)) else None  # type: ignore[return-value]


@runtime_checkable
class ErasesUsers(Store, Protocol):
    """A Store that records who created each session (the SQLite and PostgreSQL stores)."""

    def erase_user_sessions(self, user_id: str, *, transfer: bool = False) -> int:
        """The sessions `user_id` created, in this view: erased with their events, or with
        `transfer` kept for their team with no creator recorded. Returns how many."""
        ...


@runtime_checkable
class MonthPartitioned(Store, Protocol):
    """A Store whose events sit in monthly partitions (PostgreSQL): made ahead, dropped whole."""

    def maintain_partitions(self) -> list[str]:
        """Make this month's partitions and those ahead, move rows out of the default
        partition into their months; return every month that has partitions (YYYY-MM)."""
        ...

    def drop_expired_months(self, horizons: Mapping[str, datetime]) -> list[str]:
        """Drop every month that ends before the horizon of every team holding sessions
        (`horizons`: team key -> oldest time it keeps; a team missing from it keeps
        everything, so then nothing is dropped); return the months dropped (YYYY-MM)."""
        ...


def erases_users(store: Store) -> ErasesUsers | None:
    """`store` if it can erase a user's sessions, else None.

    Asked of the instance, not with isinstance: a wrapper such as `EncryptedStore`
    forwards these methods through `__getattr__`, which runtime protocol checks
    do not see on Python 3.12+.
    """
    return (
        cast(ErasesUsers, store) if callable(getattr(store, "erase_user_sessions", None)) else None
    )


def month_partitioned(store: Store) -> MonthPartitioned | None:
    """`store` if its events sit in monthly partitions (PostgreSQL), else None (see `erases_users`)."""
    names = ("maintain_partitions", "drop_expired_months")
    if all(callable(getattr(store, name, None)) for name in names):
        return cast(MonthPartitioned, store)
    return None


__all__ = [
    "MAX_PAGE",
    "Deleted",
    "ErasesUsers",
    "EventQuery",
    "Maintainable",
    "MonthPartitioned",
    "Order",
    "Page",
    "SessionQuery",
    "SessionSort",
    "Store",
    "StoreInfo",
    "decode_cursor",
    "encode_cursor",
    "erases_users",
    "event_cursor",
    "event_key",
    "event_record",
    "event_records_page",
    "from_us",
    "iter_events",
    "iter_sessions",
    "month_partitioned",
    "redact_url",
    "to_us",
    "ts_text",
    "ts_text_us",
]
