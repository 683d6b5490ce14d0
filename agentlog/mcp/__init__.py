"""MCP: JSON-RPC frames mapped to events, the recording proxy, SDK hooks and `agentlog mcp serve`.

The mapping (`frames`, `mapping`) needs no `mcp` package; the parts that speak
the protocol import it lazily, so a plain install can still record traffic.
"""

from typing import Any

from agentlog.mcp.frames import CLIENT_TO_SERVER, SERVER_TO_CLIENT, Frame, parse
from agentlog.mcp.mapping import McpMapper, tool_drift, tool_hash


def trace(target: Any, **kwargs: Any) -> Any:
    """Record an `mcp.Client`'s traffic (see `agentlog.mcp.tracing.trace`; needs the mcp extra)."""
    from agentlog.mcp.tracing import trace as _trace

    return _trace(target, **kwargs)


def proxied(params: Any, **kwargs: Any) -> Any:
    """Stdio server parameters with `agentlog mcp proxy` in front, as a child of the current run."""
    from agentlog.mcp.proxy_params import proxied as _proxied

    return _proxied(params, **kwargs)


__all__ = [
    "CLIENT_TO_SERVER",
    "SERVER_TO_CLIENT",
    "Frame",
    "McpMapper",
    "parse",
    "proxied",
    "tool_drift",
    "tool_hash",
    "trace",
]
