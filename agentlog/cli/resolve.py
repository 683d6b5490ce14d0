"""Turn what a user types for a session (a full id, a unique prefix, or `latest`) into its id."""

from __future__ import annotations

import re
import uuid

from agentlog.errors import NotFound, UsageError
from agentlog.storage.base import SessionQuery, Store, iter_sessions

_HEX_PREFIX = re.compile(r"^[0-9a-f-]{1,36}$")
LATEST = ("latest", "last")
MAX_SHOWN = 5


def resolve_session_id(store: Store, text: str) -> str:
    """The id of the session `text` names: full id, unique id prefix, or `latest`.

    A full id is checked to exist; a prefix must match exactly one session
    (an ambiguous prefix lists a few matches so the user can type more).
    """
    raw = text.strip().lower()
    if raw in LATEST:
        page = store.list_sessions(SessionQuery(sort="last_event_at", order="desc", limit=1))
        if not page.items:
            raise NotFound("there are no sessions yet; record some or run `agentlog demo`")
        return page.items[0].id
    try:
        full = str(uuid.UUID(raw))
    except ValueError:
        full = None
    if full is not None:
        return store.get_session(full).id
    if not _HEX_PREFIX.match(raw) or len(raw.replace("-", "")) < 4:
        raise UsageError(
            f"session {text!r} is not a session id; give the id, a prefix of at least 4 "
            "hex digits, or 'latest' (see `agentlog sessions list`)"
        )
    # Sessions have no prefix index in the Store protocol; listing ids is cheap
    # (a summary-table scan) and works the same against every backend.
    matches: list[str] = []
    for session in iter_sessions(store, SessionQuery(sort="created_at", order="desc")):
        if session.id.startswith(raw):
            matches.append(session.id)
            if len(matches) > MAX_SHOWN:
                break
    if not matches:
        raise NotFound(f"no session id starts with {text!r}; `agentlog sessions list` shows them")
    if len(matches) > 1:
        shown = ", ".join(matches[:MAX_SHOWN]) + (", …" if len(matches) > MAX_SHOWN else "")
        raise UsageError(f"session prefix {text!r} is ambiguous ({shown}); type more of the id")
    return matches[0]


__all__ = ["resolve_session_id"]
