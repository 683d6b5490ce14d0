"""The one place for user-facing errors: each says what was wrong and what to do.

Every error a user can cause is an `AgentLogError` subclass with a stable
`code` (used by the HTTP API as `{"error": {"code", ...}}` and listed in the
docs), an HTTP status, and a CLI exit code. The CLI prints `str(error)` on one
line; the server maps `code`/`http_status`; nothing else needs a traceback.
"""

from __future__ import annotations

import functools
from typing import Any, ClassVar


class AgentLogError(Exception):
    """Base of every error a user of AgentLog can cause or fix."""

    code: ClassVar[str] = "agentlog_error"
    http_status: ClassVar[int] = 500
    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class InvalidInput(AgentLogError):
    """A value breaks the data model or its limits (names the field)."""

    code = "invalid_input"
    http_status = 422


class UsageError(AgentLogError):
    """A command or option was used wrongly (CLI exit 2)."""

    code = "usage_error"
    http_status = 400
    exit_code = 2


class NotFound(AgentLogError):
    """A session, event or other object does not exist (or belongs to another team)."""

    code = "not_found"
    http_status = 404


class Conflict(AgentLogError):
    """The same id already exists with different content."""

    code = "conflict"
    http_status = 409


class InvalidCursor(AgentLogError):
    """A pagination cursor was not made by this query."""

    code = "invalid_cursor"
    http_status = 400


class PayloadTooLarge(AgentLogError):
    """A request, batch or field is over its size limit."""

    code = "payload_too_large"
    http_status = 413


class InvalidOTLP(AgentLogError):
    """An OTLP body that cannot be read: wrong content type or encoding, not a trace request."""

    code = "invalid_otlp"
    http_status = 400


class Busy(AgentLogError):
    """Too many writes already wait; the caller retries after Retry-After (nothing was taken)."""

    code = "busy"
    http_status = 503


class StoreError(AgentLogError):
    """The store cannot be opened, read or written."""

    code = "store_error"
    http_status = 503


class NotAnAgentLogDatabase(StoreError):
    code = "not_agentlog_database"


class SchemaTooNew(StoreError):
    code = "schema_too_new"


class DatabaseLocked(StoreError):
    code = "database_locked"


class DiskFull(StoreError):
    code = "disk_full"


class ReadOnlyStore(StoreError):
    code = "read_only"


class ConfigError(AgentLogError):
    """The configuration file or a setting is invalid."""

    code = "config_error"
    http_status = 500


class AuthError(AgentLogError):
    """Missing, expired, forged or revoked credentials."""

    code = "unauthorized"
    http_status = 401


class Forbidden(AgentLogError):
    """Authenticated, but not allowed to do this."""

    code = "forbidden"
    http_status = 403


class RateLimited(AgentLogError):
    code = "rate_limited"
    http_status = 429


class CommandNotFound(AgentLogError):
    """`agentlog run` or `agentlog mcp proxy` could not find the command (exit 127, like a shell)."""

    code = "command_not_found"
    exit_code = 127


class CommandNotExecutable(AgentLogError):
    """`agentlog run` found the command but may not execute it (exit 126, like a shell)."""

    code = "command_not_executable"
    exit_code = 126


class ServerUnavailable(AgentLogError):
    """A remote AgentLog server cannot be reached or keeps failing."""

    code = "server_unavailable"
    http_status = 503


def all_error_classes() -> list[type[AgentLogError]]:
    """Every error class, for the generated docs' code list."""
    seen: list[type[AgentLogError]] = []
    stack: list[type[AgentLogError]] = [AgentLogError]
    while stack:
        cls = stack.pop(0)
        seen.append(cls)
        stack.extend(cls.__subclasses__())
    return seen


@functools.cache
def _by_code() -> dict[str, type[AgentLogError]]:
    found: dict[str, type[AgentLogError]] = {}
    for cls in all_error_classes():
        found.setdefault(cls.code, cls)  # the most general class with a code answers for it
    return found


def error_class(code: str | None) -> type[AgentLogError] | None:
    """The error class an API error code names (for clients turning answers back into errors)."""
    return _by_code().get(code or "")
