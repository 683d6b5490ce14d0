"""Per-account login backoff that slows password guessing without letting anyone lock a user out.

Policy (beside the per-address limit of `serve.login_limit_per_minute`):

- Failures are counted per (account, client address). The first
  `FREE_FAILURES` cost nothing; after that, each further attempt from that
  address for that account must wait 2^(n - FREE_FAILURES) seconds (capped at
  `MAX_DELAY_S`, 15 min). An attempt made during the wait answers 429 with
  `Retry-After`, without checking the password. A success resets the pair.
- Failures for one account across every address are also counted; past
  `ACCOUNT_FAILURES` in `WINDOW_S` (a distributed guess), addresses that have
  never signed in to that account are held to one attempt per
  `ACCOUNT_DELAY_S`, while addresses that have signed in to it before are
  not slowed — so an attacker can slow down guessing but cannot lock the
  real user out from where they usually sign in.
- Unknown emails are counted exactly like real ones (no existence oracle).

Counts live in the process (each worker counts its own); they are a brake on
guessing, the argon2 cost and the per-address limit are the other two.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

FREE_FAILURES = 5
MAX_DELAY_S = 15 * 60
ACCOUNT_FAILURES = 50
WINDOW_S = 3600
ACCOUNT_DELAY_S = 10
KNOWN_FOR_S = 30 * 24 * 3600
MAX_ENTRIES = 100_000


@dataclass
class _Pair:
    failures: int = 0
    next_try: float = 0.0


@dataclass
class _Account:
    failures: list[float] = field(default_factory=list)
    known: dict[str, float] = field(default_factory=dict)  # address -> last success
    next_stranger_try: float = 0.0


class LoginGuard:
    """`wait(email, address)` before checking a password; `failed`/`succeeded` after."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._pairs: dict[tuple[str, str], _Pair] = {}
        self._accounts: dict[str, _Account] = {}
        self._lock = threading.Lock()

    def wait(self, email: str, address: str) -> float:
        """Seconds this address must wait before trying this account again (0 = go ahead)."""
        now = self._clock()
        key = email.strip().lower()
        with self._lock:
            pair = self._pairs.get((key, address))
            if pair is not None and pair.next_try > now:
                return pair.next_try - now
            account = self._accounts.get(key)
            if account is None or self._is_known(account, address, now):
                return 0.0
            recent = [t for t in account.failures if t > now - WINDOW_S]
            account.failures = recent
            if len(recent) < ACCOUNT_FAILURES:
                return 0.0
            if account.next_stranger_try > now:
                return account.next_stranger_try - now
            account.next_stranger_try = now + ACCOUNT_DELAY_S
            return 0.0

    def failed(self, email: str, address: str) -> None:
        now = self._clock()
        key = email.strip().lower()
        with self._lock:
            self._trim()
            pair = self._pairs.setdefault((key, address), _Pair())
            pair.failures += 1
            over = pair.failures - FREE_FAILURES
            if over > 0:
                pair.next_try = now + min(MAX_DELAY_S, 2.0 ** (over - 1))
            account = self._accounts.setdefault(key, _Account())
            account.failures.append(now)
            if len(account.failures) > ACCOUNT_FAILURES * 4:
                account.failures = account.failures[-ACCOUNT_FAILURES * 2 :]

    def succeeded(self, email: str, address: str) -> None:
        now = self._clock()
        key = email.strip().lower()
        with self._lock:
            self._pairs.pop((key, address), None)
            account = self._accounts.setdefault(key, _Account())
            account.known[address] = now
            if len(account.known) > 64:
                oldest = min(account.known, key=account.known.__getitem__)
                del account.known[oldest]

    @staticmethod
    def _is_known(account: _Account, address: str, now: float) -> bool:
        seen = account.known.get(address)
        return seen is not None and seen > now - KNOWN_FOR_S

    def _trim(self) -> None:
        if len(self._pairs) > MAX_ENTRIES:
            self._pairs.clear()
        if len(self._accounts) > MAX_ENTRIES:
            self._accounts.clear()


__all__ = ["LoginGuard"]
