"""Where work done right now belongs: the session, and the event it serves, an adapter knows of.

`current_session()` knows only a session entered with `with`. A framework
adapter (the LangGraph callback) knows more: inside a tool it runs, the graph's
session and that tool call's event. Recorders of nested traffic (MCP messages
sent by the tool, `agentlog.mcp.trace`) ask `current_link()`, so what they record
lands in the graph's session under the call that caused it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentlog.sdk.handle import SessionHandle

Link = tuple["SessionHandle", str | None]  # (session, parent event id or None)
Provider = Callable[[], Link | None]

_PROVIDERS: list[Provider] = []


def register(provider: Provider) -> None:
    """Add a provider (once); it returns a link or None and must not raise (errors are skipped)."""
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)


def unregister(provider: Provider) -> None:
    if provider in _PROVIDERS:
        _PROVIDERS.remove(provider)


def current_link() -> Link | None:
    """The innermost known (session, parent event) here: an adapter's, else the `with` session's."""
    for provider in _PROVIDERS:
        try:
            link = provider()
        except Exception:
            continue
        if link is not None:
            return link
    from agentlog.sdk.handle import current_session

    session = current_session()
    return (session, None) if session is not None else None
