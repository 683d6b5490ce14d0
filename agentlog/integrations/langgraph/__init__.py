"""LangGraph (and any LangChain runnable): one callback handler records a run as sessions.

    from agentlog.integrations.langgraph import AgentLogCallback
    graph.invoke(inputs, config={"callbacks": [AgentLogCallback()]})

or `agentlog.integrations.langgraph.instrument()` once for every run in the
process. Needs the `langgraph` extra (langchain-core).
"""

from __future__ import annotations

from typing import Any

try:
    from agentlog.integrations.langgraph.handler import AgentLogCallback
except ImportError as exc:  # pragma: no cover - exercised where langchain-core is absent
    raise ImportError(
        f"agentlog.integrations.langgraph needs langchain-core ({exc.name} is not installed): "
        "pip install 'agentlog[langgraph]'",
        name=exc.name,
    ) from None

__all__ = ["AgentLogCallback", "instrument", "uninstrument"]


def instrument(**kwargs: Any) -> AgentLogCallback:
    """Record every LangChain/LangGraph run in this process (see `process_hook.instrument`)."""
    from agentlog.integrations.langgraph.process_hook import instrument as _instrument

    return _instrument(**kwargs)


def uninstrument() -> bool:
    """Stop recording runs that `instrument()` started recording."""
    from agentlog.integrations.langgraph.process_hook import uninstrument as _uninstrument

    return _uninstrument()
