"""Recorded content is hostile: no command prints an ESC, OSC, C1 or bell raw (issue 9, item 7)."""

from __future__ import annotations

import orjson
import pytest

from agentlog.model import Event, Session
from agentlog.storage import open_store

OSC_TITLE = "\x1b]0;owned\x07"
CLEAR = "\x1b[2J\x1b[H"
LINK = "\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\"
CSI_C1 = "\x9b31m"
HOSTILE = f"{OSC_TITLE}{CLEAR}{LINK}{CSI_C1}\x85\r\x7f"


def _raw_controls(text: str) -> list[str]:
    return [c for c in text if (ord(c) < 0x20 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F]


@pytest.fixture
def hostile(tmp_path):
    db = tmp_path / "hostile.db"
    store = open_store(str(db))
    session = Session(title=f"title {HOSTILE}", tags=[f"tag{CSI_C1}"], metadata={"m": HOSTILE})
    store.write(sessions=[session])
    events = [
        Event(
            session_id=session.id,
            type="TOOL_CALL",
            agent_id=f"agent{OSC_TITLE}",
            name=f"name{CSI_C1}",
            content=f"needle {HOSTILE}",
            duration_ms=5,
        ),
        Event(session_id=session.id, type="ERROR", agent_id=f"agent{OSC_TITLE}", content=LINK),
    ]
    store.write(events=events)
    store.close()
    return db, session.id


COMMANDS = [
    ["sessions", "list"],
    ["sessions", "show", "{sid}"],
    ["events", "{sid}"],
    ["search", "needle"],
    ["tail", "{sid}", "--timeout", "0"],
    ["tail", "--timeout", "0"],
    ["stats"],
    ["stats", "{sid}"],
    ["agents"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a).replace("{sid}", "SID"))
def test_human_output_shows_controls_as_visible_escapes(hostile, args):
    from tests.cli.conftest import Cli

    db, sid = hostile
    result = Cli(db).ok(*(a.format(sid=sid) for a in args))
    assert result.stdout.strip(), result.stderr
    assert _raw_controls(result.stdout) == [], result.stdout
    assert _raw_controls(result.stderr) == [], result.stderr
    # The hostile text is still visible, not dropped.
    assert "␛" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["events", "{sid}", "--json"],
        ["events", "{sid}", "--ndjson"],
        ["sessions", "show", "{sid}", "--json"],
        ["search", "needle", "--json"],
        ["agents", "--json"],
    ],
    ids=lambda a: " ".join(a).replace("{sid}", "SID"),
)
def test_json_escapes_controls_and_stays_exact(hostile, args):
    from tests.cli.conftest import Cli

    db, sid = hostile
    out = Cli(db).ok(*(a.format(sid=sid) for a in args)).stdout
    assert _raw_controls(out) == []
    docs = (
        [orjson.loads(line) for line in out.splitlines()]
        if "--ndjson" in args
        else [orjson.loads(out)]
    )
    # The exact recorded values come back (C1 and ESC included), only written as escapes.
    assert _contains(docs, HOSTILE) or _contains(docs, f"agent{OSC_TITLE}")


def _contains(value, needle: str) -> bool:
    if isinstance(value, str):
        return needle in value
    if isinstance(value, dict):
        return any(_contains(v, needle) or _contains(k, needle) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains(v, needle) for v in value)
    return False


def test_an_error_message_quoting_user_input_is_safe(hostile):
    from tests.cli.conftest import Cli

    db, _ = hostile
    result = Cli(db)("sessions", "show", f"nope{OSC_TITLE}")
    assert result.exit_code != 0
    assert _raw_controls(result.stderr) == [], result.stderr


def test_under_a_real_terminal_only_our_own_colours_reach_it(hostile):
    """Run `agentlog events` on a pty (Rich colours on): no OSC, screen clear, C1 CSI or bell gets out."""
    import os
    import pty
    import subprocess
    import sys

    db, sid = hostile
    leader, follower = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "200", "FORCE_COLOR": "1"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentlog", "--db", str(db), "events", sid],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
        close_fds=True,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO once the child closed its side
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(leader)
    out = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 0, out
    assert "needle" in out and "␛" in out
    assert "\x1b]" not in out  # no OSC: window title, hyperlink
    assert "\x1b[2J" not in out and "\x1b[H" not in out  # no screen clear / cursor home
    assert "\x9b" not in out and "\x07" not in out and "\x85" not in out
