"""`agentlog.instrument()`: record every supported framework importable in this process.

Each framework is looked for without importing it first (`find_spec`); those
present are instrumented and the rest are named with the reason, in the result
and in one log line. `AGENTLOG_AUTO_INSTRUMENT=1` does this on `import agentlog`.

- LangGraph / LangChain: `AgentLogCallback` on every run (LangChain configure hook).
- mcp (the Python client): every `mcp.Client` entered is traced (`agentlog.mcp.trace`).
- OpenAI Agents SDK: `AgentLogProcessor` added to its trace processors.
- AutoGen: nothing process-wide; its runs are recorded by wrapping their stream
  (`agentlog.integrations.autogen.record`), which the report says.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentlog.sdk.client import AgentLog

logger = logging.getLogger("agentlog")


def _langchain(log: AgentLog | None) -> str:
    from agentlog.integrations.langgraph import instrument

    instrument(log=log)
    return "every run records through AgentLogCallback"


def _mcp(log: AgentLog | None) -> str:
    from mcp.client import client as mcp_client

    Client = mcp_client.Client
    connect_transport = mcp_client._connect_transport  # how Client connects to a Transport
    if getattr(Client.__post_init__, "__agentlog__", False):
        return "already instrumented"
    original = Client.__post_init__

    def traced_post_init(self: Any) -> None:
        original(self)  # the client as it would be (its cache identity from the real server)
        from agentlog.errors import UsageError
        from agentlog.mcp.tracing import TracedTransport, trace

        if isinstance(self.server, TracedTransport):
            return  # already traced by hand: agentlog.mcp.trace(Client(...))
        try:
            self._connect = connect_transport(trace(self.server, log=log))
        except UsageError:  # an in-process server: no JSON-RPC to record
            pass

    traced_post_init.__agentlog__ = True  # type: ignore[attr-defined]  # marks the patch
    traced_post_init.__wrapped__ = original  # type: ignore[attr-defined]
    Client.__post_init__ = traced_post_init  # type: ignore[method-assign]
    return "every mcp.Client connection is traced"


def _openai_agents(log: AgentLog | None) -> str:
    from agentlog.integrations.openai_agents import instrument

    instrument(log=log)
    return "AgentLogProcessor added to the trace processors"


def _autogen(log: AgentLog | None) -> str:
    # Nothing to install: AutoGen has no process-wide hook, so the report says how to record.
    return (
        "skipped: AutoGen has no process-wide hook: wrap a run's stream with "
        "agentlog.integrations.autogen.record(team.run_stream(...))"
    )


# (name, module that shows it is installed, installer)
FRAMEWORKS: list[tuple[str, str, Callable[[AgentLog | None], str]]] = [
    ("langgraph", "langchain_core", _langchain),
    ("mcp", "mcp", _mcp),
    ("openai-agents", "agents", _openai_agents),
    ("autogen", "autogen_agentchat", _autogen),
]


def instrument(log: AgentLog | None = None) -> dict[str, str]:
    """Instrument each supported framework that is installed; returns {framework: what happened}."""
    report: dict[str, str] = {}
    for name, module, install in FRAMEWORKS:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            report[name] = "skipped: not installed"
            continue
        try:
            report[name] = install(log)
        except Exception as exc:  # one framework's trouble must not stop the others
            report[name] = f"failed: {type(exc).__name__}: {exc}"
    logger.info("agentlog: instrument(): %s", "; ".join(f"{k}: {v}" for k, v in report.items()))
    return report
