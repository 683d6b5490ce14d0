"""A session tree's totals: a run and every sub-agent session below it (`parent_session_id`), summed.

A LangGraph supervisor's own session holds the hand-offs while its workers' child
sessions hold the model calls, so the root's summary alone reads 0 tokens. The
TUI's timeline header, `agentlog sessions show` and the session lists (CLI, TUI)
show these totals. The sums are one `Store.tree_totals` query on every backend
(SQLite, PostgreSQL, remote), for one session or a whole page of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from agentlog.model import SessionSummary

if TYPE_CHECKING:
    from agentlog.storage.base import Store

TREE_BATCH = 1000  # ids per `Store.tree_totals` call: a list's largest page


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
    complete: bool  # False: only part of the tree was summed (a server too old to sum it)

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


def session_tree_totals(store: Store, session: SessionSummary | str) -> TreeTotals:
    """Sum `session` (a summary, or an id to fetch) and all its descendants' aggregates.

    One `Store.tree_totals` query (in the session's own team, when `store` sees every
    team); a session met twice (its own parent, or a cycle of parent ids) counts once.
    """
    root = store.get_session(session) if isinstance(session, str) else session
    from agentlog.storage.base import session_view

    view = session_view(store, root)  # a view over every team: walk the root's team only
    return view.tree_totals([root.id]).get(root.id) or own_totals(root, complete=False)


def own_totals(session: SessionSummary, *, complete: bool = True) -> TreeTotals:
    """A tree of one: the session's own aggregates (`complete=False`: its tree is unknown)."""
    return TreeTotals(
        sessions=1,
        events=session.event_count,
        errors=session.error_count,
        input_tokens=session.input_tokens,
        output_tokens=session.output_tokens,
        cache_read_tokens=session.cache_read_tokens,
        cache_creation_tokens=session.cache_creation_tokens,
        reasoning_tokens=session.reasoning_tokens,
        cost_usd=session.cost_usd,
        complete=complete,
    )


def root_tree_totals(store: Store, sessions: Sequence[SessionSummary]) -> dict[str, TreeTotals]:
    """The tree totals of the root sessions among `sessions` (a list's page) that have
    sessions below them, in one query: what a list shows in place of a root's own figures."""
    roots = [s.id for s in sessions if s.parent_session_id is None]
    out: dict[str, TreeTotals] = {}
    # One query per page; `--all` asks a page (a server takes 1,000 ids) at a time.
    for start in range(0, len(roots), TREE_BATCH):
        part = store.tree_totals(roots[start : start + TREE_BATCH])
        out.update((sid, t) for sid, t in part.items() if t.sub_sessions)
    return out


__all__ = ["TREE_BATCH", "TreeTotals", "own_totals", "root_tree_totals", "session_tree_totals"]
