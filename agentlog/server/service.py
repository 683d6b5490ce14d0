"""Account operations shared by the HTTP routes and `agentlog admin` (no FastAPI here).

Routes check who may do what, then call these; the admin CLI runs them as the
server's operator, directly against the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentlog.errors import InvalidInput, NotFound, UsageError
from agentlog.server.password_policy import weak_reason
from agentlog.server.passwords import generate_password, hash_password
from agentlog.storage.accounts import (
    AccountStore,
    Actor,
    ApiKey,
    Role,
    Team,
    User,
    open_accounts,
)
from agentlog.storage.base import Store, erases_users

DEFAULT_TEAM = "default"


def open_backends(db: str) -> tuple[Store, AccountStore]:
    """The event store and the account tables beside it (store first: it stamps a new file)."""
    from agentlog.storage import open_store

    if db.startswith(("http://", "https://")):
        raise UsageError(
            "--db must be a database (SQLite path or postgresql:// URL), not a server URL"
        )
    store = open_store(db)
    try:
        return store, open_accounts(db)
    except BaseException:
        store.close()
        raise


def teamless_sessions(store: Store) -> int:
    """How many sessions of a server's store belong to no team: recorded into the file
    before it was served (`agentlog demo --db X`, the SDK), so no signed-in user sees them."""
    from agentlog.storage.sql.teams import NO_TEAM

    return store.scoped(NO_TEAM).info().sessions


def teamless_hint(count: int, db: str, url: str) -> str:
    """What to do about `count` team-less sessions: the documented way, `agentlog migrate`
    with a key of the team that should hold them (it never adds them to a team by itself)."""
    from agentlog.present import plural

    one = count == 1
    return (
        f"{plural(count, 'session')} in this store {'belongs' if one else 'belong'} to no team "
        "(recorded into it before it was served, e.g. by `agentlog demo --db` or the SDK), so "
        f"no signed-in user sees {'it' if one else 'them'}; to bring "
        f"{'it' if one else 'them'} into a team: agentlog migrate --db {db} --to {url} "
        "--api-key <a key of that team>"
    )


@dataclass(frozen=True, slots=True)
class NewUser:
    user: User
    generated_password: str | None


@dataclass(frozen=True, slots=True)
class NewKey:
    key: ApiKey
    secret: str

    def public(self) -> dict[str, object]:
        return {**self.key.public(), "secret": self.secret}


def team_for(
    accounts: AccountStore, name: str | None, *, create: bool, actor: Actor = Actor()
) -> Team:
    """The team called `name` (default team when None), created on demand when `create`."""
    name = (name or DEFAULT_TEAM).strip()
    try:
        return accounts.team_by_name(name)
    except NotFound:
        if not create:
            raise
        return accounts.create_team(name, actor)


def is_team(accounts: AccountStore, team_id: str, ref: str) -> bool:
    """Whether `ref` (a team id or name) names the team `team_id`; an unknown name is simply False."""
    ref = ref.strip()
    if ref == team_id:
        return True
    try:
        return accounts.team_by_name(ref).id == team_id
    except NotFound:
        return False


def check_password(password: str, *, email: str | None = None) -> str:
    """`password` if the policy accepts it (password_policy.py), else InvalidInput saying why."""
    reason = weak_reason(password, email=email)
    if reason:
        raise InvalidInput(f"the password {reason}; choose a longer passphrase of your own")
    return password


def create_user(
    accounts: AccountStore,
    email: str,
    *,
    password: str | None,
    role: Role,
    team: Team,
    actor: Actor = Actor(),
) -> NewUser:
    """A new user; without a password one is generated and returned once."""
    generated = None
    if password is None:
        password = generated = generate_password()
    user = accounts.create_user(
        email, hash_password(check_password(password, email=email)), role, team.id, actor
    )
    return NewUser(user, generated)


def create_key(
    accounts: AccountStore, user: User, team: Team, label: str, actor: Actor = Actor()
) -> NewKey:
    key, secret = accounts.create_key(user.id, team.id, label, actor)
    return NewKey(key, secret)


def rotate_key(
    accounts: AccountStore, key_id: str, grace_seconds: int, actor: Actor = Actor()
) -> NewKey:
    key, secret = accounts.rotate_key(key_id, grace_seconds=grace_seconds, actor=actor)
    return NewKey(key, secret)


SESSION_CHOICES = ("delete", "transfer")


def erase_user(
    store: Store, accounts: AccountStore, user: User, sessions: str, actor: Actor = Actor()
) -> dict[str, Any]:
    """GDPR erasure of `user`: their sessions deleted or transferred to their team (created_by
    cleared), their API keys and refresh tokens deleted, their audit entries pseudonymised,
    and the erasure itself audited. The sessions go first, so a failure leaves a user who
    can be erased again."""
    if sessions not in SESSION_CHOICES:
        raise UsageError(f"sessions must be one of {', '.join(SESSION_CHOICES)}, not {sessions!r}")
    eraser = erases_users(store)
    if eraser is None:
        raise UsageError("this store does not record who created sessions; erase on the server")
    affected = eraser.erase_user_sessions(user.id, transfer=sessions == "transfer")
    erased = accounts.erase_user(
        user.id, actor, details={"sessions": sessions, "sessions_affected": affected}
    )
    return {**erased.public(), "sessions": sessions, "sessions_affected": affected}
