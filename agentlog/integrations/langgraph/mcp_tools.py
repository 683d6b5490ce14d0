"""An MCP server's tools as LangChain tools, over the `mcp` client (2.x) this project uses.

langchain-mcp-adapters does the same for `mcp` 1.x and cannot be installed
beside `mcp` 2, so this is the small part a graph needs: each tool listed by
the server becomes a `StructuredTool` whose call is `client.call_tool`. With the
client traced (`agentlog.mcp.trace`) and the graph recorded (`AgentLogCallback`),
each tool's MCP messages land in the graph's session under its TOOL_CALL.
"""

from __future__ import annotations

from typing import Any

from langchain_core.tools import StructuredTool, ToolException


async def load_mcp_tools(client: Any) -> list[StructuredTool]:
    """LangChain tools for every tool an entered `mcp.Client` lists (all pages)."""
    tools: list[StructuredTool] = []
    cursor: str | None = None
    while True:
        listing = await client.list_tools(cursor=cursor)
        tools.extend(_tool(client, t) for t in listing.tools)
        cursor = getattr(listing, "next_cursor", None)
        if not cursor:
            return tools


def _tool(client: Any, spec: Any) -> StructuredTool:
    name = spec.name

    async def call(**arguments: Any) -> Any:
        result = await client.call_tool(name, arguments)
        text = "\n".join(
            getattr(block, "text", None) or block.model_dump_json() for block in result.content
        )
        if result.is_error:
            raise ToolException(text or f"the MCP tool {name} failed")
        if not text and result.structured_content is not None:
            return result.structured_content
        return text

    return StructuredTool.from_function(
        coroutine=call,
        name=name,
        description=spec.description or name,
        args_schema=spec.input_schema,
        handle_tool_error=True,  # a tool's error goes back to the model, as MCP intends
    )
