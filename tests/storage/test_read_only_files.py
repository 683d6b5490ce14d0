"""A read-only database file or folder can still be read (issue 9 item 15).

Root ignores permission bits, so the test makes the file and its folder
immutable (`chattr +i`), which binds root too, and always undoes it.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentlog.cli.app import app
from agentlog.model import Event, Session
from agentlog.storage import open_store


def _chattr(flag: str, *paths: Path) -> bool:
    if shutil.which("chattr") is None:
        return False
    done = subprocess.run(["chattr", flag, *map(str, paths)], capture_output=True)
    return done.returncode == 0


@pytest.fixture(params=["file", "folder"])
def frozen(request, tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "store"
    folder.mkdir()
    db = folder / "agentlog.db"
    session = Session(title="frozen timeout run")
    with open_store(str(db)) as store:
        store.write(
            [session],
            [Event(session_id=session.id, type="ERROR", content=f"timeout {i}") for i in range(5)],
        )
    targets = [db] if request.param == "file" else [db, folder]
    for extra in folder.iterdir():  # -wal/-shm left by the writer stay as they are
        if extra != db:
            targets.append(extra)
    if not _chattr("+i", *targets):
        pytest.skip("chattr +i is not available on this filesystem")
    try:
        yield db
    finally:
        _chattr("-i", *targets)


def test_reads_work_on_a_read_only_store_and_writes_say_why_not(frozen: Path, tmp_path) -> None:
    runner = CliRunner()

    def cli(*args: str):
        return runner.invoke(app, ["--db", str(frozen), *args])

    listed = cli("sessions", "list", "--json")
    assert listed.exit_code == 0, listed.stderr
    assert "frozen timeout run" in listed.stdout
    found = cli("search", "timeout", "--json")
    assert found.exit_code == 0, found.stderr
    assert found.stdout.count('"type":"ERROR"') == 5
    checked = cli("db", "check")
    assert checked.exit_code == 0, checked.stderr
    out = tmp_path / "out.ndjson"
    exported = cli("export", "--all", "-o", str(out))
    assert exported.exit_code == 0, exported.stderr
    assert out.read_text().count('"kind":"event"') == 5
    wrote = cli("log", "LOG", "hello", "--session", "latest")
    assert wrote.exit_code == 1
    assert wrote.stderr.strip().splitlines() == [
        f"agentlog: error: cannot write to {frozen}: the file or its folder is read-only; fix "
        "the permissions or point AGENTLOG_HOME / --db at a writable place (reading works as "
        "it is)"
    ]
