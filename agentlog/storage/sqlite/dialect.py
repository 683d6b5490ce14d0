"""SQLite's answers to the `Dialect` questions: `?`, IN lists, json_each, FTS5 MATCH."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agentlog.storage.sql.dialect import Clause, Dialect
from agentlog.storage.sql.textsearch import fts_query

# Metadata values compared as text: JSON true/false/null read as their JSON spelling.
_META_TEXT = (
    "CASE type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' WHEN 'null' THEN 'null'"
    " ELSE CAST(value AS TEXT) END"
)


class SQLiteDialect(Dialect):
    name = "sqlite"
    p = "?"
    false = "0"
    event_columns = (
        "e.id, e.session_id, e.ts, e.type, e.agent_id, e.name, e.status, e.parent_id,"
        " e.duration_ms, e.input_tokens, e.output_tokens, e.cost_usd, e.metadata, e.content,"
        " e.cache_read_tokens, e.cache_creation_tokens, e.reasoning_tokens"
    )
    session_columns = (
        "s.rid, s.id, s.title, s.description, s.status, s.parent_session_id, s.tags, s.metadata,"
        " s.created_at, s.updated_at, s.ended_at, s.team_id, s.created_by,"
        " st.event_count, st.error_count, st.first_event_at, st.last_event_at, st.input_tokens,"
        " st.output_tokens, st.cost_usd, st.last_end_at, st.cache_read_tokens,"
        " st.cache_creation_tokens, st.reasoning_tokens"
    )

    def member(self, column: str, values: Sequence[Any]) -> Clause:
        return f"{column} IN ({','.join('?' * len(values))})", list(values)

    def meta_equals(self, column: str, key: str, value: str) -> Clause:
        return (
            f"EXISTS (SELECT 1 FROM json_each({column}) WHERE key = ? AND {_META_TEXT} = ?)",
            [key, value],
        )

    def tags_contain(self, column: str, tags: Sequence[str]) -> Clause:
        one = f"EXISTS (SELECT 1 FROM json_each({column}) WHERE value = ?)"
        return " AND ".join([one] * len(tags)), list(tags)

    def event_text(self, text: str, unindexed_from: int | None = None) -> Clause:
        match = fts_query(text)
        if match is None:
            return self.false, []  # no words to look for: nothing matches
        clause = "e.rid IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ?)"
        if unindexed_from is None:
            return clause, [match]
        # Rows past the index's watermark are matched by the same rules in Python.
        return (
            f"({clause} OR (e.rid > ? AND agentlog_match(?, e.name, e.content)))",
            [match, unindexed_from, text],
        )

    def session_text(self, text: str) -> Clause:
        match = fts_query(text)
        if match is None:
            return self.false, []
        return "s.rid IN (SELECT rowid FROM sessions_fts WHERE sessions_fts MATCH ?)", [match]


SQLITE = SQLiteDialect()
