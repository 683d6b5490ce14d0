"""The names on the wire between `RemoteStore` and `agentlog serve`: headers and query parameters.

Both sides spell every name through these constants (the server as each
parameter's `alias`), so renaming one is one edit, and a test checks that the
server's OpenAPI document offers exactly these names.
"""

from __future__ import annotations

# Headers
AUTHORIZATION = "Authorization"
TEAM_HEADER = "X-AgentLog-Team"  # an admin key acting for another team ("*" = every team)
USER_HEADER = "X-AgentLog-User"  # an admin key recording another author
REQUEST_ID_HEADER = "X-Request-ID"
NEXT_CURSOR_HEADER = "X-Next-Cursor"  # a list answered as a plain array: where its next page starts
WEB_COOKIE = "agentlog_session"  # the web view's sign-in (HttpOnly; GET requests only)


class EventParam:
    """Query parameters of the event reads (`/v1/events`, `:count`, `:keys`, `:facets`, `:stats`)."""

    SESSION = "session_id"
    TYPE = "type"
    AGENT = "agent"
    NAME = "name"
    STATUS = "status"
    SINCE = "since"
    UNTIL = "until"
    TEXT = "q"
    METADATA = "metadata"
    PARENT = "parent_id"
    ORDER = "order"
    LIMIT = "limit"
    CURSOR = "cursor"


class SessionParam:
    """Query parameters of the session reads (`/v1/sessions`, `:count`)."""

    STATUS = "status"
    TAG = "tag"
    AGENT = "agent"
    SINCE = "since"
    UNTIL = "until"
    TEXT = "q"
    PARENT = "parent_session_id"
    REPLAY_OF = "replay_of"
    SORT = "sort"
    ORDER = "order"
    LIMIT = "limit"
    CURSOR = "cursor"


class ChangesParam:
    """Query parameters of `/v1/sessions:changes`."""

    SINCE = "since"
    LIMIT = "limit"


AGENTS_ACTIVE_SINCE = "active_since"  # `/v1/agents`


def names(params: type) -> set[str]:
    """Every wire name a parameter class holds."""
    return {v for k, v in vars(params).items() if k.isupper()}
