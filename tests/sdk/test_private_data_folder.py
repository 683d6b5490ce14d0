"""The data folder AgentLog creates is owner-only (0700) and the files in it 0600 (issue 9 item 12).

Whichever face makes the folder first decides its mode, so each one is checked:
the SDK's first write, the spool, migrate's checkpoint. A folder or file the
user already has is never changed.
"""

from __future__ import annotations

import os
import stat

from agentlog.model import new_id


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_sdks_first_write_makes_a_private_folder_and_files(make_log, tmp_path, monkeypatch):
    home = tmp_path / "new" / "home"
    monkeypatch.setenv("AGENTLOG_HOME", str(home))
    log = make_log()
    with log.session("private") as s:
        s.log("hello")
    assert log.flush(timeout=10)
    assert _mode(home) == 0o700
    names = {p.name for p in home.iterdir()}
    assert {"agentlog.db", "agentlog.db-wal", "agentlog.db-shm"} <= names, names
    for path in home.iterdir():
        assert _mode(path) == 0o600, path.name


def test_an_existing_folder_and_file_keep_their_modes(make_log, tmp_path):
    folder = tmp_path / "shared"
    folder.mkdir()
    os.chmod(folder, 0o755)
    db = folder / "mine.db"
    log = make_log(db=str(db))
    log.session("x").log("y")
    assert log.flush(timeout=10)
    log.close(timeout=10)
    os.chmod(db, 0o644)  # the user's own choice for an existing file
    again = make_log(db=str(db))
    again.session("x").log("z")
    assert again.flush(timeout=10)
    assert _mode(folder) == 0o755 and _mode(db) == 0o644


def test_the_spool_and_a_migrate_checkpoint_are_private(tmp_path):
    from agentlog.sdk.spool import SpoolLock, open_spool
    from agentlog.transfer.checkpoint import Checkpoint

    spool_path = tmp_path / "spool-home" / "spool.db"
    with SpoolLock(spool_path):
        pass
    open_spool(spool_path).close()
    assert _mode(spool_path.parent) == 0o700
    for path in spool_path.parent.iterdir():
        assert _mode(path) == 0o600, path.name

    ckpt = tmp_path / "ckpt-home" / f"{new_id()}.ckpt"
    Checkpoint(ckpt, "a.db", "b.db").close()
    assert _mode(ckpt.parent) == 0o700 and _mode(ckpt) == 0o600
