"""Which passwords are refused: too short or long, trivial (few distinct characters, keyboard or
number runs), one of the most common passwords, or built from the account's own email.

The rule follows NIST SP 800-63B §5.1.1.2: no composition rules (no "one
digit, one symbol"), but every new password is checked against values known
to be commonly used, expected or compromised, and refused with the reason.
The list in `common_passwords.txt` holds the most frequent 8+ character
passwords of public breach corpora; a candidate is compared case-insensitively
and also with trailing digits and punctuation removed ("Password123!" is
"password").
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

MIN_CHARS = 8
MAX_CHARS = 1024
MIN_DISTINCT = 5
_RUNS = (
    "0123456789012345678901234567890",
    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
    "qwertyuiopasdfghjklzxcvbnm",
    "qwertzuiopasdfghjklyxcvbnm",
    "azertyuiopqsdfghjklmwxcvbn",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm",
    "qazwsxedcrfvtgbyhnujmikolp",
)
_TRAILING = re.compile(r"[\d\W_]+$")


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files("agentlog.server").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def _is_run(text: str) -> bool:
    """Part of a keyboard row or a number/letter sequence, forwards or backwards."""
    return any(text in run or text[::-1] in run for run in _RUNS)


def weak_reason(password: str, *, email: str | None = None) -> str | None:
    """Why `password` is refused (a phrase that completes "the password …"), or None if it is fine."""
    if len(password) < MIN_CHARS:
        return f"must have at least {MIN_CHARS} characters"
    if len(password) > MAX_CHARS:
        return f"must have at most {MAX_CHARS} characters"
    folded = password.lower()
    squeezed = "".join(folded.split())
    if len(set(folded)) < MIN_DISTINCT or not squeezed:
        return f"must use at least {MIN_DISTINCT} different characters"
    if _is_run(squeezed):
        return "is a keyboard or number sequence"
    common = common_passwords()
    if folded in common or _TRAILING.sub("", folded) in common or squeezed in common:
        return "is one of the most common passwords"
    if email:
        local = email.lower().partition("@")[0]
        if len(local) >= 4 and (
            folded.startswith(local) or (local in folded and len(folded) - len(local) < 4)
        ):
            return "is too close to the account's email"
    if folded.startswith("agentlog") and len(_TRAILING.sub("", folded)) <= len("agentlog"):
        return "is the product's name"
    return None


__all__ = ["MAX_CHARS", "MIN_CHARS", "common_passwords", "weak_reason"]
