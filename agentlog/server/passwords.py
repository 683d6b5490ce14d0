"""Password hashing with argon2id, at OWASP's recommended parameters (19 MiB, t=2, p=1).

OWASP's Password Storage Cheat Sheet lists m=19 MiB, t=2, p=1 as a minimum
for argon2id; it costs ~50 ms here, where argon2-cffi's RFC 9106 default
(64 MiB, t=3, p=4) costs 0.3-0.8 s on two shared cores, which would make the
login endpoint an easy way to tie up the server. Older hashes with other
parameters still verify (the parameters are stored in each hash).
"""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verifying against this when the email is unknown keeps both answers equally slow.
_DUMMY = _hasher.hash(secrets.token_urlsafe(16))
MIN_PASSWORD_CHARS = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    return secrets.token_urlsafe(15)
