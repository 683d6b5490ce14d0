"""The Python SDK: `AgentLog`, session handles, the background writer and its transports."""

from agentlog.sdk.client import AgentLog, default_log, flush, session, tool, trace_tool
from agentlog.sdk.handle import SessionHandle, ToolCall, current_session

__all__ = [
    "AgentLog",
    "SessionHandle",
    "ToolCall",
    "current_session",
    "default_log",
    "flush",
    "session",
    "tool",
    "trace_tool",
]
