"""A real MCP server (the SDK's low-level `Server`) that runs a tool as a 2025-11-25 task.

`tools/call` with a `task` field answers at once with the task; `tasks/get` reports its
status while it runs; `tasks/result` waits for and returns the tool's result. The SDK
serves no task methods itself, so they are registered here as plain request handlers, and
the task-augmented call is answered by a server middleware (the SDK checks that a
`tools/call` handler returns a tool result, which a task is not).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

TOOL = types.Tool(
    name="report",
    description="Write a long report (runs as a task when asked)",
    input_schema={"type": "object", "properties": {"pages": {"type": "integer"}}},
)

_jobs: dict[str, tuple[asyncio.Task[types.CallToolResult], str]] = {}


async def _write(pages: int) -> types.CallToolResult:
    await asyncio.sleep(1.0)
    return types.CallToolResult(content=[types.TextContent(text=f"{pages} pages written")])


def _task(task_id: str) -> dict[str, Any]:
    job, created = _jobs[task_id]
    status = "completed" if job.done() else "working"
    return {
        "task_id": task_id,
        "status": status,
        "created_at": created,
        "last_updated_at": created,
        "ttl": 60000,
        "poll_interval": 50,
    }


async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
    return types.ListToolsResult(tools=[TOOL])


async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
    return await _write(int((params.arguments or {}).get("pages", 1)))


async def as_task(ctx: Any, call_next: Any) -> Any:
    """Start a `tools/call` that asks for a task in the background and answer with the task."""
    params = ctx.params if isinstance(ctx.params, dict) else {}
    if ctx.method != "tools/call" or "task" not in params:
        return await call_next(ctx)
    task_id = f"task-{len(_jobs) + 1}"
    pages = int((params.get("arguments") or {}).get("pages", 1))
    _jobs[task_id] = (asyncio.create_task(_write(pages)), datetime.now(UTC).isoformat())
    return types.CreateTaskResult(task=types.Task(**_task(task_id)))


async def get_task(ctx: Any, params: types.GetTaskRequestParams) -> types.GetTaskResult:
    return types.GetTaskResult(**_task(params.task_id))


async def task_result(ctx: Any, params: types.GetTaskPayloadRequestParams) -> Any:
    return await _jobs[params.task_id][0]


server: Server[Any] = Server(
    "agentlog-test-tasks", on_list_tools=list_tools, on_call_tool=call_tool
)
server.middleware.append(as_task)
server.add_request_handler("tasks/get", types.GetTaskRequestParams, get_task)
server.add_request_handler("tasks/result", types.GetTaskPayloadRequestParams, task_result)


async def main() -> None:
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


if __name__ == "__main__":
    asyncio.run(main())
