"""`AgentLog()` with a key that is not a Fernet key: refused at set-up, nothing written or lost."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
from agentlog import AgentLog
log = AgentLog(db={db!r})
with log.session("s") as s:
    s.event("message", content="hello")
log.flush()
print("done")
"""


def test_a_bad_encryption_key_stops_the_sdk_at_set_up(tmp_path: Path) -> None:
    """One ConfigError naming the variable, a non-zero exit, no database file: not a lost batch."""
    db = tmp_path / "a.db"
    env = dict(
        os.environ,
        AGENTLOG_ENCRYPTION_KEY="notakey",
        AGENTLOG_HOME=str(tmp_path / "home"),
        PYTHONPATH=str(ROOT),
    )
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(db=str(db))],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "done" not in proc.stdout
    errors = [
        line for line in proc.stderr.splitlines() if line.startswith("agentlog.errors.ConfigError")
    ]
    assert len(errors) == 1 and "AGENTLOG_ENCRYPTION_KEY" in errors[0], proc.stderr
    assert "gave up" not in proc.stderr and "retrying" not in proc.stderr
    assert not db.exists()
