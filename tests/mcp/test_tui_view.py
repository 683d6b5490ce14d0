"""The issue's "done when": a proxied session read in `agentlog tui` shows the handshake, each
tool call with its answer, and the failed call as an error."""

from __future__ import annotations

from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

from agentlog.storage import open_store
from agentlog.storage.base import SessionQuery
from agentlog.tui.app import make_app
from tests.mcp.conftest import AGENTLOG, TOOLS_SERVER


async def _calls(params: StdioServerParameters) -> None:
    async with Client(params, mode="legacy") as client:
        await client.call_tool("add", {"a": 1, "b": 2})
        await client.call_tool("explode", {"reason": "kaput"})


async def _screen(db: Path) -> tuple[str, str]:
    store = open_store(str(db))
    try:
        (session,) = store.list_sessions(SessionQuery()).items
        app = make_app(store, poll_interval=None, blink=False, session_id=session.id)
        async with app.run_test(size=(140, 40)) as pilot:
            for _ in range(40):
                await pilot.pause()
                await app.workers.wait_for_complete()
            text = "\n".join(s.text.rstrip() for s in app.screen._compositor.render_strips())
            await pilot.press("G")  # the last event: the failed call's answer, with its timing
            for _ in range(10):
                await pilot.pause()
            detail = "\n".join(s.text.rstrip() for s in app.screen._compositor.render_strips())
        return text, detail
    finally:
        store.close()


def test_a_proxied_session_reads_in_the_tui(db_path: Path, child_env: dict[str, str]) -> None:
    command = [*AGENTLOG, "mcp", "proxy", "--title", "tools via proxy", "--", *TOOLS_SERVER]
    params = StdioServerParameters(command=command[0], args=command[1:], env=child_env)
    anyio.run(_calls, params)
    text, detail = anyio.run(_screen, db_path)
    assert "tools via proxy" in text and "1 error" in text
    rows = [line for line in text.splitlines() if line.lstrip().startswith(("+", "✖"))]
    names = " ".join(rows)
    # each MCP message says which way it went: → client to server, ← server to client
    for expected in ("→ initialize", "← initialize", "→ notification", "→ tools/call", "add"):
        assert expected in names, (expected, text)
    assert any("TOOL " in r and " add " in r for r in rows)
    assert any("RESULT" in r and " add " in r for r in rows)
    assert any(r.startswith("✖") and "ERROR" in r and "explode" in r for r in rows)
    assert "duration" in detail and "error" in detail
