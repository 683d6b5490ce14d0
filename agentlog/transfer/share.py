"""Share: one session and its child sessions as a self-contained NDJSON.gz, optionally redacted.

The colleague who receives the file imports it (`agentlog import FILE`) or
views it without importing (`agentlog tui FILE`, through `open_file_as_store`).
"""

from __future__ import annotations

from pathlib import Path

from agentlog.model import normalize_id
from agentlog.storage.base import Store
from agentlog.transfer.export import ExportStats, Selection, export
from agentlog.transfer.fileio import refuse_overwrite
from agentlog.transfer.redact import Redactor


def default_share_path(session_id: str) -> Path:
    return Path(f"agentlog-{session_id[:8]}.ndjson.gz")


def share_session(
    store: Store,
    session_id: str,
    path: str | Path | None = None,
    *,
    redactor: Redactor | None = None,
    force: bool = False,
) -> ExportStats:
    """Write `session_id` and all its descendants to `path` (default agentlog-<id8>.ndjson.gz).

    An existing file is replaced only with `force` (a UsageError otherwise).
    """
    session_id = normalize_id(session_id, "session id") if session_id else session_id
    target = Path(path) if path not in (None, "") else default_share_path(session_id)
    if str(target) != "-" and not str(target).endswith(".gz"):
        target = target.with_name(target.name + ".gz")
    refuse_overwrite(target, force=force)
    sel = Selection(session_ids=(session_id,), include_children=True)
    transform = redactor if redactor is not None and redactor.active else None
    return export(store, sel, "ndjson", target, transform=transform)


__all__ = ["default_share_path", "share_session"]
