"""What differs between the SQL backends, as one object each: placeholders, membership, JSON, text.

`sql/filters.py` writes every query filter once over a `Dialect`; a backend
answers only the few questions whose SQL differs. A new filter is one edit
there, plus a method here if its SQL differs between SQLite and PostgreSQL.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

Clause = tuple[str, list[Any]]  # a WHERE clause and the parameters it binds


class Dialect(ABC):
    """One SQL backend's spelling of the filters' building blocks."""

    name: str
    p: str  # the parameter placeholder
    false: str  # a clause that matches nothing
    event_columns: str  # `events e` columns in `rows.row_event`'s order
    session_columns: str  # `sessions s JOIN session_stats st` columns in `rows.row_session`'s order
    # SQL listing every team key, for an unscoped view of a backend whose keys and indexes
    # all lead with team_id (PostgreSQL's, for Citus); None where ids lead (SQLite).
    every_team: str | None = None

    @abstractmethod
    def member(self, column: str, values: Sequence[Any]) -> Clause:
        """`column` equals one of `values` (never empty)."""

    @abstractmethod
    def meta_equals(self, column: str, key: str, value: str) -> Clause:
        """The JSON object in `column` has `key`, whose value reads as `value` as text
        (JSON true/false/null as their JSON spelling, strings unquoted)."""

    @abstractmethod
    def tags_contain(self, column: str, tags: Sequence[str]) -> Clause:
        """The JSON array in `column` holds every one of `tags` (never empty)."""

    @abstractmethod
    def event_text(self, text: str, unindexed_from: int | None = None) -> Clause:
        """Events whose name or content hold every word of user `text` (`false` if it has none).

        `unindexed_from`: the rid above which rows are not indexed yet (SQLite matches
        them in Python); None when the index is current.
        """

    @abstractmethod
    def session_text(self, text: str) -> Clause:
        """Sessions whose title or description hold every word of user `text`."""
