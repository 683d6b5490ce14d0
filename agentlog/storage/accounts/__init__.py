"""Users, teams, API keys and the audit log of `agentlog serve`, kept beside the event store.

`AccountStore` is the small protocol the server and `agentlog admin` speak;
`SQLiteAccounts` (`accounts/sqlite.py`) keeps its tables in the same SQLite file
as the events and `PostgresAccounts` in the same PostgreSQL database. API key secrets are
never stored: only a SHA-256 of the whole key (keys carry 190 random bits, so a
fast hash is enough) and a short prefix that lists show.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from agentlog.errors import InvalidInput, UsageError
from agentlog.model import utcnow

KEY_PREFIX = "al_"


class Role(StrEnum):
    # The server's owner (few): every team, user and key; acts for any team with X-AgentLog-Team.
    OWNER = "owner"
    ADMIN = "admin"  # a team admin: its own team's users, keys and audit log, and its data
    MEMBER = "member"  # reads and writes its team's sessions; manages its own keys
    VIEWER = "viewer"  # reads its team's sessions only

    @property
    def manages_team(self) -> bool:
        """Owner or team admin."""
        return self in (Role.OWNER, Role.ADMIN)

    @classmethod
    def parse(cls, value: str | Role) -> Role:
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            raise InvalidInput(
                f"unknown role {value!r}; use one of {', '.join(r.value for r in cls)}"
            ) from None


# A team keeps its sessions at most this long when its admin sets a retention (100 years).
MAX_RETENTION_DAYS = 36_500


@dataclass(frozen=True, slots=True)
class Team:
    id: str
    name: str
    created_at: datetime
    # Sessions idle for longer are erased by the server's retention task (None: kept).
    retention_days: int | None = None

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "created_at": self.created_at,
            "retention_days": self.retention_days,
        }


def check_retention_days(days: int | None) -> int | None:
    if days is not None and not 1 <= days <= MAX_RETENTION_DAYS:
        raise InvalidInput(
            f"retention_days must be 1-{MAX_RETENTION_DAYS:,} (or null to keep everything)"
        )
    return days


@dataclass(frozen=True, slots=True)
class ErasedUser:
    """What erasing a user removed from the account tables (GDPR art. 17)."""

    user_id: str
    pseudonym: str  # what the audit log says instead of their id and email now
    team_id: str
    keys_deleted: int
    audit_entries_pseudonymised: int

    def public(self) -> dict[str, Any]:
        return {
            "pseudonym": self.pseudonym,
            "team_id": self.team_id,
            "keys_deleted": self.keys_deleted,
            "audit_entries_pseudonymised": self.audit_entries_pseudonymised,
        }


@dataclass(frozen=True, slots=True)
class User:
    id: str
    email: str
    role: Role
    team_id: str
    created_at: datetime
    disabled: bool = False
    password_hash: str | None = field(default=None, repr=False)
    # Bumped when the user's password, role or team changes, when disabled, or on "sign out
    # everywhere": access tokens issued under an older version stop working.
    token_version: int = 0

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "email": self.email,
            "role": self.role.value,
            "team_id": self.team_id,
            "disabled": self.disabled,
            "created_at": self.created_at,
        }


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    user_id: str
    team_id: str
    label: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    def active(self, now: datetime | None = None) -> bool:
        return self.revoked_at is None or self.revoked_at > (now or utcnow())

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user_id": self.user_id,
            "team_id": self.team_id,
            "label": self.label,
            "prefix": self.prefix,
            "created_at": self.created_at,
            "last_used_at": self.last_used_at,
            "revoked_at": self.revoked_at,
        }


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: str
    at: datetime
    action: str
    actor_user_id: str | None
    actor_key_id: str | None
    team_id: str | None
    target: str | None
    details: dict[str, Any]

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at,
            "action": self.action,
            "actor_user_id": self.actor_user_id,
            "actor_key_id": self.actor_key_id,
            "team_id": self.team_id,
            "target": self.target,
            "details": self.details,
        }


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did something, for the audit log."""

    user_id: str | None = None
    key_id: str | None = None


def make_key_secret() -> tuple[str, str]:
    """A new API key secret and its public prefix: `al_<8 hex>_<32 url-safe chars>`."""
    prefix = KEY_PREFIX + secrets.token_hex(4)
    return f"{prefix}_{secrets.token_urlsafe(24)}", prefix


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def key_prefix(secret: str) -> str | None:
    """The lookup prefix of a well-formed key, else None."""
    if not secret.startswith(KEY_PREFIX):
        return None
    prefix, sep, rest = secret.partition("_")[2].partition("_")
    if not sep or len(prefix) != 8 or not rest:
        return None
    return KEY_PREFIX + prefix


@runtime_checkable
class AccountStore(Protocol):
    """Persistence of users, teams, API keys, audit entries and per-endpoint API usage."""

    def close(self) -> None: ...
    def ping(self) -> None: ...

    def create_team(self, name: str, actor: Actor = ...) -> Team: ...
    def get_team(self, team_id: str) -> Team: ...
    def team_by_name(self, name: str) -> Team: ...
    def list_teams(self) -> list[Team]: ...
    def set_team_retention(self, team_id: str, days: int | None, actor: Actor = ...) -> Team: ...

    def create_user(
        self, email: str, password_hash: str | None, role: Role, team_id: str, actor: Actor = ...
    ) -> User: ...
    def get_user(self, user_id: str) -> User: ...
    def user_by_email(self, email: str) -> User: ...
    def list_users(self, team_id: str | None = None) -> list[User]: ...
    def count_users(self) -> int: ...
    def update_user(
        self,
        user_id: str,
        *,
        role: Role | None = None,
        team_id: str | None = None,
        disabled: bool | None = None,
        password_hash: str | None = None,
        actor: Actor = ...,
    ) -> User: ...

    def add_refresh_token(
        self, jti: str, user_id: str, family: str, expires_at: datetime
    ) -> None: ...
    def use_refresh_token(self, jti: str, replaced_by: str) -> str: ...
    def end_refresh_family(self, family: str, *, reason: str = ...) -> None: ...
    def refresh_family_ended(self, family: str) -> bool: ...
    def sign_out_everywhere(self, user_id: str, actor: Actor = ...) -> None: ...
    def erase_user(
        self, user_id: str, actor: Actor = ..., details: dict[str, Any] | None = None
    ) -> ErasedUser:
        """Delete the user, their API keys and refresh tokens; pseudonymise their audit
        entries; audit the erasure (with `details`) under the pseudonym. One transaction."""
        ...

    def create_key(
        self, user_id: str, team_id: str, label: str, actor: Actor = ...
    ) -> tuple[ApiKey, str]: ...
    def get_key(self, key_id: str) -> ApiKey: ...
    def list_keys(
        self, *, team_id: str | None = None, user_id: str | None = None
    ) -> list[ApiKey]: ...
    def find_key(self, secret: str) -> ApiKey | None: ...
    def touch_key(self, key_id: str, when: datetime) -> None: ...
    def revoke_key(
        self, key_id: str, *, at: datetime | None = None, actor: Actor = ...
    ) -> ApiKey: ...
    def rotate_key(
        self, key_id: str, *, grace_seconds: int = 0, actor: Actor = ...
    ) -> tuple[ApiKey, str]: ...

    def audit(
        self,
        action: str,
        actor: Actor,
        *,
        team_id: str | None = None,
        target: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None: ...
    def list_audit(
        self,
        *,
        team_id: str | None = None,
        limit: int = 100,
        before: tuple[datetime, str] | None = None,
    ) -> list[AuditEntry]:
        """Newest first; `before` = (at, id) of the last entry of the previous page."""
        ...

    def record_usage(self, rows: Sequence[tuple[str, str, str, int, int]]) -> None:
        """Add (team_id, day 'YYYY-MM-DD', endpoint, requests, errors) counts."""
        ...

    def usage(self, team_id: str, since_day: str, until_day: str) -> list[dict[str, Any]]: ...


def open_accounts(url: str) -> AccountStore:
    """The account store that lives beside the event store at `url`."""
    from agentlog.storage import POSTGRES_SCHEMES, SERVER_SCHEMES, sqlite_path

    if url.startswith(POSTGRES_SCHEMES):
        try:
            from agentlog.storage.accounts import postgres as postgres_accounts
        except ImportError:
            raise UsageError(
                "accounts on PostgreSQL are not available in this version; "
                "run `agentlog serve` on a SQLite file (--db PATH)"
            ) from None
        return postgres_accounts.PostgresAccounts(url)
    if url.startswith(SERVER_SCHEMES):
        raise UsageError("--db must be a database, not a server URL")
    from agentlog.storage.accounts.sqlite import SQLiteAccounts

    return SQLiteAccounts(sqlite_path(url))


__all__ = [
    "MAX_RETENTION_DAYS",
    "AccountStore",
    "Actor",
    "ApiKey",
    "AuditEntry",
    "ErasedUser",
    "Role",
    "Team",
    "User",
    "check_retention_days",
    "hash_key",
    "key_prefix",
    "make_key_secret",
    "open_accounts",
]
