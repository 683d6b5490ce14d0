"""Record every LangChain/LangGraph run in the process without touching the call sites.

LangChain asks its registered configure hooks for handlers whenever a run
starts; `instrument()` registers one whose context variable defaults to an
`AgentLogCallback`, so every thread and task sees it. A run that already
carries an `AgentLogCallback` in its callbacks keeps only that one.
"""

from __future__ import annotations

import logging
import threading
from contextvars import ContextVar
from typing import Any

from agentlog.integrations.langgraph.handler import AgentLogCallback

logger = logging.getLogger("agentlog")

_lock = threading.Lock()
_active: tuple[ContextVar[Any], AgentLogCallback] | None = None


def instrument(**kwargs: Any) -> AgentLogCallback:
    """Add an `AgentLogCallback(**kwargs)` to every run from now on; returns it.

    Calling it again replaces the previous one (with the new arguments).
    """
    from langchain_core.tracers.context import register_configure_hook

    global _active
    with _lock:
        _remove()
        handler = AgentLogCallback(**kwargs)
        var: ContextVar[Any] = ContextVar("agentlog_langchain_handler", default=handler)
        register_configure_hook(var, True, AgentLogCallback)
        _active = (var, handler)
    logger.info("agentlog: recording every LangChain/LangGraph run in this process")
    return handler


def uninstrument() -> bool:
    """Stop what `instrument()` started; False when it was not active."""
    with _lock:
        return _remove()


def active() -> AgentLogCallback | None:
    """The handler `instrument()` installed, if any."""
    return _active[1] if _active is not None else None


def _remove() -> bool:
    global _active
    if _active is None:
        return False
    from langchain_core.tracers import context

    var = _active[0]
    context._configure_hooks[:] = [h for h in context._configure_hooks if h[0] is not var]
    _active = None
    return True
