"""Writers killed with SIGKILL at random moments, 20 times each: the SDK ingesting and
`agentlog import`. After every kill the file opens and passes `agentlog db check`, every
acknowledged event is there, and finishing the import afterwards adds no duplicate.

Bounded: each writer runs well under a second before its kill (seeded delays), and
every child is waited for.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from agentlog.errors import NotFound
from agentlog.model import Event, EventType, Session
from agentlog.storage.base import EventQuery
from agentlog.storage.sqlite.store import SQLiteStore

KILLS = 20
ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}

SDK_WRITER = """
import sys
from agentlog import AgentLog
log = AgentLog(sys.argv[1], batch_size=200, flush_interval=0.05)
acknowledged = 0
with log.session("crash run", session_id=sys.argv[2]) as s:
    print("ready", flush=True)
    while True:
        for i in range(50):
            s.log(f"kiwi event {acknowledged + i} " * 8)
        if log.flush(10):
            acknowledged += 50
            print(f"ack {acknowledged}", flush=True)
"""


def _kill_after(proc: subprocess.Popen, delay: float) -> list[str]:
    """SIGKILL `proc` `delay` seconds after it says ready; the lines it printed by then."""
    assert proc.stdout is not None
    lines = [proc.stdout.readline().strip()]
    assert lines[0] == "ready", lines
    time.sleep(delay)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    lines += [line.strip() for line in proc.stdout.read().splitlines()]
    return lines


def test_sdk_ingest_killed_20_times_keeps_every_acknowledged_event(tmp_path: Path) -> None:
    db = tmp_path / "sdk.db"
    rng = random.Random(20261203)
    total_acknowledged = 0
    for run in range(KILLS):
        sid = Session().id
        proc = subprocess.Popen(
            [sys.executable, "-c", SDK_WRITER, str(db), sid],
            stdout=subprocess.PIPE,
            text=True,
            env=ENV,
        )
        lines = _kill_after(proc, rng.uniform(0.02, 0.3))
        acks = [int(line.split()[1]) for line in lines if line.startswith("ack ")]
        acknowledged = acks[-1] if acks else 0
        total_acknowledged += acknowledged
        with SQLiteStore(db) as store:
            assert store.check() == [], f"kill {run + 1}"
            try:
                stored = store.count_events(EventQuery(session_id=sid))
            except NotFound:  # killed before its first write reached the file
                stored = 0
            assert stored >= acknowledged, f"kill {run + 1}: {stored} stored, {acknowledged} acked"
    with SQLiteStore(db) as store:
        assert store.count_events(EventQuery()) >= total_acknowledged > 0
        assert store.count_events(EventQuery(text="kiwi")) == store.count_events(EventQuery())


def _export_file(tmp_path: Path, sessions: int = 10, per_session: int = 500) -> tuple[Path, int]:
    """An NDJSON export written by `agentlog export` from a store made here."""
    source = tmp_path / "source.db"
    with SQLiteStore(source) as store:
        for n in range(sessions):
            s = Session(title=f"imported {n}")
            store.write(
                [s],
                [
                    Event(session_id=s.id, type=EventType.LOG, content=f"mango {n} {i} " * 10)
                    for i in range(per_session)
                ],
            )
    out = tmp_path / "export.ndjson"
    subprocess.run(
        [sys.executable, "-m", "agentlog", "--db", str(source), "export", "--all",
         "--format", "ndjson", "-o", str(out)],
        check=True, env=ENV, capture_output=True, timeout=120,
    )  # fmt: skip
    return out, sessions * per_session


def test_import_killed_20_times_then_finished_has_every_event_once(tmp_path: Path) -> None:
    export, total = _export_file(tmp_path)
    db = tmp_path / "target.db"
    SQLiteStore(db).close()
    rng = random.Random(42)
    command = [sys.executable, "-u", "-c",
               "import sys; print('ready', flush=True); from agentlog.cli.app import main; "
               "sys.argv = ['agentlog'] + sys.argv[1:]; main()",
               "--db", str(db), "import", str(export)]  # fmt: skip
    for run in range(KILLS):
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                text=True, env=ENV)  # fmt: skip
        _kill_after(proc, rng.uniform(0.2, 1.2))
        with SQLiteStore(db) as store:
            assert store.check() == [], f"kill {run + 1}"
            assert store.count_events(EventQuery()) <= total
    done = subprocess.run(command, capture_output=True, text=True, env=ENV, timeout=300)
    assert done.returncode == 0, done.stderr
    again = subprocess.run(command, capture_output=True, text=True, env=ENV, timeout=300)
    assert again.returncode == 0, again.stderr
    with SQLiteStore(db) as store:
        assert store.check() == []
        assert store.count_events(EventQuery()) == total  # every event, once
        assert store.count_events(EventQuery(text="mango")) == total
