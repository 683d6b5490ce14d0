"""AgentLog records what AI agents do. This is the SDK's public surface.

`import agentlog` is nearly free: the SDK, the model (pydantic) and the
storage load on first use of a name below, and never Textual, Typer or
FastAPI.

    from agentlog import AgentLog
    log = AgentLog()
    with log.session("triage bot", agent_id="planner") as s:
        s.user_input("why did the deploy fail?")

`agentlog.instrument()` records every supported framework installed here
(LangGraph/LangChain, the mcp client, the OpenAI Agents SDK);
AGENTLOG_AUTO_INSTRUMENT=1 does it on import.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentlog.integrations.auto import instrument
    from agentlog.model import Event, EventStatus, EventType, Session, SessionStatus
    from agentlog.sdk.client import AgentLog, default_log, flush, session, tool
    from agentlog.sdk.handle import SessionHandle, ToolCall, current_session

_LAZY = {
    "AgentLog": "agentlog.sdk.client",
    "default_log": "agentlog.sdk.client",
    "flush": "agentlog.sdk.client",
    "session": "agentlog.sdk.client",
    "tool": "agentlog.sdk.client",
    "SessionHandle": "agentlog.sdk.handle",
    "ToolCall": "agentlog.sdk.handle",
    "current_session": "agentlog.sdk.handle",
    "instrument": "agentlog.integrations.auto",
    "Event": "agentlog.model",
    "EventStatus": "agentlog.model",
    "EventType": "agentlog.model",
    "Session": "agentlog.model",
    "SessionStatus": "agentlog.model",
}

__all__ = [
    "AgentLog",
    "Event",
    "EventStatus",
    "EventType",
    "Session",
    "SessionHandle",
    "SessionStatus",
    "ToolCall",
    "__version__",
    "current_session",
    "default_log",
    "flush",
    "instrument",
    "session",
    "tool",
]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from agentlog.version import package_version

        return package_version()
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'agentlog' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def _auto_instrument_wanted() -> bool:
    """AGENTLOG_AUTO_INSTRUMENT as every yes/no setting reads. A word it does not know is
    said on stderr, not raised: an import cannot stop the program it is imported into."""
    value = os.environ.get("AGENTLOG_AUTO_INSTRUMENT", "")
    if not value.strip():
        return False
    from agentlog.config import parse_flag
    from agentlog.errors import ConfigError

    try:
        return bool(parse_flag(value, "AGENTLOG_AUTO_INSTRUMENT"))
    except ConfigError as exc:
        print(f"agentlog: warning: {exc} (not instrumenting)", file=sys.stderr)
        return False


if _auto_instrument_wanted():
    from agentlog.integrations.auto import instrument as _auto_instrument

    _auto_instrument()
