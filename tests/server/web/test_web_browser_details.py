"""The web view's smaller promises in a real headless Chromium: a session's facts, times, confirmations."""

from __future__ import annotations

import os
import subprocess
import time

import httpx
import pytest
from typer.testing import CliRunner

from agentlog.cli.app import app
from agentlog.model import Event, Session
from agentlog.server.testing import free_port
from tests.server.web import test_web_browser as base
from tests.server.web.test_web_browser import (
    AGENTLOG,
    PASSWORD,
    XSS,
    Served,
    _admin,
    _fits,
    _sign_in,
)

# The real server with the demo data and the browser, shared with the main browser tests.
idp, served, browser = base.idp, base.served, base.browser


def _post(served: Served, *sessions: Session) -> None:
    r = httpx.post(
        f"{served.url}/v1/events:batch",
        json={
            "sessions": [s.to_json_dict() for s in sessions],
            "events": [
                Event(session_id=s.id, type="LOG", content="x").to_json_dict() for s in sessions
            ],
        },
        headers={"Authorization": f"Bearer {served.key}"},
    )
    assert r.status_code == 200, r.text


@pytest.mark.slow
def test_a_sessions_facts_wrap_on_a_phone_and_open_in_full(served, browser):
    long = "https://example.com/" + "x" * 600
    s = Session(
        title="graph run",
        tags=["prod", XSS],
        metadata={"thread_id": "thread-42", "source": long, "k" * 200: 1, XSS: XSS},
    )
    _post(served, s)
    dialogs: list[str] = []
    for width, height in ((390, 844), (1280, 800)):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        _sign_in(page, served.url, "alice@example.com")
        page.goto(f"{served.url}/s/{s.id}")
        facts = page.locator("dl.facts").first.inner_text()
        assert s.id in facts and "UTC" in facts and XSS in facts  # the tag, as text
        metadata = page.locator("dl.facts.metadata")
        assert "thread-42" in metadata.inner_text() and XSS in metadata.inner_text()
        # Above the timeline.
        top = metadata.bounding_box()
        assert top is not None
        assert top["y"] < page.locator("ol.timeline").bounding_box()["y"]
        _fits(page, width)
        entry = metadata.locator("div", has_text="source")
        full = entry.locator("details pre")
        assert not full.is_visible()
        entry.locator("summary").click()
        assert full.is_visible() and full.inner_text() == long
        _fits(page, width)
        context.close()
    assert dialogs == []


@pytest.mark.slow
def test_revoke_and_remove_ask_first_and_cancel_changes_nothing(served, browser):
    _admin(served.db, "create-user", "carol@example.com", "--password-stdin", input=base.PASSWORD)
    context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    page = context.new_page()
    _sign_in(page, served.url, "alice@example.com")
    page.goto(f"{served.url}/keys")
    page.fill("input[name=label]", "to be revoked")
    page.click("text=Create key")
    secret = page.locator("pre.secret-value").inner_text().strip()
    headers = {"Authorization": f"Bearer {secret}"}
    row = page.locator("tr", has_text="to be revoked")
    row.locator("button", has_text="Revoke").click()
    page.wait_for_url(f"{served.url}/keys/*/revoke*")
    assert "Revoke the key to be revoked" in page.locator("main").inner_text()
    _fits(page, 390)
    page.click("main >> text=Cancel")
    page.wait_for_url(f"{served.url}/keys")
    assert "active" in page.locator("tr", has_text="to be revoked").inner_text()
    assert httpx.get(f"{served.url}/v1/auth/me", headers=headers).status_code == 200
    page.locator("tr", has_text="to be revoked").locator("button", has_text="Revoke").click()
    page.click("button:has-text('Revoke key')")
    page.wait_for_url(f"{served.url}/keys")
    assert "revoked" in page.locator("tr", has_text="to be revoked").inner_text()
    deadline = time.monotonic() + 10  # the server trusts a checked key for key_cache_seconds
    while httpx.get(f"{served.url}/v1/auth/me", headers=headers).status_code != 401:
        assert time.monotonic() < deadline, "the revoked key still works"
        time.sleep(0.2)

    page.goto(f"{served.url}/team")
    # Nothing to click on one's own row: it says why.
    mine = page.locator("tr", has_text="alice@example.com")
    assert mine.locator("button").count() == 0 and "you:" in mine.inner_text()
    page.locator("tr", has_text="carol@example.com").locator("button", has_text="Remove").click()
    page.wait_for_url(f"{served.url}/team/*/remove*")
    assert "Remove carol@example.com from" in page.locator("main").inner_text()
    page.click("main >> text=Cancel")
    page.wait_for_url(f"{served.url}/team")
    assert "active" in page.locator("tr", has_text="carol@example.com").inner_text()
    page.locator("tr", has_text="carol@example.com").locator("button", has_text="Remove").click()
    page.click("button:has-text('Remove member')")
    page.wait_for_url(f"{served.url}/team")
    assert "removed" in page.locator("tr", has_text="carol@example.com").inner_text()
    context.close()


@pytest.mark.slow
def test_demo_data_written_before_serving_is_announced_not_adopted(browser, tmp_path):
    """`agentlog demo --db X` then `agentlog serve --db X`: one line at start, the same hint
    on an admin's empty sessions page, and the sessions stay in no team."""
    db = str(tmp_path / "x.db")
    env = {**os.environ, "AGENTLOG_HOME": str(tmp_path / "home"), "PYTHONUNBUFFERED": "1"}
    demo = CliRunner().invoke(
        app, ["demo", "--db", db], env={"AGENTLOG_HOME": env["AGENTLOG_HOME"]}
    )
    assert demo.exit_code == 0, demo.output
    _admin(db, "create-user", "alice@example.com", "--admin", "--password-stdin", input=PASSWORD)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [AGENTLOG, "serve", "--port", str(port), "--db", db],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stderr is not None
        said: list[str] = []
        while not any("AgentLog server on" in line for line in said):
            line = proc.stderr.readline()
            assert line, "".join(said)
            said.append(line)
        hint = [line for line in said if "belong to no team" in line]
        assert len(hint) == 1 and f"agentlog migrate --db {db} --to {url}" in hint[0], said
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "agentlog serve did not become ready"
            time.sleep(0.1)
        context = browser.new_context(viewport={"width": 390, "height": 844})
        page = context.new_page()
        _sign_in(page, url, "alice@example.com")
        assert "No sessions match" in page.locator("table.sessions").inner_text()
        shown = page.locator("p.teamless").inner_text()
        assert "belong to no team" in shown and f"--to {url}" in shown
        _fits(page, 390)
        context.close()
    finally:
        proc.terminate()
        proc.wait(10)
