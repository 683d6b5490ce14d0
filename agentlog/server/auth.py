"""Who is calling: API keys (SDK, CLI, CI) and JWT access tokens (people), and what they may do.

`Authenticator.authenticate` turns an `Authorization` header into a
`Principal` (user, team, role) or raises AuthError. Roles are read from the
account store, not trusted from the token, so a role change or a disabled user
takes effect within `key_cache_seconds`.

People's tokens: a login starts a "family" (one sign-in on one device). Every
refresh spends its refresh token and returns a new pair in the same family; a
refresh token used twice ends the family (reuse detection: the thief and the
user both have to log in again). Logout ends the family; a password, role or
team change, disabling, or "sign out everywhere" bumps the user's token
version, which ends every access and refresh token issued before.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from agentlog.errors import AuthError, Forbidden, NotFound, RateLimited
from agentlog.model import new_id, utcnow
from agentlog.server.loginguard import LoginGuard
from agentlog.server.passwords import verify_password
from agentlog.server.settings import ServerSettings, is_loopback
from agentlog.server.tokens import KeyRing
from agentlog.storage.accounts import (
    KEY_PREFIX,
    AccountStore,
    Actor,
    Role,
    User,
    hash_key,
    key_prefix,
)

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
    family: str | None = None  # the sign-in a JWT belongs to (logout ends it)

    @property
    def actor(self) -> Actor:
        return Actor(self.user_id, self.key_id)

    @property
    def is_owner(self) -> bool:
        """The server's owner: instance-wide."""
        return self.role is Role.OWNER

    @property
    def is_admin(self) -> bool:
        """Manages its team (a team admin) or every team (the owner)."""
        return self.role.manages_team

    @property
    def can_write(self) -> bool:
        return self.role in (Role.OWNER, Role.ADMIN, Role.MEMBER)

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

    def require_owner(self) -> None:
        if not self.is_owner:
            raise Forbidden(
                f"only the server owner may do this; your role is {self.role.value}"
                + (" (team admins manage their own team)" if self.role is Role.ADMIN else "")
            )

    def manages(self, team_id: str | None) -> bool:
        """Whether this caller administers `team_id` (the owner: every team)."""
        return self.is_owner or (self.is_admin and team_id == self.team_id)

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
        self.logins = LoginGuard()

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
        if token.startswith(KEY_PREFIX) and key_prefix(token) is None:
            # An API key cut short or mistyped: not a malformed sign-in token to "log in again".
            raise AuthError("the API key is not valid; check it or create a new one")
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

    def _current(self, claims: dict[str, Any]) -> User:
        """The user of a token that has not been ended (by version or by its family)."""
        user = self._active_user(str(claims["sub"]))
        if int(claims.get("ver", 0)) != user.token_version:
            raise AuthError(
                "this sign-in has ended (password or role changed, or signed out); log in again"
            )
        family = claims.get("fam")
        if isinstance(family, str) and self.accounts.refresh_family_ended(family):
            raise AuthError("this sign-in has ended (signed out); log in again")
        return user

    def from_web_cookie(self, token: str) -> Principal:
        """The signed-in person of a web page's session cookie (a JWT of type "web", one family)."""
        return self._from_jwt(token, "web")

    def _from_jwt(self, token: str, kind: str = "access") -> Principal:
        claims = self.keyring.verify(token, kind)
        user = self._current(claims)
        family = claims.get("fam")
        return Principal(
            user.id,
            user.team_id,
            user.role,
            user.email,
            None,
            "jwt" if kind == "access" else kind,
            family if isinstance(family, str) else None,
        )

    # -- people
    def login(self, email: str, password: str, address: str = "unknown") -> dict[str, Any]:
        wait = self.logins.wait(email, address)
        if wait > 0:
            seconds = max(1, int(wait + 0.999))
            raise RateLimited(
                f"too many failed logins for this account from your address; retry in {seconds} s",
                details={"retry_after": seconds},
            )
        try:
            user = self.accounts.user_by_email(email)
        except NotFound:
            verify_password(None, password)
            self.logins.failed(email, address)
            raise AuthError("wrong email or password") from None
        if not verify_password(user.password_hash, password) or user.disabled:
            self.logins.failed(email, address)
            raise AuthError("wrong email or password")
        self.logins.succeeded(email, address)
        self.accounts.audit("auth.login", Actor(user.id), team_id=user.team_id, target=user.id)
        return self.tokens_for(user, new_id())

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        claims = self.keyring.verify(refresh_token, "refresh")
        user = self._current(claims)
        family, jti = claims.get("fam"), claims.get("jti")
        if not isinstance(family, str) or not isinstance(jti, str):
            raise AuthError("this refresh token is from an older server version; log in again")
        new_jti = new_id()
        outcome = self.accounts.use_refresh_token(jti, new_jti)
        if outcome == "reused":
            self.forget()
            raise AuthError(
                "this refresh token was already used, so it may have been stolen; "
                "this sign-in has ended everywhere it was used; log in again"
            )
        if outcome != "ok":
            raise AuthError("this sign-in has ended (signed out); log in again")
        return self.tokens_for(user, family, new_jti)

    def logout(self, principal: Principal, *, everywhere: bool = False) -> None:
        """End this sign-in (its access and refresh tokens), or every one of the user's."""
        if everywhere:
            self.accounts.sign_out_everywhere(principal.user_id, principal.actor)
        elif principal.family:
            self.accounts.end_refresh_family(principal.family)
        self.forget()

    def tokens_for(self, user: User, family: str, jti: str | None = None) -> dict[str, Any]:
        s = self.settings
        jti = jti or new_id()
        claims = {"sub": user.id, "ver": user.token_version, "fam": family}
        refresh = self.keyring.issue(
            {**claims, "typ": "refresh", "jti": jti}, s.refresh_ttl_seconds
        )
        self.accounts.add_refresh_token(
            jti, user.id, family, utcnow() + timedelta(seconds=s.refresh_ttl_seconds)
        )
        return {
            "access_token": self.keyring.issue({**claims, "typ": "access"}, s.access_ttl_seconds),
            "refresh_token": refresh,
            "token_type": "bearer",
            "expires_in": s.access_ttl_seconds,
        }
