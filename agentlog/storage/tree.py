"""A session tree's totals: a run and every sub-agent session below it (`parent_session_id`), summed.

A LangGraph supervisor's own session holds the hand-offs while its workers' child
sessions hold the model calls, so the root's summary alone reads 0 tokens. The
TUI's timeline header and `agentlog sessions show` add these totals. The walk
uses `list_sessions` only, so it works on every Store (SQLite, PostgreSQL, remote).
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

from agentlog.model import SessionSummary
from agentlog.storage.base import SessionQuery, Store, iter_sessions, session_view

# Enough for any real supervisor or swarm; a tree this big is summed in part
# (`complete` says so) rather than holding up the header it is read for.
MAX_TREE_SESSIONS = 2000


@dataclass(frozen=True, slots=True)
class TreeTotals:
    """A session and every session below it, summed (the session itself included)."""

    sessions: int
    events: int
    errors: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_creation_tokens: int
    reasoning_tokens: int
    cost_usd: float
    complete: bool  # False: stopped at the limit; the tree has more sessions than were summed

    @property
    def sub_sessions(self) -> int:
        """How many sessions below the root were summed (children, grandchildren, ...)."""
        return self.sessions - 1

    @property
    def tokens(self) -> int:
        """Input plus output tokens, as the TUI's `tok` counts them."""
        return self.input_tokens + self.output_tokens

    def to_json_dict(self) -> dict[str, Any]:
        return asdict(self) | {"sub_sessions": self.sub_sessions}


def session_tree_totals(
    store: Store, session: SessionSummary | str, *, limit: int = MAX_TREE_SESSIONS
) -> TreeTotals:
    """Sum `session` (a summary, or an id to fetch) and all its descendants' aggregates.

    Breadth-first, one `list_sessions(parent_session_id=…)` walk (paged by cursor)
    per session met, reading at most `limit` sessions, the root included. A
    session met twice (its own parent, or a cycle of parent ids) is counted once
    and not walked again, so a corrupt tree can neither loop nor count double.
    """
    root = store.get_session(session) if isinstance(session, str) else session
    view = session_view(store, root)  # a view over every team: walk the root's team only
    found = [root]
    seen = {root.id}
    frontier = deque([root.id])
    complete = True
    while frontier and complete:
        query = SessionQuery(parent_session_id=frontier.popleft())
        for child in iter_sessions(view, query, page_size=min(limit, 500)):
            if child.id in seen:
                continue
            if len(found) >= limit:
                complete = False
                break
            seen.add(child.id)
            found.append(child)
            frontier.append(child.id)
    return TreeTotals(
        sessions=len(found),
        events=sum(s.event_count for s in found),
        errors=sum(s.error_count for s in found),
        input_tokens=sum(s.input_tokens for s in found),
        output_tokens=sum(s.output_tokens for s in found),
        cache_read_tokens=sum(s.cache_read_tokens for s in found),
        cache_creation_tokens=sum(s.cache_creation_tokens for s in found),
        reasoning_tokens=sum(s.reasoning_tokens for s in found),
        cost_usd=sum(s.cost_usd for s in found),
        complete=complete,
    )


__all__ = ["MAX_TREE_SESSIONS", "TreeTotals", "session_tree_totals"]
