"""OpenAI Agents SDK: a TracingProcessor that records each trace as a session.

    from agents import add_trace_processor
    from agentlog.integrations.openai_agents import AgentLogProcessor
    add_trace_processor(AgentLogProcessor())

Needs `openai-agents` (pip install 'agentlog[openai-agents]').
"""

from __future__ import annotations

try:
    from agentlog.integrations.openai_agents.processor import AgentLogProcessor, instrument
except ImportError as exc:  # pragma: no cover - where openai-agents is absent
    raise ImportError(
        f"agentlog.integrations.openai_agents needs openai-agents ({exc.name} is not installed): "
        "pip install 'agentlog[openai-agents]'",
        name=exc.name,
    ) from None

__all__ = ["AgentLogProcessor", "instrument"]
