"""Regenerate the TUI screenshots in docs/img/ from the demo data: `python docs/screenshots.py`.

Drives the real app through Textual's pilot at 120x36 over a fresh demo store (a fixed seed and
clock, so the pictures only change when the TUI does) and saves each screen as SVG.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from agentlog.demo import generate_demo
from agentlog.storage.sqlite.store import SQLiteStore
from agentlog.tui.app import make_app

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SIZE = (120, 36)
OUT = Path(__file__).resolve().parent / "img"


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    """Until no worker is left running (workers start workers)."""
    for _ in range(40):
        await pilot.pause()
        busy = any(not w.is_finished for w in pilot.app.workers)
        await pilot.app.workers.wait_for_complete()
        if not busy:
            await pilot.pause()
            return


async def shoot(store: SQLiteStore, sessions: dict[str, str]) -> list[Path]:
    made: list[Path] = []

    async def save(app, name: str) -> None:  # type: ignore[no-untyped-def]
        path = OUT / f"tui-{name}.svg"
        path.write_text(app.export_screenshot(title=f"agentlog tui: {name}"))
        made.append(path)

    app = make_app(store, now=NOW, poll_interval=None, blink=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await save(app, "sessions")
    app = make_app(store, now=NOW, poll_interval=None, blink=False, session_id=sessions["triage"])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await save(app, "timeline")
        await pilot.press("slash", *"migration", "enter")
        await settle(pilot)
        await save(app, "search")
    app = make_app(
        store, now=NOW, poll_interval=None, blink=False, session_id=sessions["eval_fail"]
    )
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("c", *"Nightly", "down", "enter")
        await settle(pilot)
        await save(app, "compare")
    return made


def main() -> None:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "demo.db")
        try:
            result = generate_demo(store, seed=0, now=NOW)
            for path in asyncio.run(shoot(store, result.sessions)):
                print(path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path)
        finally:
            store.close()


if __name__ == "__main__":
    sys.exit(main())
