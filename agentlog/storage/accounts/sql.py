"""The `AccountStore` logic the SQLite and PostgreSQL backends share, written once.

`SQLAccounts` holds every query and rule (validation, audit entries, key
rotation); a backend supplies the connection plumbing (`_rows`, `_write`,
`close`) and the few spots where the two SQL dialects differ. Queries use `?`
placeholders: SQLite takes them as they are, `PostgresAccounts` turns them into
psycopg's `%s` (no shared query contains a literal `?` or `%`).
"""

from __future__ import annotations

import hmac
import re
import secrets
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import orjson

from agentlog.errors import Conflict, InvalidInput, NotFound, UsageError
from agentlog.model import from_us, new_id, to_us, utcnow
from agentlog.storage.accounts import (
    Actor,
    ApiKey,
    AuditEntry,
    ErasedUser,
    Role,
    Team,
    User,
    check_retention_days,
    hash_key,
    key_prefix,
    make_key_secret,
)

Statement = tuple[str, Sequence[Any]]
# A sqlite3.Row or a psycopg dict row: both are read by column name.
Row = Any


def _dt(value: int | None) -> datetime | None:
    return None if value is None else from_us(value)


class SQLAccounts(ABC):
    """`AccountStore` over a SQL connection; subclasses differ only in plumbing and dialect."""

    # The audit details parameter and column as each dialect stores them (text vs jsonb).
    _JSON_PARAM = "?"
    _AUDIT_COLUMNS = "*"
    _DETAILS_TEXT = "details"

    @staticmethod
    def _ci(expr: str) -> str:
        """`expr` as compared and sorted regardless of case (SQLite: the columns are NOCASE)."""
        return expr

    @staticmethod
    def _sum(column: str) -> str:
        return f"sum({column})"

    # -- plumbing
    @abstractmethod
    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """The rows of one read query."""

    @abstractmethod
    def _write(self, statements: Sequence[Statement]) -> None:
        """Run `statements` in one transaction; a uniqueness violation raises Conflict."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection(s)."""

    def _audit_stmt(
        self,
        action: str,
        actor: Actor,
        team_id: str | None,
        target: str | None,
        details: dict[str, Any] | None,
    ) -> Statement:
        return (
            "INSERT INTO audit_log (id, at, action, actor_user_id, actor_key_id, team_id, target,"
            f" details) VALUES (?, ?, ?, ?, ?, ?, ?, {self._JSON_PARAM})",
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

    def ping(self) -> None:
        self._rows("SELECT 1")

    # -- teams
    @staticmethod
    def _team(row: Row) -> Team:
        return Team(row["id"], row["name"], from_us(row["created_at"]), row["retention_days"])

    def create_team(self, name: str, actor: Actor = Actor()) -> Team:
        name = name.strip()
        if not name or len(name) > 200:
            raise InvalidInput("team name must be 1-200 characters")
        if self._rows(f"SELECT 1 FROM teams WHERE {self._ci('name')} = {self._ci('?')}", (name,)):
            raise Conflict(f"a team named {name!r} already exists")
        team = Team(new_id(), name, utcnow())
        self._write(
            [
                (
                    "INSERT INTO teams (id, name, created_at) VALUES (?, ?, ?)",
                    (team.id, team.name, to_us(team.created_at)),
                ),
                self._audit_stmt("team.create", actor, team.id, team.id, {"name": name}),
            ]
        )
        return team

    def get_team(self, team_id: str) -> Team:
        rows = self._rows("SELECT * FROM teams WHERE id = ?", (team_id,))
        if not rows:
            raise NotFound(f"no team with id {team_id}")
        return self._team(rows[0])

    def team_by_name(self, name: str) -> Team:
        rows = self._rows(
            f"SELECT * FROM teams WHERE {self._ci('name')} = {self._ci('?')}", (name.strip(),)
        )
        if not rows:
            raise NotFound(
                f"no team named {name!r}; `agentlog admin teams list` shows them, "
                "`agentlog admin teams create NAME` adds one"
            )
        return self._team(rows[0])

    def list_teams(self) -> list[Team]:
        # Names are unique regardless of case, so this order has no ties.
        return [
            self._team(r) for r in self._rows(f"SELECT * FROM teams ORDER BY {self._ci('name')}")
        ]

    def set_team_retention(self, team_id: str, days: int | None, actor: Actor = Actor()) -> Team:
        """Keep the team's sessions `days` days after their last activity (None: for ever)."""
        team = self.get_team(team_id)
        days = check_retention_days(days)
        self._write(
            [
                ("UPDATE teams SET retention_days = ? WHERE id = ?", (days, team_id)),
                self._audit_stmt(
                    "team.retention", actor, team_id, team_id, {"retention_days": days}
                ),
            ]
        )
        return replace(team, retention_days=days)

    # -- users
    @staticmethod
    def _user(row: Row) -> User:
        return User(
            id=row["id"],
            email=row["email"],
            role=Role(row["role"]),
            team_id=row["team_id"],
            created_at=from_us(row["created_at"]),
            disabled=bool(row["disabled"]),
            password_hash=row["password_hash"],
            token_version=int(row["token_version"]),
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
        if self._rows(f"SELECT 1 FROM users WHERE {self._ci('email')} = {self._ci('?')}", (email,)):
            raise Conflict(f"a user with email {email} already exists")
        user = User(new_id(), email, Role(role), team_id, utcnow(), False, password_hash)
        self._write(
            [
                (
                    "INSERT INTO users (id, email, password_hash, role, team_id, disabled,"
                    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        user.id,
                        email,
                        password_hash,
                        user.role.value,
                        team_id,
                        user.disabled,
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
        rows = self._rows("SELECT * FROM users WHERE id = ?", (user_id,))
        if not rows:
            raise NotFound(f"no user with id {user_id}")
        return self._user(rows[0])

    def user_by_email(self, email: str) -> User:
        rows = self._rows(
            f"SELECT * FROM users WHERE {self._ci('email')} = {self._ci('?')}", (email.strip(),)
        )
        if not rows:
            raise NotFound(f"no user with email {email}")
        return self._user(rows[0])

    def list_users(self, team_id: str | None = None) -> list[User]:
        order = f" ORDER BY {self._ci('email')}"
        if team_id:
            rows = self._rows("SELECT * FROM users WHERE team_id = ?" + order, (team_id,))
        else:
            rows = self._rows("SELECT * FROM users" + order)
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
        # A new password, role or team, or disabling, signs the user out everywhere: every
        # access token carries the version it was issued under, every refresh token is ended.
        sign_out = bool({"role", "team_id", "password"} & set(details)) or (
            changed.disabled and not user.disabled
        )
        if sign_out:
            changed = replace(changed, token_version=user.token_version + 1)
        statements: list[Statement] = [
            (
                "UPDATE users SET role = ?, team_id = ?, disabled = ?, password_hash = ?,"
                " token_version = ? WHERE id = ?",
                (
                    changed.role.value,
                    changed.team_id,
                    changed.disabled,
                    changed.password_hash,
                    changed.token_version,
                    user_id,
                ),
            )
        ]
        if sign_out:
            statements.append(self._end_refresh_stmt("user_id", user_id))
        if changed.disabled and not user.disabled:
            # A disabled user's keys stop working at once and stay revoked if re-enabled.
            statements.append(
                (
                    "UPDATE api_keys SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                    (to_us(utcnow()), user_id),
                )
            )
        statements.append(self._audit_stmt("user.update", actor, changed.team_id, user_id, details))
        self._write(statements)
        return changed

    # -- refresh tokens (rotation with reuse detection)
    def _end_refresh_stmt(self, column: str, value: str) -> Statement:
        return (
            f"UPDATE refresh_tokens SET revoked_at = ? WHERE {column} = ? AND revoked_at IS NULL",
            (to_us(utcnow()), value),
        )

    def add_refresh_token(self, jti: str, user_id: str, family: str, expires_at: datetime) -> None:
        """Remember an issued refresh token (only its id: the token itself is never stored)."""
        now = to_us(utcnow())
        self._write(
            [
                ("DELETE FROM refresh_tokens WHERE expires_at < ?", (now,)),
                (
                    "INSERT INTO refresh_tokens (jti, user_id, family, created_at, expires_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (jti, user_id, family, now, to_us(expires_at)),
                ),
            ]
        )

    def use_refresh_token(self, jti: str, replaced_by: str) -> str:
        """Spend a refresh token once: "ok", or "unknown" / "revoked" / "reused".

        A second use of the same token (a stolen copy, or the thief's token after
        the user refreshed) ends its whole family, so both parties must log in again.
        """
        rows = self._rows("SELECT * FROM refresh_tokens WHERE jti = ?", (jti,))
        if not rows:
            return "unknown"
        row = rows[0]
        if row["revoked_at"] is not None:
            return "revoked"
        if row["used_at"] is None:
            self._write(
                [
                    (
                        "UPDATE refresh_tokens SET used_at = ?, replaced_by = ? WHERE jti = ?"
                        " AND used_at IS NULL AND revoked_at IS NULL",
                        (to_us(utcnow()), replaced_by, jti),
                    )
                ]
            )
            again = self._rows("SELECT replaced_by FROM refresh_tokens WHERE jti = ?", (jti,))
            if again and again[0]["replaced_by"] == replaced_by:
                return "ok"
        self.end_refresh_family(row["family"], reason="reuse")
        return "reused"

    def end_refresh_family(self, family: str, *, reason: str = "logout") -> None:
        """End one sign-in: its refresh tokens stop working, and so do its access tokens."""
        rows = self._rows("SELECT user_id FROM refresh_tokens WHERE family = ? LIMIT 1", (family,))
        statements = [self._end_refresh_stmt("family", family)]
        if rows:
            user = self.get_user(rows[0]["user_id"])
            statements.append(
                self._audit_stmt(
                    f"auth.{reason}", Actor(user.id), user.team_id, user.id, {"family": family}
                )
            )
        self._write(statements)

    def refresh_family_ended(self, family: str) -> bool:
        rows = self._rows(
            "SELECT 1 FROM refresh_tokens WHERE family = ? AND revoked_at IS NOT NULL LIMIT 1",
            (family,),
        )
        return bool(rows)

    def sign_out_everywhere(self, user_id: str, actor: Actor = Actor()) -> None:
        """End every token of a user (a new version for access tokens, every refresh token ended)."""
        user = self.get_user(user_id)
        self._write(
            [
                (
                    "UPDATE users SET token_version = token_version + 1 WHERE id = ?",
                    (user_id,),
                ),
                self._end_refresh_stmt("user_id", user_id),
                self._audit_stmt("auth.logout_everywhere", actor, user.team_id, user_id, {}),
            ]
        )

    def erase_user(
        self, user_id: str, actor: Actor = Actor(), details: dict[str, Any] | None = None
    ) -> ErasedUser:
        """Delete the user, their keys and refresh tokens; pseudonymise their audit entries.

        Every audit entry that names the user (as actor, as target, or their id or
        email inside its details) names a random pseudonym instead, the same one for
        all of them, so the log still shows what one person did without saying who.
        The erasure is audited under that pseudonym, in the same transaction.
        """
        user = self.get_user(user_id)
        pseudonym = "erased-" + secrets.token_hex(8)
        keys = self._rows("SELECT id FROM api_keys WHERE user_id = ?", (user_id,))
        named = {
            r["id"]
            for r in self._rows(
                "SELECT id FROM audit_log WHERE actor_user_id = ? OR target = ?", (user_id, user_id)
            )
        }
        mentions = re.compile(f"{re.escape(user.email)}|{re.escape(user_id)}", re.IGNORECASE)
        rewritten: list[Statement] = []
        for needle in (user.email.lower(), user_id.lower()):
            for row in self._rows(
                f"SELECT id, {self._DETAILS_TEXT} AS details FROM audit_log"
                f" WHERE lower({self._DETAILS_TEXT}) LIKE ?",
                (f"%{needle}%",),
            ):
                details_text = mentions.sub(pseudonym, row["details"])
                if details_text != row["details"] and row["id"] not in {p[1][1] for p in rewritten}:
                    named.add(row["id"])
                    rewritten.append(
                        (
                            f"UPDATE audit_log SET details = {self._JSON_PARAM} WHERE id = ?",
                            (details_text, row["id"]),
                        )
                    )
        erased = ErasedUser(user_id, pseudonym, user.team_id, len(keys), len(named))
        self._write(
            [
                (
                    "UPDATE audit_log SET actor_user_id = ? WHERE actor_user_id = ?",
                    (pseudonym, user_id),
                ),
                ("UPDATE audit_log SET target = ? WHERE target = ?", (pseudonym, user_id)),
                *rewritten,
                ("DELETE FROM refresh_tokens WHERE user_id = ?", (user_id,)),
                ("DELETE FROM api_keys WHERE user_id = ?", (user_id,)),
                ("DELETE FROM users WHERE id = ?", (user_id,)),
                self._audit_stmt(
                    "user.erase",
                    actor,
                    user.team_id,
                    pseudonym,
                    {
                        "keys_deleted": erased.keys_deleted,
                        "audit_entries_pseudonymised": erased.audit_entries_pseudonymised,
                        **(details or {}),
                    },
                ),
            ]
        )
        return erased

    # -- API keys
    @staticmethod
    def _key(row: Row) -> ApiKey:
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
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
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
        rows = self._rows("SELECT * FROM api_keys WHERE id = ?", (key_id,))
        if not rows:
            raise NotFound(f"no API key with id {key_id}")
        return self._key(rows[0])

    def list_keys(self, *, team_id: str | None = None, user_id: str | None = None) -> list[ApiKey]:
        where: list[str] = []
        params: list[Any] = []
        if team_id:
            where.append("team_id = ?")
            params.append(team_id)
        if user_id:
            where.append("user_id = ?")
            params.append(user_id)
        sql = "SELECT * FROM api_keys"
        if where:
            sql += " WHERE " + " AND ".join(where)
        return [self._key(r) for r in self._rows(sql + " ORDER BY created_at, id", params)]

    def find_key(self, secret: str) -> ApiKey | None:
        prefix = key_prefix(secret)
        if prefix is None:
            return None
        rows = self._rows("SELECT * FROM api_keys WHERE prefix = ?", (prefix,))
        if not rows or not hmac.compare_digest(rows[0]["key_hash"], hash_key(secret)):
            return None
        return self._key(rows[0])

    def touch_key(self, key_id: str, when: datetime) -> None:
        self._write([("UPDATE api_keys SET last_used_at = ? WHERE id = ?", (to_us(when), key_id))])

    def revoke_key(
        self, key_id: str, *, at: datetime | None = None, actor: Actor = Actor()
    ) -> ApiKey:
        key = self.get_key(key_id)
        when = at or utcnow()
        if key.revoked_at is not None and key.revoked_at <= when:
            return key
        self._write(
            [
                ("UPDATE api_keys SET revoked_at = ? WHERE id = ?", (to_us(when), key_id)),
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
                ("UPDATE api_keys SET revoked_at = ? WHERE id = ?", (to_us(revoke_at), key_id)),
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

    def list_audit(
        self,
        *,
        team_id: str | None = None,
        limit: int = 100,
        before: tuple[datetime, str] | None = None,
    ) -> list[AuditEntry]:
        sql = f"SELECT {self._AUDIT_COLUMNS} FROM audit_log"
        where: list[str] = []
        params: list[Any] = []
        if team_id:
            where.append("team_id = ?")
            params.append(team_id)
        if before is not None:  # keyset: the entries after (older than) the last one shown
            at = to_us(before[0])
            where.append("(at < ? OR (at = ? AND id < ?))")
            params += [at, at, before[1]]
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self._rows(sql + " ORDER BY at DESC, id DESC LIMIT ?", [*params, limit])
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
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (team_id, day, endpoint) DO UPDATE"
                    " SET requests = api_usage.requests + excluded.requests,"
                    " errors = api_usage.errors + excluded.errors",
                    row,
                )
                for row in sorted(rows)  # a fixed lock order: concurrent flushes never deadlock
            ]
        )

    def usage(self, team_id: str, since_day: str, until_day: str) -> list[dict[str, Any]]:
        rows = self._rows(
            f"SELECT endpoint, {self._sum('requests')} AS requests, {self._sum('errors')} AS errors"
            " FROM api_usage WHERE team_id = ? AND day >= ? AND day <= ?"
            " GROUP BY endpoint ORDER BY requests DESC, endpoint",
            (team_id, since_day, until_day),
        )
        return [dict(r) for r in rows]


__all__ = ["Row", "SQLAccounts", "Statement"]
