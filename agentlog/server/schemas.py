"""Request and response bodies of the API (documentation models; the store's models inside)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from agentlog.model import (
    MAX_BATCH_EVENTS,
    BatchError,
    Event,
    Session,
    SessionSummary,
)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BatchIn(_Body):
    """Sessions to upsert and events to insert in one request (≤ 1,000 events, ≤ 10 MiB)."""

    sessions: list[Session] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list, max_length=MAX_BATCH_EVENTS)


class BatchResult(BaseModel):
    """200 when every item was stored; 207 when some were rejected (listed by kind and index)."""

    inserted: int
    duplicates: int
    errors: list[BatchError]


class SessionPage(BaseModel):
    items: list[SessionSummary]
    next_cursor: str | None = None


class EventPage(BaseModel):
    items: list[Event]
    next_cursor: str | None = None


class SessionChangesOut(BaseModel):
    items: list[SessionSummary]
    token: str
    more: bool = False


class CountOut(BaseModel):
    count: int


class DeletedOut(BaseModel):
    deleted_events: int
    # The session and every session below it (with ?tree=false: 1, the session alone).
    deleted_sessions: int = 1


def _time_text(value: Any) -> Any:
    # The document says an ISO 8601 string; a bare number (epoch?) is refused, not guessed.
    if not isinstance(value, str | datetime):
        raise ValueError("before must be an ISO 8601 time, e.g. 2026-01-31T00:00:00Z")
    return value


class PruneIn(_Body):
    before: Annotated[datetime, BeforeValidator(_time_text)]


class PruneOut(BaseModel):
    sessions: int


class TreesIn(_Body):
    # A page of sessions at most (a list's page: 1..1000 rows).
    ids: list[str] = Field(max_length=1000)


class TreeTotalsOut(BaseModel):
    """A session and every session below it, summed (the session itself included)."""

    sessions: int
    sub_sessions: int
    events: int
    errors: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_creation_tokens: int
    reasoning_tokens: int
    cost_usd: float
    complete: bool


class TreesOut(BaseModel):
    trees: dict[str, TreeTotalsOut]


class InfoOut(BaseModel):
    backend: str
    schema_version: int
    sessions: int
    events: int
    oldest_event_at: datetime | None = None
    newest_event_at: datetime | None = None
    team_id: str | None = None


class LoginIn(_Body):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class RefreshIn(_Body):
    refresh_token: str = Field(max_length=4096)


class LogoutIn(_Body):
    everywhere: bool = Field(
        default=False, description="End every sign-in of this user, not just this one."
    )


class TokensOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int


class MeOut(BaseModel):
    user_id: str
    team_id: str
    role: str
    email: str
    key_id: str | None = None
    via: str


class KeyCreateIn(_Body):
    label: str = Field(min_length=1, max_length=200)
    team: str | None = Field(default=None, max_length=200, description="Team name (admins only)")
    user_id: str | None = Field(default=None, description="Owner (admins only; default: you)")


class KeyRotateIn(_Body):
    grace_seconds: int = Field(default=0, ge=0, le=30 * 24 * 3600)


class KeyOut(BaseModel):
    id: str
    user_id: str
    team_id: str
    label: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class KeySecretOut(KeyOut):
    secret: str = Field(description="Shown once; only a hash is kept")


class TeamIn(_Body):
    name: str = Field(min_length=1, max_length=200)


class TeamOut(BaseModel):
    id: str
    name: str
    created_at: datetime
    retention_days: int | None = Field(
        default=None,
        description="Sessions idle for longer are erased by the server (null: kept for ever).",
    )


class TeamUpdateIn(_Body):
    retention_days: int | None = Field(
        ge=1,
        le=36_500,
        description="Days the team keeps a session after its last activity; null: for ever.",
    )


class UserEraseIn(_Body):
    sessions: Literal["delete", "transfer"] = Field(
        description="The user's sessions: deleted with their events, or kept for the team"
        " (no creator recorded)."
    )


class UserErasedOut(BaseModel):
    pseudonym: str = Field(description="What the audit log says instead of the user now.")
    team_id: str
    sessions: Literal["delete", "transfer"]
    sessions_affected: int
    keys_deleted: int
    audit_entries_pseudonymised: int


class RetentionOut(BaseModel):
    at: datetime
    sessions_erased: dict[str, int] = Field(description="Sessions erased, by team id.")
    archives: dict[str, str] = Field(description="NDJSON.gz archive written, by team id.")
    months_dropped: list[str] = Field(description="Months of events dropped whole (YYYY-MM).")
    partitions: list[str] = Field(description="Months with event partitions (PostgreSQL).")


ROLES: dict[str, Any] = {"enum": ["owner", "admin", "member", "viewer"]}


class UserCreateIn(_Body):
    email: str = Field(max_length=320, json_schema_extra={"format": "email"})
    password: str | None = Field(default=None, min_length=8, max_length=1024)
    role: str = Field(default="member", json_schema_extra=ROLES)
    team: str | None = Field(default=None, max_length=200)


class UserUpdateIn(_Body):
    role: str | None = Field(default=None, json_schema_extra=ROLES)
    team: str | None = Field(default=None, max_length=200)
    disabled: bool | None = None
    password: str | None = Field(default=None, max_length=1024)


class UserOut(BaseModel):
    id: str
    email: str
    role: str
    team_id: str
    disabled: bool
    created_at: datetime


class UserCreatedOut(UserOut):
    generated_password: str | None = None


class AuditOut(BaseModel):
    id: str
    at: datetime
    action: str
    actor_user_id: str | None
    actor_key_id: str | None
    team_id: str | None
    target: str | None
    details: dict[str, Any]


class UsageOut(BaseModel):
    since: datetime
    until: datetime
    totals: dict[str, Any]
    per_user: list[dict[str, Any]]
    per_agent: list[dict[str, Any]]
    per_type: list[dict[str, Any]]
    per_integration: list[dict[str, Any]]
    per_day: list[dict[str, Any]]
    per_endpoint: list[dict[str, Any]]


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorOut(BaseModel):
    error: ErrorBody


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": text}
    for status, text in [
        (400, "Malformed request or cursor"),
        (401, "Missing, expired, forged or revoked credentials"),
        (403, "Not allowed for your role"),
        (404, "Not found (or another team's)"),
        (413, "Body, batch or field too large"),
        (422, "Invalid input"),
        (429, "Rate limited (see Retry-After)"),
    ]
}
