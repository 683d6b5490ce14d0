"""The real `agentlog tui` in a real terminal (tmux): the issue's "done when" walk, read off the screen."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

AGENTLOG = str(Path(sys.executable).with_name("agentlog"))


class Tmux:
    """One detached tmux session running a command at a fixed size."""

    def __init__(self, command: str, env: dict[str, str], cwd: Path, size: tuple[int, int]) -> None:
        self.name = f"agentlog-test-{uuid.uuid4().hex[:8]}"
        # A private tmux server: other tmux users on this machine cannot resize or steal it.
        self.tmux = ["tmux", "-L", self.name, "-f", os.devnull]
        exports = " ".join(f"{k}={v}" for k, v in env.items())
        subprocess.run(
            [
                *self.tmux,
                "new-session",
                "-d",
                "-s",
                self.name,
                "-x",
                str(size[0]),
                "-y",
                str(size[1]),
                "-c",
                str(cwd),
                # COLUMNS/LINES from the test runner would override the pane's real size.
                f"env -u COLUMNS -u LINES {exports} {command}",
            ],
            check=True,
        )
        # Some tmux versions size a detached session from the server's default: insist.
        subprocess.run(
            [*self.tmux, "resize-window", "-t", self.name, "-x", str(size[0]), "-y", str(size[1])],
            capture_output=True,
        )

    def screen(self) -> str:
        out = subprocess.run(
            [*self.tmux, "capture-pane", "-t", self.name, "-p"], capture_output=True, text=True
        )
        return out.stdout

    def keys(self, *keys: str, literal: bool = False) -> None:
        for key in keys:
            args = [*self.tmux, "send-keys", "-t", self.name, *(["-l"] if literal else []), key]
            subprocess.run(args, check=True)
            # Escape followed at once by a key reads as alt+key: give each key its own moment.
            time.sleep(0.15)

    def wait_for(self, check: str | Callable[[str], bool], timeout: float = 15.0) -> str:
        test = check if callable(check) else (lambda s: check in s)
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if test(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {check!r}; the screen shows:\n{screen}")

    def alive(self) -> bool:
        return (
            subprocess.run(
                [*self.tmux, "has-session", "-t", self.name], capture_output=True
            ).returncode
            == 0
        )

    def kill(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    env = {**os.environ, "AGENTLOG_HOME": str(path)}
    subprocess.run([AGENTLOG, "demo"], env=env, check=True, capture_output=True)
    return path


@pytest.fixture
def tui(home: Path, tmp_path: Path) -> Iterator[Tmux]:
    term = Tmux(
        f"{AGENTLOG} tui",
        {"AGENTLOG_HOME": str(home), "TERM": "xterm-256color"},
        tmp_path,
        (120, 40),
    )
    yield term
    term.kill()


def test_done_when_walk_in_a_real_terminal(tui: Tmux, tmp_path: Path) -> None:
    tui.wait_for(lambda s: "25 sessions" in s and "Recent:" in s)  # the list and activity loaded
    time.sleep(0.5)
    # find the failing session
    tui.keys("/")
    tui.keys("Nightly", literal=True)
    tui.keys("Enter")
    tui.wait_for("2 of 25 sessions")  # the matches, out of every session
    tui.keys("Enter")  # the failing run is the newer of the two
    tui.wait_for(lambda s: "failed" in s and "fetch_tickets" in s)
    # filter it to TOOL_CALL and ERROR
    tui.keys("t")
    tui.wait_for("Event types")
    tui.keys("n", "Down", "Down", "Down", "Space", *["Down"] * 5, "Space", "Enter")
    tui.wait_for("2 events  ·  filter: type ERROR,TOOL")
    # search for the error text: the cursor lands on the error
    tui.keys("/")
    tui.keys("timed out", literal=True)
    tui.keys("Enter")
    screen = tui.wait_for("search 'timed out': 1/")
    assert "TimeoutError" in screen
    # expand its metadata
    tui.keys("Enter", "x")
    tui.wait_for("retryable")
    # jump to the call that caused it
    tui.keys("Escape")
    # A key sent right after Escape could read as alt+key: wait until Escape has landed.
    tui.wait_for(lambda s: "Expand/collapse" not in s)
    tui.keys("p")
    tui.wait_for("⚙ TOOL_CALL")
    # compare with a passing session
    tui.keys("c")
    tui.wait_for("Compare Nightly eval")
    tui.keys("Enter")
    screen = tui.wait_for("first divergence at step")
    assert "completed" in screen
    tui.keys("Escape")
    tui.wait_for("filter: type ERROR,TOOL")
    # and export it
    tui.keys("e")
    tui.wait_for("Export")
    tui.keys("Enter")
    tui.wait_for("Exported 2 events")
    exported = tmp_path / "nightly-eval-summarize-tickets.ndjson"
    assert exported.exists()
    assert b'"TimeoutError"' in exported.read_bytes()
    # ? guides, q leaves
    tui.keys("?")
    tui.wait_for("esc closes)")
    tui.keys("Escape")
    tui.wait_for(lambda s: "esc closes" not in s)
    tui.keys("q")
    tui.wait_for("o Sort")  # back on the sessions list
    tui.keys("q")
    deadline = time.monotonic() + 5
    while tui.alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not tui.alive()
