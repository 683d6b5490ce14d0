"""Tool-definition drift: this session's tools against the last session with the same server."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentlog.mcp.mapping import tool_drift
from agentlog.storage.base import SessionQuery

if TYPE_CHECKING:
    from agentlog.storage.base import Store

# Sessions tagged "mcp" looked at, newest first, to find the previous one with a server.
SCAN = 200


def previous_tools(store: Store, server: str, exclude: str) -> tuple[str, dict[str, str]] | None:
    """(session id, {tool: hash}) of the newest other MCP session with `server` that listed tools."""
    query = SessionQuery(tags=["mcp"], sort="created_at", order="desc", limit=SCAN)
    for session in store.list_sessions(query).items:
        if session.id == exclude:
            continue
        mcp = session.metadata.get("mcp")
        if not isinstance(mcp, dict):
            continue
        peer = mcp.get("server")
        tools = mcp.get("tools")
        if isinstance(peer, dict) and peer.get("name") == server and isinstance(tools, dict):
            return session.id, {str(k): str(v) for k, v in tools.items()}
    return None


def drift_against(store: Store, context: dict[str, Any], session_id: str) -> dict[str, Any] | None:
    """The drift record for a session's MCP context, or None when there is nothing to compare."""
    server = context.get("server")
    tools = context.get("tools")
    if not isinstance(server, dict) or not isinstance(tools, dict) or "name" not in server:
        return None
    found = previous_tools(store, str(server["name"]), session_id)
    if found is None:
        return None
    previous_id, before = found
    return {"previous_session": previous_id, **tool_drift(before, tools)}
