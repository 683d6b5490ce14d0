"""`AgentLog`: where an agent's sessions go, plus the tool decorator and the module default.

`AgentLog()` writes to the local store (or the server when one is configured);
it owns one sink on the process-wide writer (`writer.py`), whose thread opens
the store lazily, so constructing an `AgentLog` never touches the disk or the
network. It raises only on a set-up mistake (a store URL of no known kind, a bad
redaction pattern); after that, never into the agent.
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

from agentlog.model import (
    MAX_AGENT_ID_CHARS,
    MAX_DESCRIPTION_CHARS,
    MAX_TAG_CHARS,
    MAX_TAGS,
    MAX_TITLE_CHARS,
    check_metadata,
    new_id,
    normalize_id,
)
from agentlog.sdk import lifecycle
from agentlog.sdk import writer as _w
from agentlog.sdk.handle import SessionHandle, ToolCall, current_session
from agentlog.sdk.identity import replay_metadata, resolve_agent_id, sdk_metadata

if TYPE_CHECKING:
    from agentlog.model import Event, Session, WriteResult
    from agentlog.sdk.transport import SpoolingTransport
    from agentlog.storage.base import Store

logger = logging.getLogger("agentlog")

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_MAX_QUEUE = _w.DEFAULT_MAX_QUEUE


class AgentLog:
    """Records sessions and events to a local store, a server, or a given `Store`.

    `db` is a SQLite path or store URL; `server`/`api_key` send to an `agentlog
    serve` (spooling to the local `spool.db` while it is unreachable); `store`
    uses an already-open Store as is (you close it). `agent_id` is the default
    agent for every session. `integration`/`integration_version` name the
    framework adapter in each session's metadata. `redact` (regexes, or the presets
    `@secrets` and `@email`) and `redact_keys` (metadata keys, or `@secrets`) mask
    what matches in every session and event on the writer thread, before anything is
    written or sent; the settings `sdk.redact` / `sdk.redact_keys` add to them. A bad
    pattern raises `UsageError` here, at set-up: recording unmasked is never the fallback.
    """

    def __init__(
        self,
        db: str | Path | None = None,
        server: str | None = None,
        api_key: str | None = None,
        agent_id: str | None = None,
        *,
        store: Any = None,
        batch_size: int | None = None,
        flush_interval: float | None = None,
        spool: str | Path | None = None,
        integration: str | None = None,
        integration_version: str | None = None,
        max_queue: int = DEFAULT_MAX_QUEUE,
        redact: Sequence[str] = (),
        redact_keys: Sequence[str] = (),
    ) -> None:
        self.integration = integration
        self.integration_version = integration_version
        self.closed = False
        self._mcp_session: SessionHandle | None = None
        settings = _load_settings(
            db=str(db) if db is not None else None,
            server=server,
            api_key=api_key,
            agent_id=agent_id,
            sdk_batch_size=batch_size,
            sdk_flush_interval=flush_interval,
        )
        self.agent_id: str | None = settings.get("agent_id") or None
        # A server takes MAX_BATCH_EVENTS a request: the writer gathers no more for it.
        remote = False
        if store is not None:
            self.url: str = getattr(store, "url", repr(store))
            open_transport: Callable[[], _w.Transport] = _borrowed(store)
            remote = getattr(store, "backend", None) == "remote"
        elif db is not None and server is None:
            self.url = str(db)
            open_transport = functools.partial(_open_local, str(db))
        elif settings.uses_server():
            self.url = settings.server or ""
            remote = True
            open_transport = functools.partial(
                _open_remote, settings.server, settings.api_key, str(spool) if spool else None
            )
        else:
            self.url = settings.db
            open_transport = functools.partial(_open_local, settings.db)
        if not remote and store is None:
            from agentlog.storage import check_store_url

            check_store_url(self.url)  # a mistyped scheme is a set-up error, as a bad pattern is
        if store is None:
            # The local store and the spool are sealed with this key: a bad one would fail
            # every write on the writer thread and lose the batches, so it stops set-up.
            _check_encryption(settings)
        self._sink = _w.Sink(
            open_transport=open_transport,
            group_rows=_w.MAX_BATCH_EVENTS if remote else _w.GROUP_ROWS,
            batch_size=max(1, int(settings.get("sdk.batch_size"))),
            flush_interval=max(0.001, float(settings.get("sdk.flush_interval"))),
            name=self.url,
            max_queue=max_queue,
            redactor=_redactor(settings, redact, redact_keys),
        )
        _w.register(self._sink)
        lifecycle.install()

    def __repr__(self) -> str:
        return f"<AgentLog {self.url}>"

    def __enter__(self) -> AgentLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ counters
    @property
    def dropped(self) -> int:
        """Records refused (bad input, full queue, rejected by the store)."""
        return self._sink.dropped

    @property
    def lost(self) -> int:
        """Valid records the store failed to take after every retry."""
        return self._sink.lost

    @property
    def written(self) -> int:
        """Events the store has accepted."""
        return self._sink.written

    # ------------------------------------------------------------ sessions
    def session(
        self,
        title: str = "",
        *,
        description: str = "",
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
        parent_session_id: str | None = None,
        integration: str | None = None,
        integration_version: str | None = None,
    ) -> SessionHandle:
        """Start a session (or join the one in AGENTLOG_SESSION_ID). Use with `with`.

        `session_id` resumes (and updates) a session with a known id; otherwise,
        when AGENTLOG_SESSION_ID is set, events join that session and its row is
        left as its owner wrote it.
        """
        return self._open_session(
            title,
            description=description,
            tags=tags,
            metadata=metadata,
            agent_id=agent_id,
            session_id=session_id,
            parent_session_id=parent_session_id,
            integration=integration,
            integration_version=integration_version,
            join=True,
        )

    def _open_session(
        self,
        title: str,
        *,
        description: str = "",
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
        parent_session_id: str | None = None,
        integration: str | None = None,
        integration_version: str | None = None,
        join: bool,
    ) -> SessionHandle:
        agent = self._text(
            resolve_agent_id(agent_id, self.agent_id), MAX_AGENT_ID_CHARS, "agent id"
        )
        agent = agent or resolve_agent_id()
        joined = False
        sid: str | None = None
        try:
            if session_id:
                sid = normalize_id(session_id, "session_id")
            elif join and os.environ.get("AGENTLOG_SESSION_ID"):
                sid = normalize_id(os.environ["AGENTLOG_SESSION_ID"], "AGENTLOG_SESSION_ID")
                joined = True
        except ValueError as exc:
            self._sink.warn_once("session_id", f"{exc}; starting a new session instead")
            sid, joined = None, False
        sid = sid or new_id()
        now = datetime.now(UTC)
        meta = dict(metadata) if isinstance(metadata, dict) else {}
        if metadata is not None and not isinstance(metadata, dict):
            self._sink.warn_once("session_metadata", "session metadata must be a dict; ignored")
        meta["agentlog"] = sdk_metadata(
            integration or self.integration, integration_version or self.integration_version
        )
        try:  # metadata over the limits costs itself, not the session's row (title, end)
            meta = check_metadata(meta, "session metadata")
        except ValueError as exc:
            self._sink.warn_once("session_metadata", f"{exc}; the session is kept without it")
            meta = {"agentlog": meta["agentlog"]}
        if parent_session_id is None:  # a replayed run's root session names what it replays
            for key, value in replay_metadata().items():
                meta.setdefault(key, value)
        fields: dict[str, Any] = {
            "id": sid,
            "title": self._text(title, MAX_TITLE_CHARS, "title"),
            "description": self._text(description, MAX_DESCRIPTION_CHARS, "description"),
            "tags": self._tags(tags),
            "metadata": meta,
            "parent_session_id": parent_session_id,
            "status": "active",
            "created_at": now,
            "updated_at": now,
        }
        handle = SessionHandle(self, sid, fields, agent, joined)
        if not joined:
            self._enqueue_session(fields)
        return handle

    def _text(self, value: Any, limit: int, what: str) -> str:
        """A session's text field cut to what its row holds (a 5,000-character title, say the
        user's first message, dropped the whole row: '(untitled)', active for ever)."""
        if value is None:
            return ""
        if not isinstance(value, str):
            try:
                value = str(value)
            except Exception:
                self._sink.warn_once(f"session_{what}", f"session {what} is not text; left out")
                return ""
        if len(value) > limit:
            self._sink.warn_once(
                f"session_{what}",
                f"session {what} is {len(value):,} characters; the limit is {limit:,}, so it was cut",
            )
            return value[:limit]
        return value

    def _tags(self, tags: Any) -> list[str]:
        """Tags the session row can hold: a tag problem costs the tags, never the session."""
        if tags is None:
            return []
        if isinstance(tags, str):
            tags = [tags]
        if not isinstance(tags, list | tuple | set | frozenset):
            self._sink.warn_once("session_tags", "session tags must be a list of strings; ignored")
            return []
        out = [t for t in tags if isinstance(t, str) and len(t) <= MAX_TAG_CHARS]
        if len(out) != len(tags) or len(out) > MAX_TAGS:
            self._sink.warn_once(
                "session_tags",
                f"session tags are strings of at most {MAX_TAG_CHARS} characters, at most "
                f"{MAX_TAGS} of them; the others were left out",
            )
        return out[:MAX_TAGS]

    def _enqueue_session(self, fields: dict[str, Any]) -> None:
        if self.closed:
            return
        _w.QUEUE.append((self._sink, _w.SESSION, fields))

    def log_mcp_message(
        self, message: Any, direction: str = "client->server", *, at: float | None = None
    ) -> list[str]:
        """An MCP message into the current session of this log (or one opened for MCP, kept open).

        See `SessionHandle.log_mcp_message`.
        """
        handle = current_session()
        if handle is None or handle._log is not self:
            if self._mcp_session is None:
                self._mcp_session = self._open_session("MCP", join=True)
            handle = self._mcp_session
        return handle.log_mcp_message(message, direction, at=at)

    # ------------------------------------------------------------ decorator
    @overload
    def tool(self, fn: F, /) -> F: ...
    @overload
    def tool(self, fn: str | None = None, /, *, name: str | None = None) -> Callable[[F], F]: ...

    def tool(self, fn: Any = None, /, *, name: str | None = None) -> Any:
        """Trace a function (sync or async) as a tool call: `@log.tool`, `@log.tool("name")`
        or `@log.tool(name="name")`.

        It logs into the current session; outside any, it opens one titled
        after the function for the length of the call.
        """
        if callable(fn):
            return trace_tool(self, fn, name)
        return lambda f: trace_tool(self, f, fn or name)

    # ------------------------------------------------------------ durability
    def flush(self, timeout: float | None = 30.0) -> bool:
        """Wait until everything queued so far is committed; False on timeout or a lost batch.

        Committed means it survives a crash of this process. With the default
        `sqlite.synchronous = normal` a power loss may still undo the last commits;
        set AGENTLOG_SQLITE_SYNCHRONOUS=full to survive that too.
        """
        try:
            return _w.writer().flush(timeout)
        except Exception as exc:
            self._sink.internal_error(exc)
            return False

    def close(self, timeout: float | None = 30.0) -> bool:
        """Flush and close the store (later events are ignored)."""
        if self.closed:
            return True
        if self._mcp_session is not None:
            self._mcp_session.end()
        self.closed = True
        try:
            return _w.writer().close_sink(self._sink, timeout)
        except Exception as exc:
            self._sink.internal_error(exc)
            return False


# ---------------------------------------------------------------- transports
def _load_settings(**flags: Any) -> Any:
    from agentlog.config import Settings

    try:
        return Settings.load(**flags)
    except Exception as exc:  # a broken config file must not stop the agent...
        if _asks_for_redaction():
            # ...unless it asks for masking: never record unmasked. The set-up error is
            # then the one message (no "using the defaults" line that it contradicts).
            raise
        logger.warning("agentlog: %s; using the defaults and the arguments given", exc)
        return _defaults(flags, exc)


def _redactor(settings: Any, patterns: Sequence[str], keys: Sequence[str]) -> Any:
    """The sink's Redactor from the arguments and the settings, or None when nothing is asked."""
    if isinstance(patterns, str) or isinstance(keys, str):
        from agentlog.errors import UsageError

        raise UsageError("redact and redact_keys take lists, e.g. redact=['@secrets']")
    from_settings = [p for p in str(settings.get("sdk.redact") or "").split(",") if p]
    key_settings = [k.strip() for k in str(settings.get("sdk.redact_keys") or "").split(",")]
    all_patterns = [*patterns, *from_settings]
    all_keys = [*keys, *(k for k in key_settings if k)]
    if not all_patterns and not all_keys:
        return None
    from agentlog.transfer.redact import Redactor

    return Redactor(all_patterns, all_keys, labels=("redact", "redact_keys"))


def _check_encryption(settings: Any) -> None:
    """ConfigError when `encryption.key` / `encryption.fields` would not open a store."""
    key = str(settings.get("encryption.key") or "")
    if not key.strip():
        return
    from agentlog.storage.encrypted import keyring, parse_fields

    keyring(key)
    parse_fields(str(settings.get("encryption.fields")))


def _asks_for_redaction() -> bool:
    """Whether the environment or the config file mentions the SDK's redaction settings."""
    if os.environ.get("AGENTLOG_SDK_REDACT") or os.environ.get("AGENTLOG_SDK_REDACT_KEYS"):
        return True
    from agentlog.config import config_path

    try:
        return "redact" in config_path().read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def _defaults(flags: dict[str, Any], load_error: Exception | None = None) -> Any:
    from agentlog.config import SETTINGS, Settings, coerce_setting
    from agentlog.errors import ConfigError

    values = {key: s.default for key, s in SETTINGS.items()}
    for key, setting in SETTINGS.items():
        flag = flags.get(key.replace(".", "_"))
        if flag is not None:
            try:
                values[key] = coerce_setting(setting, flag, "the arguments")
            except ConfigError as exc:
                logger.warning("agentlog: ignoring %s=%r (%s)", key, flag, exc)
    return Settings(values, {key: "default" for key in values}, load_error)


def _open_local(path: str) -> Store:
    from agentlog.storage import open_store

    if "://" not in path:
        from agentlog.storage.private_files import private_folder

        private_folder(Path(path).expanduser().parent)
    return open_store(path)


def _open_remote(url: str, api_key: str | None, spool: str | None) -> SpoolingTransport:
    from agentlog.sdk.transport import open_server_transport

    return open_server_transport(url, api_key=api_key, spool_path=spool)


class _Borrowed:
    """A caller's Store: written to, never closed by the SDK."""

    def __init__(self, store: _w.Transport) -> None:
        self.store = store

    def write(self, sessions: Sequence[Session] = (), events: Sequence[Event] = ()) -> WriteResult:
        return self.store.write(sessions, events)

    def close(self) -> None:
        pass


def _borrowed(store: _w.Transport) -> Callable[[], _w.Transport]:
    return lambda: _Borrowed(store)


# ---------------------------------------------------------------- the tool decorator
def _binder(fn: Callable[..., Any]) -> Callable[[tuple[Any, ...], dict[str, Any]], Any]:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return lambda a, k: {"args": list(a), "kwargs": k} if k else list(a)
    first = next(iter(sig.parameters), None)
    skip = first if first in ("self", "cls") else None

    def bind(a: tuple[Any, ...], k: dict[str, Any]) -> Any:
        try:
            args = dict(sig.bind_partial(*a, **k).arguments)
        except TypeError:
            return {"args": list(a), "kwargs": k}
        if skip is not None:
            args.pop(skip, None)
        return args

    return bind


def trace_tool(log: AgentLog, fn: F, name: str | None) -> F:
    """Wrap `fn` so each call is a timed TOOL_CALL (result or error logged)."""
    tool_name = name or getattr(fn, "__name__", None) or "tool"
    title = getattr(fn, "__qualname__", tool_name)
    bind = _binder(fn)

    def open_call(a: tuple[Any, ...], k: dict[str, Any]) -> tuple[SessionHandle | None, ToolCall]:
        session = current_session()
        owned = None
        if session is None:
            owned = session = log.session(title).__enter__()
        return owned, session.tool_call(tool_name, bind(a, k)).__enter__()

    def close_call(owned: SessionHandle | None, call: ToolCall, exc: BaseException | None) -> None:
        exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else (None, None, None)
        call.__exit__(*exc_info)
        if owned is not None:
            owned.__exit__(*exc_info)

    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*a: Any, **k: Any) -> Any:
            owned, call = open_call(a, k)
            try:
                result = await fn(*a, **k)
            except BaseException as exc:
                close_call(owned, call, exc)
                raise
            call.result(result)
            close_call(owned, call, None)
            return result

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(fn)
    def wrapper(*a: Any, **k: Any) -> Any:
        owned, call = open_call(a, k)
        try:
            result = fn(*a, **k)
        except BaseException as exc:
            close_call(owned, call, exc)
            raise
        call.result(result)
        close_call(owned, call, None)
        return result

    return wrapper  # type: ignore[return-value]


# ---------------------------------------------------------------- module-level default
_default: AgentLog | None = None
_default_lock = threading.Lock()


def default_log() -> AgentLog:
    """The process's default `AgentLog()` (created on first use)."""
    global _default
    if _default is None or _default.closed:
        with _default_lock:
            if _default is None or _default.closed:
                _default = AgentLog()
    return _default


def session(title: str = "", **kwargs: Any) -> SessionHandle:
    """`agentlog.session(...)`: a session on the default `AgentLog`."""
    return default_log().session(title, **kwargs)


def tool(fn: Any = None, /, *, name: str | None = None) -> Any:
    """`@agentlog.tool`: trace a function as a tool call on the default `AgentLog`."""
    if callable(fn):
        return trace_tool(_LazyDefault(), fn, name)  # type: ignore[arg-type]
    return lambda f: trace_tool(_LazyDefault(), f, fn or name)  # type: ignore[arg-type]


def flush(timeout: float | None = 30.0) -> bool:
    """Flush the default `AgentLog` (and everything else queued in this process)."""
    return default_log().flush(timeout)


class _LazyDefault:
    """Stands in for the default log so decorating does not create it at import time."""

    def session(self, title: str = "", **kwargs: Any) -> SessionHandle:
        return default_log().session(title, **kwargs)
