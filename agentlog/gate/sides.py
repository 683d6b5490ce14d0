"""What a user names as a side of a comparison: a session, an export file, or a tag."""

from __future__ import annotations

from pathlib import Path

from agentlog.errors import NotFound
from agentlog.gate.runs import Run, load_run
from agentlog.storage.base import SessionQuery, Store, iter_sessions

TAG_PREFIX = "tag:"


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

        file_store = open_file_as_store(path)
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
    session_id = resolve_session_id(store, spec)
    return [load_run(store, store.get_session(session_id))]
