"""The Textual explorer (`agentlog tui`): sessions, timeline, search, compare, metrics, follow.

It reads only through the `Store` protocol, so it works the same on the local
file, an exported file and a team server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentlog.storage.base import Store
    from agentlog.tui.app import AgentLogApp


def make_app(store: Store, **options: Any) -> AgentLogApp:
    """See `agentlog.tui.app.make_app` (imported lazily so `agentlog.tui` stays cheap)."""
    from agentlog.tui.app import make_app as _make_app

    return _make_app(store, **options)
