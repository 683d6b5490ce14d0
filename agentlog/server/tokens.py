"""JWT access and refresh tokens, signed by a key ring so signing keys rotate without downtime.

The ring lives in `server-keys.json` in the data directory (mode 0600),
generated on first start. New tokens are signed with the newest key and carry
its `kid`; every key still in the ring verifies. `rotate()` adds a key and
keeps the previous ones, so tokens already issued stay valid; other workers
re-read the file when they meet an unknown `kid`. A `serve.jwt_secret`
setting, when given, is the signing key (the ring's keys still verify).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import orjson

from agentlog.errors import AuthError
from agentlog.model import new_id
from agentlog.storage.private_files import private_folder, tighten

KEYS_FILE = "server-keys.json"
KEEP_KEYS = 5
ALGORITHM = "HS256"


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    secret: str
    created_at: float


def _write_private(path: Path, data: bytes) -> None:
    private_folder(path.parent)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


class KeyRing:
    """Signing keys by kid; the newest (or the configured secret) signs."""

    def __init__(self, data_dir: Path, configured_secret: str = "") -> None:
        self.path = Path(data_dir) / KEYS_FILE
        self._lock = threading.Lock()
        self._configured: SigningKey | None = None
        if configured_secret:
            kid = "cfg-" + hashlib.sha256(configured_secret.encode()).hexdigest()[:12]
            self._configured = SigningKey(kid, configured_secret, 0.0)
        self._keys: list[SigningKey] = []
        self._last_reload = 0.0
        self._load(create=True)

    def _load(self, *, create: bool = False) -> None:
        with self._lock:
            try:
                raw = orjson.loads(self.path.read_bytes())
                tighten(self.path, companions=False)
                self._keys = [
                    SigningKey(k["kid"], k["secret"], k["created_at"]) for k in raw["keys"]
                ]
            except FileNotFoundError:
                if not create:
                    return
                self._keys = [self._new_key()]
                self._save()
            self._last_reload = time.monotonic()

    def _new_key(self) -> SigningKey:
        return SigningKey(secrets.token_hex(6), secrets.token_urlsafe(48), time.time())

    def _save(self) -> None:
        data = {"keys": [_as_dict(k) for k in self._keys]}
        _write_private(self.path, orjson.dumps(data, option=orjson.OPT_INDENT_2))

    def rotate(self) -> str:
        """Add a new signing key (older ones keep verifying); returns its kid."""
        self._load(create=True)
        with self._lock:
            key = self._new_key()
            self._keys = [*self._keys, key][-KEEP_KEYS:]
            self._save()
            return key.kid

    @property
    def signing_key(self) -> SigningKey:
        return self._configured or self._keys[-1]

    def kids(self) -> list[str]:
        return [k.kid for k in ([self._configured] if self._configured else []) + self._keys]

    def _verification_key(self, kid: str) -> SigningKey | None:
        if self._configured and kid == self._configured.kid:
            return self._configured
        for key in self._keys:
            if key.kid == kid:
                return key
        # Another worker (or `agentlog admin jwt-rotate`) may have rotated: re-read, at most 1/s.
        if time.monotonic() - self._last_reload > 1.0:
            self._load()
            return next((k for k in self._keys if k.kid == kid), None)
        return None

    # -- tokens
    def issue(self, claims: dict[str, Any], ttl_seconds: int) -> str:
        now = int(time.time())
        key = self.signing_key
        payload = {"jti": new_id(), **claims, "iat": now, "exp": now + ttl_seconds}
        return jwt.encode(payload, key.secret, algorithm=ALGORITHM, headers={"kid": key.kid})

    def verify(self, token: str, expected_type: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthError("the token is malformed; log in again") from None
        kid = header.get("kid")
        key = self._verification_key(kid) if isinstance(kid, str) else None
        if key is None:
            raise AuthError("the token was signed by an unknown key; log in again")
        try:
            claims = jwt.decode(
                token,
                key.secret,
                algorithms=[ALGORITHM],
                options={"require": ["exp", "iat", "sub", "typ"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("the token has expired; refresh it or log in again") from None
        except jwt.PyJWTError:
            raise AuthError(
                "the token is invalid (bad signature or claims); log in again"
            ) from None
        if claims.get("typ") != expected_type:
            got = claims.get("typ")
            raise AuthError(f"expected {_a(expected_type)} token, got {_a(str(got))} token")
        return claims


def _as_dict(key: SigningKey) -> dict[str, Any]:
    return {"kid": key.kid, "secret": key.secret, "created_at": key.created_at}


def _a(word: str) -> str:
    """The word with its indefinite article: "an access", "a refresh"."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"
