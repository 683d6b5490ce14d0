"""`agentlog.mcp.trace(...)`: record every message of a Python `mcp.Client` connection.

    async with agentlog.mcp.trace(Client(StdioServerParameters(...))) as client: ...
    # or: Client(agentlog.mcp.trace(params))  — params, a URL or any Transport

It wraps the client's transport streams: each message the client sends or
receives is mapped by the same `McpMapper` the proxy uses (one per connection,
so ids of two connections never pair) into the current session, or into a
session opened for the connection. Recording never raises into the client.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any

from agentlog.errors import UsageError
from agentlog.mcp.frames import CLIENT_TO_SERVER, SERVER_TO_CLIENT
from agentlog.mcp.mapping import McpMapper
from agentlog.sdk.links import current_link

if TYPE_CHECKING:
    from agentlog.sdk.client import AgentLog
    from agentlog.sdk.handle import SessionHandle

logger = logging.getLogger("agentlog")


class _Tap:
    """One connection's mapping into one session (a message sent under an adapter's link,
    e.g. by a LangGraph tool, goes to that link's session, under its event, answers too)."""

    def __init__(self, handle: SessionHandle, owned: bool) -> None:
        self.handle = handle
        self.owned = owned
        self.mapper = McpMapper(handle.id)
        self._version = 0
        self._warned = False
        self._routes: dict[str, SessionHandle] = {}  # event id -> where its answers go

    def record(self, item: Any, direction: str) -> None:
        try:
            message = getattr(item, "message", None)
            if message is None:  # an exception on the read stream: not a message
                return
            body = message.model_dump(by_alias=True, exclude_unset=True, mode="json")
            events = self.mapper.feed(body, direction, time.time())
            if self.mapper.context_version != self._version:
                self._version = self.mapper.context_version
                self.handle.update_metadata({"mcp": dict(self.mapper.context)})
            self._route(events, direction)
        except Exception as exc:  # the client must never notice the recorder
            if not self._warned:
                self._warned = True
                logger.warning("agentlog: could not record an MCP message: %r", exc)

    def _route(self, events: list[Any], direction: str) -> None:
        # A request goes where the sender's link points (and under its event); what
        # answers it follows the request, whichever task receives it.
        link = current_link() if direction == CLIENT_TO_SERVER else None
        routes = self._routes
        for event in events:
            target = routes.get(event.parent_id) if event.parent_id else None
            if target is None:
                target = self.handle
                if link is not None:
                    target = link[0]
                    if event.parent_id is None and link[1] is not None:
                        event = event.model_copy(update={"parent_id": link[1]})
            if target is not self.handle:
                routes[event.id] = target
                if len(routes) > 10_000:
                    del routes[next(iter(routes))]
            target.add_events([event])


class _Read:
    def __init__(self, inner: Any, tap: _Tap) -> None:
        self._inner = inner
        self._tap = tap

    def __getattr__(self, name: str) -> Any:  # e.g. `last_context`
        return getattr(self._inner, name)

    async def receive(self) -> Any:
        item = await self._inner.receive()
        self._tap.record(item, SERVER_TO_CLIENT)
        return item

    def __aiter__(self) -> _Read:
        return self

    async def __anext__(self) -> Any:
        item = await self._inner.__anext__()
        self._tap.record(item, SERVER_TO_CLIENT)
        return item

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def __aenter__(self) -> _Read:
        await self._inner.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> bool | None:
        result: bool | None = await self._inner.__aexit__(*exc)
        return result


class _Write:
    def __init__(self, inner: Any, tap: _Tap) -> None:
        self._inner = inner
        self._tap = tap

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def send(self, item: Any, /) -> None:
        self._tap.record(item, CLIENT_TO_SERVER)
        await self._inner.send(item)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def __aenter__(self) -> _Write:
        await self._inner.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> bool | None:
        result: bool | None = await self._inner.__aexit__(*exc)
        return result


class TracedTransport:
    """An `mcp` client Transport that records its traffic (see the module docstring)."""

    def __init__(
        self,
        inner: Any,
        *,
        session: SessionHandle | None = None,
        log: AgentLog | None = None,
        title: str | None = None,
    ) -> None:
        self.inner = inner
        self._session = session
        self._log = log
        self._title = title
        self._tap: _Tap | None = None

    def _open(self) -> _Tap:
        from agentlog.sdk.client import default_log

        link = current_link() if self._session is None else None
        handle = self._session or (link[0] if link is not None else None)
        if handle is not None:
            return _Tap(handle, owned=False)
        log = self._log or default_log()
        return _Tap(log.session(self._title or "MCP client", tags=["mcp"]), owned=True)

    async def __aenter__(self) -> tuple[Any, Any]:
        read, write = await self.inner.__aenter__()
        try:
            self._tap = self._open()
        except Exception as exc:
            logger.warning("agentlog: MCP traffic will not be recorded: %r", exc)
            return read, write
        return _Read(read, self._tap), _Write(write, self._tap)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        try:
            result: bool | None = await self.inner.__aexit__(exc_type, exc, tb)
        finally:
            tap, self._tap = self._tap, None
            if tap is not None:
                tap.handle.add_events(tap.mapper.finish("the connection closed before the answer"))
                if tap.owned:
                    tap.handle.end("failed" if exc is not None else "completed")
        return result


def _transport(server: Any) -> Any:
    from mcp import StdioServerParameters
    from mcp.client.stdio import stdio_client
    from mcp.client.streamable_http import streamable_http_client

    if isinstance(server, str):
        return streamable_http_client(server)
    if isinstance(server, StdioServerParameters):
        return stdio_client(server)
    if hasattr(server, "__aenter__"):
        return server
    raise UsageError(
        "agentlog.mcp.trace records a server given as a URL, StdioServerParameters or a "
        f"Transport; an in-process {type(server).__name__} sends no JSON-RPC to record"
    )


def trace(
    target: Any,
    *,
    session: SessionHandle | None = None,
    log: AgentLog | None = None,
    title: str | None = None,
) -> Any:
    """A recorded version of `target`: an `mcp.Client` (not yet entered) gives a new Client;
    a URL, `StdioServerParameters` or Transport gives a Transport to pass to `Client(...)`.

    Events go to `session`, else the session entered with `with` here, else a new
    session of `log` (default: the module default `AgentLog`) for the connection.
    """
    from mcp import Client

    if isinstance(target, Client):
        traced = TracedTransport(_transport(target.server), session=session, log=log, title=title)
        return dataclasses.replace(target, server=traced)
    return TracedTransport(_transport(target), session=session, log=log, title=title)
