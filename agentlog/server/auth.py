"""Who is calling: API keys (SDK, CLI, CI) and JWT access tokens (people), and what they may do.

`Authenticator.authenticate` turns an `Authorization` header into a
`Principal` (user, team, role) or raises AuthError. Roles are read from the
account store, not trusted from the token, so a role change or a disabled user
takes effect within `key_cache_seconds`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from agentlog.errors import AuthError, Forbidden, NotFound
from agentlog.model import utcnow
from agentlog.server.passwords import verify_password
from agentlog.server.settings import ServerSettings, is_loopback
from agentlog.server.tokens import KeyRing
from agentlog.storage.accounts import AccountStore, Actor, Role, User, hash_key, key_prefix

TOUCH_EVERY = timedelta(seconds=60)
DEV_TEAM = "dev"
DEV_EMAIL = "dev@localhost"


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller, scoped to one team."""

    user_id: str
    team_id: str
    role: Role
    email: str
    key_id: str | None = None
    via: str = "key"  # key | jwt | dev

    @property
    def actor(self) -> Actor:
        return Actor(self.user_id, self.key_id)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def can_write(self) -> bool:
        return self.role in (Role.ADMIN, Role.MEMBER)

    @property
    def subject(self) -> str:
        """What rate limits count against: the key, or the user for tokens."""
        return self.key_id or self.user_id

    def require_write(self) -> None:
        if not self.can_write:
            raise Forbidden("your role (viewer) can read this team's sessions but not change them")

    def require_admin(self) -> None:
        if not self.is_admin:
            raise Forbidden(f"only admins may do this; your role is {self.role.value}")

    def public(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "team_id": self.team_id,
            "role": self.role.value,
            "email": self.email,
            "key_id": self.key_id,
            "via": self.via,
        }


class Authenticator:
    """Checks credentials against the account store, with a short cache on the hot path."""

    def __init__(self, accounts: AccountStore, keyring: KeyRing, settings: ServerSettings) -> None:
        self.accounts = accounts
        self.keyring = keyring
        self.settings = settings
        self._cache: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()
        self.dev_principal: Principal | None = None

    def forget(self) -> None:
        """Drop cached credentials (after a key is revoked or a user changed)."""
        with self._lock:
            self._cache.clear()

    def _cached(self, token_hash: str) -> Principal | None:
        hit = self._cache.get(token_hash)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        return None

    def _remember(self, token_hash: str, principal: Principal) -> None:
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[token_hash] = (
                time.monotonic() + self.settings.key_cache_seconds,
                principal,
            )

    def peek(self, authorization: str | None, client_host: str | None) -> Principal | None:
        """The principal if it is known without I/O (cached credentials, dev mode), else None."""
        if not authorization:
            if self.dev_principal is not None and is_loopback(client_host):
                return self.dev_principal
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return self._cached(hash_key(token.strip()))

    def authenticate(self, authorization: str | None, client_host: str | None) -> Principal:
        if not authorization:
            if self.dev_principal is not None and is_loopback(client_host):
                return self.dev_principal
            raise AuthError(
                "missing credentials: send 'Authorization: Bearer <API key or access token>' "
                "(`agentlog admin keys create --label NAME` makes a key)"
            )
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthError("the Authorization header must be 'Bearer <API key or access token>'")
        token_hash = hash_key(token)
        cached = self._cached(token_hash)
        if cached is not None:
            return cached
        principal = self._from_key(token) if key_prefix(token) else self._from_jwt(token)
        self._remember(token_hash, principal)
        return principal

    def _active_user(self, user_id: str) -> User:
        try:
            user = self.accounts.get_user(user_id)
        except NotFound:
            raise AuthError("the user behind these credentials no longer exists") from None
        if user.disabled:
            raise AuthError(f"user {user.email} is disabled; ask an admin")
        return user

    def _from_key(self, secret: str) -> Principal:
        key = self.accounts.find_key(secret)
        if key is None:
            raise AuthError("the API key is not valid; check it or create a new one")
        now = utcnow()
        if not key.active(now):
            raise AuthError(f"the API key {key.prefix}… was revoked; create a new one")
        user = self._active_user(key.user_id)
        if key.last_used_at is None or now - key.last_used_at > TOUCH_EVERY:
            self.accounts.touch_key(key.id, now)
        return Principal(user.id, key.team_id, user.role, user.email, key.id, "key")

    def _from_jwt(self, token: str) -> Principal:
        claims = self.keyring.verify(token, "access")
        user = self._active_user(str(claims["sub"]))
        return Principal(user.id, user.team_id, user.role, user.email, None, "jwt")

    # -- people
    def login(self, email: str, password: str) -> dict[str, Any]:
        try:
            user = self.accounts.user_by_email(email)
        except NotFound:
            verify_password(None, password)
            raise AuthError("wrong email or password") from None
        if not verify_password(user.password_hash, password) or user.disabled:
            raise AuthError("wrong email or password")
        self.accounts.audit("auth.login", Actor(user.id), team_id=user.team_id, target=user.id)
        return self.tokens_for(user)

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        claims = self.keyring.verify(refresh_token, "refresh")
        return self.tokens_for(self._active_user(str(claims["sub"])))

    def tokens_for(self, user: User) -> dict[str, Any]:
        s = self.settings
        return {
            "access_token": self.keyring.issue(
                {"sub": user.id, "typ": "access"}, s.access_ttl_seconds
            ),
            "refresh_token": self.keyring.issue(
                {"sub": user.id, "typ": "refresh"}, s.refresh_ttl_seconds
            ),
            "token_type": "bearer",
            "expires_in": s.access_ttl_seconds,
        }
