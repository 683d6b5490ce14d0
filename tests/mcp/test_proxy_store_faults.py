"""`agentlog mcp proxy` relays whatever happens to its store: an MCP client whose server exits
loses its tools and sees only "connection closed", so a store the proxy cannot use costs the
recording, with one warning on stderr, never the server."""

from __future__ import annotations

from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

from tests.mcp.conftest import AGENTLOG, TOOLS_SERVER


async def _add(params: StdioServerParameters) -> str:
    async with Client(params) as client:
        result = await client.call_tool("add", {"a": 2, "b": 3})
        return result.content[0].text


def test_a_file_that_is_not_a_store_costs_the_recording_not_the_server(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"my notes, not a database\n")
    stderr = tmp_path / "proxy-stderr"
    env = child_env | {"AGENTLOG_DB": str(notes), "PROXY_STDERR": str(stderr)}
    # The proxy's stderr to a file of the test's own (the client would pass it through).
    command = ["sh", "-c", 'exec "$@" 2>"$PROXY_STDERR"', "sh", *AGENTLOG, "mcp", "proxy"]
    params = StdioServerParameters(
        command=command[0], args=[*command[1:], "--", *TOOLS_SERVER], env=env
    )

    assert anyio.run(_add, params) == "5"
    assert notes.read_bytes() == b"my notes, not a database\n"  # nothing written over it
    lines = [line for line in stderr.read_text().splitlines() if line.startswith("agentlog:")]
    # One line, as docs/mcp.md says: the SDK's writer is not left to fail every batch after it.
    assert lines == [
        f"agentlog: warning: {notes} is not an AgentLog database (not a SQLite file); point --db "
        "at another file; the server runs behind the proxy all the same, unrecorded"
    ]
