"""A colleague opens a shared, redacted session in the TUI without importing it."""

from __future__ import annotations

from typing import Any

import pytest

from agentlog.transfer.redact import Redactor
from agentlog.transfer.share import share_session
from agentlog.transfer.viewer import open_file_as_store
from tests.support.portability import make_event, make_session

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_shared_file_opens_in_the_tui_redacted(store, tmp_path) -> None:
    from agentlog.tui.app import make_app

    session = make_session(1, title="triage for bob@example.com")
    store.write([session], [make_event(session, i) for i in range(3)])
    path = share_session(
        store, session.id, tmp_path / "bug.ndjson.gz", redactor=Redactor(["@email"])
    ).path

    viewed = open_file_as_store(path)
    try:
        app = make_app(viewed, source=f"{path} (read-only)", poll_interval=None, blink=False)
        async with app.run_test(size=(120, 30)) as pilot:
            for _ in range(3):
                await pilot.pause()
                await pilot.app.workers.wait_for_complete()
            text = _screen_text(app)
        assert "triage for [REDACTED]" in text
        assert "bob@example.com" not in text
    finally:
        viewed.close()


def _screen_text(app: Any) -> str:
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text.rstrip() for strip in strips)
