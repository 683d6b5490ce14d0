"""`PostgresAccounts`: users, teams, API keys, audit log and API usage of `agentlog serve` on PostgreSQL.

The `AccountStore` protocol of `accounts.py` over the same database (and
`agentlog_schema`) as the `PostgresStore` it sits beside, with its own
migration set ("agentlog_accounts") in the shared migrations table. Emails
and team names are unique regardless of case, as in the SQLite tables.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import orjson
import psycopg
from psycopg.rows import dict_row

from agentlog.errors import Conflict, InvalidInput, NotFound, UsageError
from agentlog.model import from_us, new_id, to_us, utcnow
from agentlog.storage.accounts import (
    Actor,
    ApiKey,
    AuditEntry,
    Role,
    Team,
    User,
    hash_key,
    key_prefix,
    make_key_secret,
)
from agentlog.storage.postgres_conn import connect, open_pool, parse_url, translated
from agentlog.storage.postgres_schema import Migration, _statements, apply

ACCOUNTS_SET = "agentlog_accounts"

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        "m001_accounts",
        _statements(
            "CREATE TABLE teams (id text PRIMARY KEY, name text NOT NULL,"
            " created_at bigint NOT NULL)",
            "CREATE UNIQUE INDEX teams_name ON teams (lower(name))",
            "CREATE TABLE users (id text PRIMARY KEY, email text NOT NULL, password_hash text,"
            " role text NOT NULL, team_id text NOT NULL REFERENCES teams(id),"
            " disabled boolean NOT NULL DEFAULT false, created_at bigint NOT NULL)",
            "CREATE UNIQUE INDEX users_email ON users (lower(email))",
            "CREATE TABLE api_keys (id text PRIMARY KEY, user_id text NOT NULL REFERENCES users(id),"
            " team_id text NOT NULL REFERENCES teams(id), label text NOT NULL,"
            " prefix text NOT NULL UNIQUE, key_hash text NOT NULL, created_at bigint NOT NULL,"
            " last_used_at bigint, revoked_at bigint)",
            "CREATE INDEX api_keys_team ON api_keys (team_id)",
            'CREATE TABLE audit_log (id text COLLATE "C" PRIMARY KEY, at bigint NOT NULL,'
            " action text NOT NULL, actor_user_id text, actor_key_id text, team_id text,"
            " target text, details jsonb NOT NULL DEFAULT '{}')",
            "CREATE INDEX audit_log_team_at ON audit_log (team_id, at)",
            "CREATE TABLE api_usage (team_id text NOT NULL, day text NOT NULL,"
            " endpoint text NOT NULL, requests bigint NOT NULL DEFAULT 0,"
            " errors bigint NOT NULL DEFAULT 0, PRIMARY KEY (team_id, day, endpoint))",
        ),
    ),
)

Statement = tuple[str, Sequence[Any]]


def _dt(value: int | None) -> datetime | None:
    return None if value is None else from_us(value)


class PostgresAccounts:
    """`AccountStore` in the server's PostgreSQL database (a small connection pool)."""

    def __init__(self, url: str, *, pool_size: int = 4) -> None:
        self.url = url
        self._target = parse_url(url)
        self._display = self._target.display
        with connect(self._target) as conn, translated(self._display):
            apply(
                conn,
                schema=self._target.schema,
                display=self._display,
                migration_set=ACCOUNTS_SET,
                migrations=MIGRATIONS,
                marker_table="teams",
            )
        self._pool = open_pool(self._target, max_size=pool_size)

    # -- plumbing
    @contextmanager
    def _conn(self) -> Iterator[psycopg.Connection]:
        with translated(self._display), self._pool.connection() as conn:
            yield conn

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self._conn() as conn, conn.cursor(row_factory=dict_row) as cur:
            return cur.execute(sql, params).fetchall()  # type: ignore[arg-type]

    def _write(self, statements: Sequence[Statement]) -> None:
        with translated(self._display):
            try:
                with self._pool.connection() as conn, conn.transaction():
                    for sql, params in statements:
                        conn.execute(sql, params)  # type: ignore[arg-type]
            except psycopg.errors.UniqueViolation as exc:
                raise Conflict(f"already exists: {str(exc).splitlines()[0]}") from None

    @staticmethod
    def _audit_stmt(
        action: str,
        actor: Actor,
        team_id: str | None,
        target: str | None,
        details: dict[str, Any] | None,
    ) -> Statement:
        return (
            "INSERT INTO audit_log (id, at, action, actor_user_id, actor_key_id, team_id, target,"
            " details) VALUES (%s, %s, %s, %s, %s, %s, %s, %s::jsonb)",
            (
                new_id(),
                to_us(utcnow()),
                action,
                actor.user_id,
                actor.key_id,
                team_id,
                target,
                orjson.dumps(details or {}, default=str).decode(),
            ),
        )

    def close(self) -> None:
        if not self._pool.closed:
            self._pool.close()

    def ping(self) -> None:
        self._rows("SELECT 1")

    # -- teams
    @staticmethod
    def _team(row: dict[str, Any]) -> Team:
        return Team(row["id"], row["name"], from_us(row["created_at"]))

    def create_team(self, name: str, actor: Actor = Actor()) -> Team:
        name = name.strip()
        if not name or len(name) > 200:
            raise InvalidInput("team name must be 1-200 characters")
        if self._rows("SELECT 1 FROM teams WHERE lower(name) = lower(%s)", (name,)):
            raise Conflict(f"a team named {name!r} already exists")
        team = Team(new_id(), name, utcnow())
        self._write(
            [
                (
                    "INSERT INTO teams (id, name, created_at) VALUES (%s, %s, %s)",
                    (team.id, team.name, to_us(team.created_at)),
                ),
                self._audit_stmt("team.create", actor, team.id, team.id, {"name": name}),
            ]
        )
        return team

    def get_team(self, team_id: str) -> Team:
        rows = self._rows("SELECT * FROM teams WHERE id = %s", (team_id,))
        if not rows:
            raise NotFound(f"no team with id {team_id}")
        return self._team(rows[0])

    def team_by_name(self, name: str) -> Team:
        rows = self._rows("SELECT * FROM teams WHERE lower(name) = lower(%s)", (name.strip(),))
        if not rows:
            raise NotFound(
                f"no team named {name!r}; `agentlog admin teams list` shows them, "
                "`agentlog admin teams create NAME` adds one"
            )
        return self._team(rows[0])

    def list_teams(self) -> list[Team]:
        return [self._team(r) for r in self._rows("SELECT * FROM teams ORDER BY lower(name), id")]

    # -- users
    @staticmethod
    def _user(row: dict[str, Any]) -> User:
        return User(
            id=row["id"],
            email=row["email"],
            role=Role(row["role"]),
            team_id=row["team_id"],
            created_at=from_us(row["created_at"]),
            disabled=bool(row["disabled"]),
            password_hash=row["password_hash"],
        )

    def create_user(
        self,
        email: str,
        password_hash: str | None,
        role: Role,
        team_id: str,
        actor: Actor = Actor(),
    ) -> User:
        email = email.strip()
        if "@" not in email or len(email) > 320 or any(c.isspace() for c in email):
            raise InvalidInput(f"{email[:80]!r} is not an email address")
        self.get_team(team_id)
        if self._rows("SELECT 1 FROM users WHERE lower(email) = lower(%s)", (email,)):
            raise Conflict(f"a user with email {email} already exists")
        user = User(new_id(), email, Role(role), team_id, utcnow(), False, password_hash)
        self._write(
            [
                (
                    "INSERT INTO users (id, email, password_hash, role, team_id, disabled,"
                    " created_at) VALUES (%s, %s, %s, %s, %s, false, %s)",
                    (
                        user.id,
                        email,
                        password_hash,
                        user.role.value,
                        team_id,
                        to_us(user.created_at),
                    ),
                ),
                self._audit_stmt(
                    "user.create",
                    actor,
                    team_id,
                    user.id,
                    {"email": email, "role": user.role.value},
                ),
            ]
        )
        return user

    def get_user(self, user_id: str) -> User:
        rows = self._rows("SELECT * FROM users WHERE id = %s", (user_id,))
        if not rows:
            raise NotFound(f"no user with id {user_id}")
        return self._user(rows[0])

    def user_by_email(self, email: str) -> User:
        rows = self._rows("SELECT * FROM users WHERE lower(email) = lower(%s)", (email.strip(),))
        if not rows:
            raise NotFound(f"no user with email {email}")
        return self._user(rows[0])

    def list_users(self, team_id: str | None = None) -> list[User]:
        if team_id:
            rows = self._rows(
                "SELECT * FROM users WHERE team_id = %s ORDER BY lower(email)", (team_id,)
            )
        else:
            rows = self._rows("SELECT * FROM users ORDER BY lower(email)")
        return [self._user(r) for r in rows]

    def count_users(self) -> int:
        return int(self._rows("SELECT count(*) AS n FROM users")[0]["n"])

    def update_user(
        self,
        user_id: str,
        *,
        role: Role | None = None,
        team_id: str | None = None,
        disabled: bool | None = None,
        password_hash: str | None = None,
        actor: Actor = Actor(),
    ) -> User:
        user = self.get_user(user_id)
        if team_id is not None:
            self.get_team(team_id)
        changed = replace(
            user,
            role=Role(role) if role is not None else user.role,
            team_id=team_id if team_id is not None else user.team_id,
            disabled=disabled if disabled is not None else user.disabled,
            password_hash=password_hash if password_hash is not None else user.password_hash,
        )
        details: dict[str, Any] = {}
        if changed.role != user.role:
            details["role"] = changed.role.value
        if changed.team_id != user.team_id:
            details["team_id"] = changed.team_id
        if changed.disabled != user.disabled:
            details["disabled"] = changed.disabled
        if password_hash is not None:
            details["password"] = "changed"
        statements: list[Statement] = [
            (
                "UPDATE users SET role = %s, team_id = %s, disabled = %s, password_hash = %s"
                " WHERE id = %s",
                (
                    changed.role.value,
                    changed.team_id,
                    changed.disabled,
                    changed.password_hash,
                    user_id,
                ),
            )
        ]
        if changed.disabled and not user.disabled:
            # A disabled user's keys stop working at once and stay revoked if re-enabled.
            statements.append(
                (
                    "UPDATE api_keys SET revoked_at = %s WHERE user_id = %s AND revoked_at IS NULL",
                    (to_us(utcnow()), user_id),
                )
            )
        statements.append(self._audit_stmt("user.update", actor, changed.team_id, user_id, details))
        self._write(statements)
        return changed

    # -- API keys
    @staticmethod
    def _key(row: dict[str, Any]) -> ApiKey:
        return ApiKey(
            id=row["id"],
            user_id=row["user_id"],
            team_id=row["team_id"],
            label=row["label"],
            prefix=row["prefix"],
            created_at=from_us(row["created_at"]),
            last_used_at=_dt(row["last_used_at"]),
            revoked_at=_dt(row["revoked_at"]),
        )

    @staticmethod
    def _insert_key_stmt(key: ApiKey, secret: str) -> Statement:
        return (
            "INSERT INTO api_keys (id, user_id, team_id, label, prefix, key_hash, created_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (
                key.id,
                key.user_id,
                key.team_id,
                key.label,
                key.prefix,
                hash_key(secret),
                to_us(key.created_at),
            ),
        )

    def create_key(
        self, user_id: str, team_id: str, label: str, actor: Actor = Actor()
    ) -> tuple[ApiKey, str]:
        label = label.strip()
        if not label or len(label) > 200:
            raise InvalidInput("an API key label must be 1-200 characters (e.g. --label ci)")
        user = self.get_user(user_id)
        if user.disabled:
            raise UsageError(f"user {user.email} is disabled; enable them before creating keys")
        self.get_team(team_id)
        secret, prefix = make_key_secret()
        key = ApiKey(new_id(), user_id, team_id, label, prefix, utcnow())
        self._write(
            [
                self._insert_key_stmt(key, secret),
                self._audit_stmt(
                    "key.create", actor, team_id, key.id, {"label": label, "prefix": prefix}
                ),
            ]
        )
        return key, secret

    def get_key(self, key_id: str) -> ApiKey:
        rows = self._rows("SELECT * FROM api_keys WHERE id = %s", (key_id,))
        if not rows:
            raise NotFound(f"no API key with id {key_id}")
        return self._key(rows[0])

    def list_keys(self, *, team_id: str | None = None, user_id: str | None = None) -> list[ApiKey]:
        where: list[str] = []
        params: list[Any] = []
        if team_id:
            where.append("team_id = %s")
            params.append(team_id)
        if user_id:
            where.append("user_id = %s")
            params.append(user_id)
        sql = "SELECT * FROM api_keys"
        if where:
            sql += " WHERE " + " AND ".join(where)
        return [self._key(r) for r in self._rows(sql + " ORDER BY created_at, id", params)]

    def find_key(self, secret: str) -> ApiKey | None:
        prefix = key_prefix(secret)
        if prefix is None:
            return None
        rows = self._rows("SELECT * FROM api_keys WHERE prefix = %s", (prefix,))
        if not rows or not hmac.compare_digest(rows[0]["key_hash"], hash_key(secret)):
            return None
        return self._key(rows[0])

    def touch_key(self, key_id: str, when: datetime) -> None:
        self._write(
            [("UPDATE api_keys SET last_used_at = %s WHERE id = %s", (to_us(when), key_id))]
        )

    def revoke_key(
        self, key_id: str, *, at: datetime | None = None, actor: Actor = Actor()
    ) -> ApiKey:
        key = self.get_key(key_id)
        when = at or utcnow()
        if key.revoked_at is not None and key.revoked_at <= when:
            return key
        self._write(
            [
                ("UPDATE api_keys SET revoked_at = %s WHERE id = %s", (to_us(when), key_id)),
                self._audit_stmt("key.revoke", actor, key.team_id, key_id, {"at": when}),
            ]
        )
        return replace(key, revoked_at=when)

    def rotate_key(
        self, key_id: str, *, grace_seconds: int = 0, actor: Actor = Actor()
    ) -> tuple[ApiKey, str]:
        old = self.get_key(key_id)
        if not old.active():
            raise UsageError(f"API key {key_id} is revoked; create a new one instead")
        now = utcnow()
        revoke_at = now + timedelta(seconds=max(0, grace_seconds))
        secret, prefix = make_key_secret()
        new = ApiKey(new_id(), old.user_id, old.team_id, old.label, prefix, now)
        self._write(
            [
                self._insert_key_stmt(new, secret),
                ("UPDATE api_keys SET revoked_at = %s WHERE id = %s", (to_us(revoke_at), key_id)),
                self._audit_stmt(
                    "key.rotate",
                    actor,
                    old.team_id,
                    key_id,
                    {"new_key_id": new.id, "grace_seconds": grace_seconds},
                ),
            ]
        )
        return new, secret

    # -- audit
    def audit(
        self,
        action: str,
        actor: Actor,
        *,
        team_id: str | None = None,
        target: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self._write([self._audit_stmt(action, actor, team_id, target, details)])

    def list_audit(self, *, team_id: str | None = None, limit: int = 100) -> list[AuditEntry]:
        sql = "SELECT id, at, action, actor_user_id, actor_key_id, team_id, target, details::text AS details FROM audit_log"
        params: list[Any] = []
        if team_id:
            sql += " WHERE team_id = %s"
            params.append(team_id)
        rows = self._rows(sql + " ORDER BY at DESC, id DESC LIMIT %s", [*params, limit])
        return [
            AuditEntry(
                r["id"],
                from_us(r["at"]),
                r["action"],
                r["actor_user_id"],
                r["actor_key_id"],
                r["team_id"],
                r["target"],
                orjson.loads(r["details"]),
            )
            for r in rows
        ]

    # -- API usage per endpoint
    def record_usage(self, rows: Sequence[tuple[str, str, str, int, int]]) -> None:
        if not rows:
            return
        self._write(
            [
                (
                    "INSERT INTO api_usage (team_id, day, endpoint, requests, errors)"
                    " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (team_id, day, endpoint) DO UPDATE"
                    " SET requests = api_usage.requests + excluded.requests,"
                    " errors = api_usage.errors + excluded.errors",
                    row,
                )
                for row in sorted(rows)  # a fixed lock order: concurrent flushes never deadlock
            ]
        )

    def usage(self, team_id: str, since_day: str, until_day: str) -> list[dict[str, Any]]:
        rows = self._rows(
            "SELECT endpoint, sum(requests)::bigint AS requests, sum(errors)::bigint AS errors"
            " FROM api_usage WHERE team_id = %s AND day >= %s AND day <= %s"
            " GROUP BY endpoint ORDER BY requests DESC, endpoint",
            (team_id, since_day, until_day),
        )
        return [dict(r) for r in rows]


__all__ = ["ACCOUNTS_SET", "PostgresAccounts"]
