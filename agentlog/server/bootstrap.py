"""What `agentlog serve` does before it listens: wait for the database, check the secret, make the first admin."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from agentlog.errors import Conflict, InvalidInput, StoreError, UsageError
from agentlog.server.settings import ServerSettings, is_loopback
from agentlog.storage.accounts import AccountStore, Role

# Words that mark a value copied from an example file rather than generated.
PLACEHOLDERS = ("change-me", "changeme", "change_me", "replace-me", "your-secret", "secret-here")
MAX_BACKOFF_S = 5.0
T = TypeVar("T")


def check_jwt_secret(settings: ServerSettings) -> None:
    """Refuse a placeholder secret anywhere, and an empty one on a network address outside dev mode.

    On loopback an empty secret is fine: the server generates one into its data
    directory (mode 0600). Bound to the network (a container, a team host) the
    key must come from the environment, so every worker and replica signs alike
    and a lost volume does not silently log everyone out.
    """
    secret = settings.jwt_secret
    if any(word in secret.lower() for word in PLACEHOLDERS):
        raise UsageError(
            "AGENTLOG_SERVE_JWT_SECRET is still the example's placeholder; set it to 32+ random "
            'characters: python -c "import secrets; print(secrets.token_urlsafe(48))"'
        )
    if not secret and not settings.dev and not is_loopback(settings.host):
        raise UsageError(
            f"serving on {settings.host} needs AGENTLOG_SERVE_JWT_SECRET (32+ random characters); "
            'make one with: python -c "import secrets; print(secrets.token_urlsafe(48))"'
        )


def unreachable(exc: StoreError) -> bool:
    """True when the database did not answer (worth waiting for), not when it refused us."""
    return str(exc).startswith("cannot reach")


def wait_for_database(
    open_fn: Callable[[], T],
    wait_seconds: float,
    *,
    on_retry: Callable[[str, float], None] = lambda _msg, _delay: None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """`open_fn()`, retried with exponential backoff while the database is unreachable.

    A wrong password or a missing database fails at once (waiting cannot fix
    it); after `wait_seconds` the last one-line error is raised as it is.
    """
    deadline = clock() + max(0.0, wait_seconds)
    delay = 0.25
    while True:
        try:
            return open_fn()
        except StoreError as exc:
            left = deadline - clock()
            if not unreachable(exc) or left <= 0:
                raise
            pause = min(delay, left, MAX_BACKOFF_S)
            on_retry(str(exc), pause)
            sleep(pause)
            delay *= 2


@dataclass(frozen=True, slots=True)
class FirstAdmin:
    """What the bootstrap did: `created` is the new admin's email, else None with the reason."""

    created: str | None
    note: str


def bootstrap_admin(
    accounts: AccountStore, email: str, password: str, team: str = "default"
) -> FirstAdmin:
    """Create the first admin (the server owner) from the environment when the server has no user at all.

    Once any user exists this does nothing (the variables can stay set: they
    never reset a password). Two replicas racing on an empty database: one
    creates the admin, the other sees the conflict and carries on.
    """
    from agentlog.server import service

    if accounts.count_users() > 0:
        return FirstAdmin(None, "users exist; AGENTLOG_ADMIN_* ignored")
    email, password = email.strip(), password
    if not email or not password:
        missing = "AGENTLOG_ADMIN_EMAIL" if not email else "AGENTLOG_ADMIN_PASSWORD"
        return FirstAdmin(None, f"no users yet and {missing} is not set")
    try:  # the policy's words name the setting, so the refusal says what to change
        service.check_password(password, email=email)
    except InvalidInput as exc:
        raise InvalidInput(f"AGENTLOG_ADMIN_PASSWORD (admin.password): {exc}") from None
    try:
        team_obj = service.team_for(accounts, team or None, create=True)
        service.create_user(accounts, email, password=password, role=Role.OWNER, team=team_obj)
    except Conflict:
        return FirstAdmin(None, f"{email} was created by another replica")
    return FirstAdmin(email, f"created the first admin {email} in team {team or 'default'}")
