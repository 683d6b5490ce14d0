"""The rules a schema must follow to distribute on Citus by team, checked against the live catalogue.

1. every table holds a `team_id` column (except reference tables, copied to
   every node: `teams` and the account tables read before the team is known);
2. its primary key, and every unique index, starts with `team_id` (a
   distributed table's unique keys must contain the distribution column, and
   leading with it keeps each tenant's rows together);
3. every other index starts with `team_id` too (a tenant's queries then read
   one node's part of one index);
4. no foreign key between distributed tables leaves out `team_id` (a key
   across teams cannot be enforced on one node).

Two kinds of table are not distributed, each with its reason below:
reference tables (`REFERENCE_TABLES`) and coordinator-local ones
(`LOCAL_TABLES`). One kind of index is exempt from rule 3: GIN full-text
indexes (see `_exempt`).

`violations(conn, schema)` lists each broken rule as one line; since schema 9
the store's own schema breaks none (`tests/storage/test_citus_rules.py`).
"""

from __future__ import annotations

import psycopg

# Small tables read before the team is known (a login finds the user by email, a request
# its key by prefix): on Citus they are reference tables, copied to every node.
REFERENCE_TABLES = frozenset(
    {"teams", "users", "api_keys", "refresh_tokens", "agentlog_migrations"}
)
# Kept on the coordinator only (Citus "local tables"), with why:
# - audit_log: one row per administrative act (a login, a key made, a user erased),
#   not per event, so it stays small; some rows belong to no team (server-wide acts),
#   the owner reads it across teams, and erasing a user pseudonymises their entries in
#   every team at once: all cross-team work that a distributed table would fan out.
LOCAL_TABLES = frozenset({"audit_log"})
DISTRIBUTION_COLUMN = "team_id"


def _exempt(method: str, unique: bool) -> bool:
    """A non-unique GIN index need not lead with team_id.

    GIN indexes words (a tsvector's lexemes), not rows in an order: a text column can
    only join one through the btree_gin extension, and a multi-column GIN index has no
    leading column anyway (each column's keys are indexed apart). On Citus every shard
    builds its own GIN index over its own teams' rows (non-unique indexes need not hold
    the distribution column), and a tenant's search filters what it finds by team_id.
    """
    return method == "gin" and not unique


def _tables(conn: psycopg.Connection, schema: str) -> list[str]:
    rows = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
        " ORDER BY c.relname",
        (schema,),
    ).fetchall()
    return [r[0] for r in rows]


def _indexes(
    conn: psycopg.Connection, schema: str, table: str
) -> list[tuple[str, bool, bool, str, str]]:
    """(index name, is primary, is unique, first key column or '' for an expression, method)."""
    rows = conn.execute(
        "SELECT i.relname, x.indisprimary, x.indisunique,"
        " coalesce((SELECT a.attname FROM pg_attribute a"
        "           WHERE a.attrelid = x.indrelid AND a.attnum = x.indkey[0]), ''), m.amname"
        " FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_am m ON m.oid = i.relam"
        " JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace"
        " WHERE n.nspname = %s AND t.relname = %s ORDER BY i.relname",
        (schema, table),
    ).fetchall()
    return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]


def _foreign_keys(conn: psycopg.Connection, schema: str) -> list[tuple[str, str, str, list[str]]]:
    rows = conn.execute(
        "SELECT c.conname, t.relname, r.relname,"
        " array(SELECT a.attname FROM unnest(c.conkey) k JOIN pg_attribute a"
        "       ON a.attrelid = c.conrelid AND a.attnum = k)"
        " FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid"
        " JOIN pg_class r ON r.oid = c.confrelid JOIN pg_namespace n ON n.oid = t.relnamespace"
        " WHERE n.nspname = %s AND c.contype = 'f' ORDER BY c.conname",
        (schema,),
    ).fetchall()
    return [(r[0], r[1], r[2], list(r[3])) for r in rows]


def violations(conn: psycopg.Connection, schema: str) -> list[str]:
    """Every broken rule of the module docstring in `schema`, one line each (empty: ready)."""
    out: list[str] = []
    for table in _tables(conn, schema):
        if table in REFERENCE_TABLES or table in LOCAL_TABLES:
            continue
        columns = {
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_schema = %s AND table_name = %s",
                (schema, table),
            ).fetchall()
        }
        if DISTRIBUTION_COLUMN not in columns:
            out.append(f"{table}: no {DISTRIBUTION_COLUMN} column")
            continue
        for name, primary, unique, first, method in _indexes(conn, schema, table):
            if first == DISTRIBUTION_COLUMN or _exempt(method, unique):
                continue
            kind = "primary key" if primary else "unique index" if unique else "index"
            out.append(f"{table}: {kind} {name} starts with {first or 'an expression'}")
    for name, table, target, key_columns in _foreign_keys(conn, schema):
        undistributed = REFERENCE_TABLES | LOCAL_TABLES
        if undistributed.isdisjoint({table, target}) and DISTRIBUTION_COLUMN not in key_columns:
            out.append(f"{table}: foreign key {name} to {target} leaves out {DISTRIBUTION_COLUMN}")
    return out
