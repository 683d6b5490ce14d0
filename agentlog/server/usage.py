"""API usage per team, day and endpoint: counted in memory, flushed to the account store in batches."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime

from agentlog.storage.accounts import AccountStore


class UsageCounter:
    def __init__(self, accounts: AccountStore, flush_seconds: float) -> None:
        self.accounts = accounts
        self.flush_seconds = flush_seconds
        self._requests: Counter[tuple[str, str, str]] = Counter()
        self._errors: Counter[tuple[str, str, str]] = Counter()
        self._lock = threading.Lock()
        self._last_flush = time.monotonic()

    def count(self, team_id: str, endpoint: str, status: int) -> None:
        key = (team_id, datetime.now(UTC).strftime("%Y-%m-%d"), endpoint)
        with self._lock:
            self._requests[key] += 1
            if status >= 400:
                self._errors[key] += 1

    def due(self) -> bool:
        return time.monotonic() - self._last_flush >= self.flush_seconds

    def flush(self) -> None:
        """Write the counts so far (call from a worker thread, never the event loop)."""
        with self._lock:
            requests, errors = self._requests, self._errors
            self._requests, self._errors = Counter(), Counter()
            self._last_flush = time.monotonic()
        rows = [(t, d, e, n, errors.get((t, d, e), 0)) for (t, d, e), n in requests.items()]
        self.accounts.record_usage(rows)
