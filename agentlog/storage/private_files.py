"""Owner-only files for a server's database and keys: new ones are made 0600 in a 0700 folder, and
existing ones that others can read are tightened (with a warning), since they hold password and
key hashes and every team's events.

Policy: the database file and its `-wal`/`-shm`/`-journal` companions, and the signing-key
file, are set to 0600 when this user owns them (a warning names each file fixed); a folder
is never changed (it may be shared on purpose), but a warning names one that other users
can write to or list.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger("agentlog.server")
COMPANIONS = ("", "-wal", "-shm", "-journal")


def private_folder(folder: Path) -> None:
    """Make `folder` owner-only (0700) if AgentLog creates it; an existing one is left as it is.

    Every face that makes the data folder (the SDK, the spool, a store, migrate's
    checkpoints, the server's key) goes through here, so whichever runs first
    makes it private.
    """
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)


def create_private(path: Path) -> None:
    """Make the folder (0700 when new) and the file (0600 when new)."""
    private_folder(path.parent)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def tighten(path: Path, *, companions: bool = True) -> list[str]:
    """Set `path` (and its SQLite companions) to 0600 if others may read them; warn about the folder.

    Returns the warnings given (for tests and the CLI).
    """
    notes: list[str] = []
    for suffix in COMPANIONS if companions else ("",):
        target = Path(str(path) + suffix)
        try:
            st = target.stat()
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode) or not st.st_mode & 0o077:
            continue
        old = stat.S_IMODE(st.st_mode)
        if st.st_uid != os.geteuid():
            notes.append(f"{target} is mode {old:04o} and owned by another user; make it 0600")
            continue
        try:
            os.chmod(target, 0o600)
        except OSError as exc:
            notes.append(f"{target} is mode {old:04o} and cannot be made 0600: {exc.strerror}")
            continue
        notes.append(f"{target} was mode {old:04o}; set it to 0600 (it holds account hashes)")
    folder = path.parent
    try:
        mode = folder.stat().st_mode
    except OSError:
        mode = 0
    if mode and mode & 0o077 and not mode & stat.S_ISVTX:
        notes.append(
            f"the folder {folder} is mode {stat.S_IMODE(mode):04o}: other users can "
            f"{'write to' if mode & 0o022 else 'list'} it; consider chmod 700 {folder}"
        )
    for note in notes:
        if note not in _WARNED:  # the server opens its files more than once as it starts
            _WARNED.add(note)
            log.warning(note)
    return notes


_WARNED: set[str] = set()


__all__ = ["create_private", "private_folder", "tighten"]
