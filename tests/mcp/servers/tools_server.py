"""A small real MCP server: tools that succeed, raise, report progress, take time, ask for input.

Run as `python tools_server.py [stdio|http PORT]`. With AGENTLOG_TEST_TOOLS_V2=1
the `add` tool has another description (a server whose tools changed).
"""

from __future__ import annotations

import asyncio
import os
import sys

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp_types import ElicitRequest, ElicitRequestFormParams, InputRequiredResult

server = MCPServer("agentlog-test-tools")

V2 = os.environ.get("AGENTLOG_TEST_TOOLS_V2") == "1"


@server.tool(
    description="Add two integers (v2: now with overflow checks)" if V2 else "Add two integers"
)
def add(a: int, b: int) -> int:
    return a + b


@server.tool(description="Echo the text back")
def echo(text: str) -> str:
    return text


@server.tool(description="Always fails by raising")
def explode(reason: str = "boom") -> str:
    raise ValueError(reason)


@server.tool(description="Sleep, reporting progress in steps")
async def slow(seconds: float, ctx: Context) -> str:
    steps = 4
    for i in range(steps):
        await ctx.report_progress(i + 1, steps, f"step {i + 1}")
        await asyncio.sleep(seconds / steps)
    return f"slept {seconds}"


@server.tool(description="Ask the user to confirm before answering (2026-07-28 input_required)")
async def confirm(item: str, ctx: Context) -> InputRequiredResult | str:
    answers = ctx.input_responses
    if not answers:
        question = ElicitRequest(
            params=ElicitRequestFormParams(
                message=f"Really order {item}?",
                requested_schema={"type": "object", "properties": {"ok": {"type": "boolean"}}},
            )
        )
        return InputRequiredResult(input_requests={"confirm": question}, request_state="order-1")
    return f"ordered {item}"


@server.tool(description="Exit the server process in the middle of the call")
def crash() -> str:
    sys.stdout.flush()
    os._exit(3)


if __name__ == "__main__":
    if os.environ.get("AGENTLOG_TEST_BANNER"):
        # An older server's habit (the SDK now guards stdout): a banner on the wire first.
        os.write(1, os.environ["AGENTLOG_TEST_BANNER"].encode() + b"\n")
    if len(sys.argv) > 1 and sys.argv[1] == "http":
        # Streamable HTTP on loopback, on the given port or any free one; prints "PORT n".
        import socket

        import uvicorn

        sock = socket.socket()
        sock.bind(("127.0.0.1", int(sys.argv[2]) if len(sys.argv) > 2 else 0))
        sock.listen(128)  # before the port is printed: an early client waits, it is not refused
        print(f"PORT {sock.getsockname()[1]}", flush=True)
        app = server.streamable_http_app(json_response=os.environ.get("AGENTLOG_TEST_JSON") == "1")
        uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])
    else:
        server.run()
