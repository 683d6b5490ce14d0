"""What a user names as a side of a comparison: a session, an export file, or a tag."""

from __future__ import annotations

import os
from pathlib import Path

from agentlog.errors import NotFound, UsageError
from agentlog.gate.runs import Run, load_run
from agentlog.storage.base import SessionQuery, Store, iter_sessions

TAG_PREFIX = "tag:"
_EXPORT_SUFFIXES = (".ndjson", ".jsonl", ".json", ".csv", ".gz")


# compare has no --format: it takes the format from the file name (or the first bytes).
COMPARE_HINT = (
    "compare reads an AgentLog export and takes its format from the extension: .ndjson, "
    ".json or .csv, optionally .gz; make one with `agentlog export SESSION -o baseline.ndjson`"
)


def looks_like_a_file(spec: str) -> bool:
    """Whether `spec` names a file rather than a session: a path, or an export's extension
    (a session id, prefix or `latest` has neither)."""
    return (
        "/" in spec
        or os.sep in spec
        or (os.altsep is not None and os.altsep in spec)
        or spec.lower().endswith(_EXPORT_SUFFIXES)
    )


def load_side(store: Store, spec: str) -> list[Run]:
    """The runs `spec` names: an export file (every top-level session in it), `tag:NAME`
    (the sessions with that tag), or a session id, unique prefix or `latest`."""
    from agentlog.cli.resolve import resolve_session_id

    if spec.startswith(TAG_PREFIX):
        tag = spec[len(TAG_PREFIX) :]
        sessions = list(iter_sessions(store, SessionQuery(tags=[tag])))
        if not sessions:
            raise NotFound(f"no session has the tag {tag!r}; `agentlog sessions list` shows tags")
        return [load_run(store, s) for s in sessions]
    path = Path(spec)
    if path.is_file():
        from agentlog.transfer.viewer import open_file_as_store

        file_store = open_file_as_store(path, advice=COMPARE_HINT)
        try:
            sessions = [
                s
                for s in iter_sessions(file_store, SessionQuery(sort="created_at"))
                if s.parent_session_id is None
            ]
            if not sessions:
                raise NotFound(f"{spec} holds no sessions; export one with `agentlog export ID`")
            return [load_run(file_store, s) for s in sessions]
        finally:
            file_store.close()
    if looks_like_a_file(spec):
        what = "is not a file" if path.exists() else "no such file"
        raise UsageError(
            f"{what}: {spec}; a baseline file is an export: `agentlog export SESSION -o {spec}`"
        )
    session_id = resolve_session_id(store, spec)
    return [load_run(store, store.get_session(session_id))]
