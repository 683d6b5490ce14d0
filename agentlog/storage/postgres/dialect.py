"""PostgreSQL's answers to the `Dialect` questions: `%s`, `= ANY`, jsonb operators, tsquery.

Rows come back in the SQLite store's column order (JSONB read as text), so
`sql/rows.py` turns both backends' rows into models.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from agentlog.storage.postgres.search import query_phrases, tsquery_sql
from agentlog.storage.sql.dialect import Clause, Dialect


class PostgresDialect(Dialect):
    name = "postgresql"
    p = "%s"
    false = "false"
    event_columns = (
        "e.id, e.session_id, e.ts, e.type, e.agent_id, e.name, e.status, e.parent_id,"
        " e.duration_ms, e.input_tokens, e.output_tokens, e.cost_usd, e.metadata::text, e.content,"
        " e.cache_read_tokens, e.cache_creation_tokens, e.reasoning_tokens"
    )
    # Column 0 mirrors SQLite's rid slot; row_session never reads it.
    session_columns = (
        "0, s.id, s.title, s.description, s.status, s.parent_session_id, s.tags::text,"
        " s.metadata::text, s.created_at, s.updated_at, s.ended_at, s.team_id, s.created_by,"
        " st.event_count, st.error_count, st.first_event_at, st.last_event_at, st.input_tokens,"
        " st.output_tokens, st.cost_usd, st.last_end_at, st.cache_read_tokens,"
        " st.cache_creation_tokens, st.reasoning_tokens"
    )

    # A loose scan of session_stats' (team_id, ...) key: one probe per team.
    every_team = (
        "WITH RECURSIVE t(team) AS (SELECT min(team_id) FROM session_stats UNION ALL"
        " SELECT (SELECT min(team_id) FROM session_stats WHERE team_id > t.team) FROM t"
        " WHERE t.team IS NOT NULL) SELECT team FROM t WHERE team IS NOT NULL"
    )

    def member(self, column: str, values: Sequence[Any]) -> Clause:
        return f"{column} = ANY(%s)", [list(values)]

    def meta_equals(self, column: str, key: str, value: str) -> Clause:
        # JSON null reads as 'null' (as in SQLite's json_each); strings unquoted.
        return (
            f"(CASE jsonb_typeof({column} -> %s) WHEN 'null' THEN 'null'"
            f" ELSE {column} ->> %s END) = %s",
            [key, key, value],
        )

    def tags_contain(self, column: str, tags: Sequence[str]) -> Clause:
        return f"{column} @> %s::jsonb", [orjson.dumps(list(tags)).decode()]

    def event_text(self, text: str, unindexed_from: int | None = None) -> Clause:
        # A search indexes every pending row first, so `unindexed_from` never applies here.
        phrases = query_phrases(text)
        if not phrases:
            return self.false, []  # no words to look for: nothing matches
        tsq, args = tsquery_sql(phrases)
        return (
            f"(e.team_id, e.rid) IN (SELECT f.team_id, f.rid FROM events_fts f WHERE f.tsv @@ {tsq})",
            args,
        )

    def session_text(self, text: str) -> Clause:
        phrases = query_phrases(text)
        if not phrases:
            return self.false, []
        tsq, args = tsquery_sql(phrases)
        return f"s.search @@ {tsq}", args


POSTGRES = PostgresDialect()
