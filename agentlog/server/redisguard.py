"""Redis behind short timeouts and a circuit breaker: a hung Redis costs one short wait, then is skipped.

Redis is an optimisation for a multi-worker server (shared rate limits,
cross-worker stream fan-out), never a dependency: every caller has an
in-process fallback. A closed port fails fast by itself, but a Redis that
accepts connections and never answers used to cost every request its full
socket timeout (and redis-py's retries). Here:

- every command has a `timeout` (connect and read, default 0.25 s) and no
  retries;
- the first failure opens the circuit: it is logged once, callers take their
  fallback at once, and `/readyz` shows `"redis": "degraded"` (`/readyz` PINGs
  a closed circuit, so a Redis that was never reachable shows too);
- while open, a background thread pings Redis every `probe_seconds`; the
  first answer closes the circuit (logged once) and Redis is used again.

So requests never wait on Redis again after the one that found it hung.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from agentlog.storage.base import redact_url

log = logging.getLogger("agentlog.server")
T = TypeVar("T")

DEFAULT_TIMEOUT = 0.25
DEFAULT_PROBE_SECONDS = 1.0


class RedisGuard:
    """One synchronous Redis client shared by the limiter and the broker, behind one breaker."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        probe_seconds: float = DEFAULT_PROBE_SECONDS,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.probe_seconds = probe_seconds
        self._client: Any = None
        self._lock = threading.Lock()
        self._open = False
        self._stop = threading.Event()
        self._prober: threading.Thread | None = None
        self.last_error = ""
        self.trips = 0  # how many times the circuit opened (for tests and metrics)

    @property
    def configured(self) -> bool:
        return bool(self.url)

    @property
    def available(self) -> bool:
        """Configured and the circuit is closed (Redis answered last time)."""
        return bool(self.url) and not self._open

    def status(self) -> str:
        """For `/readyz`: "off" (not configured), "ok" or "degraded"."""
        if not self.url:
            return "off"
        return "degraded" if self._open else "ok"

    def check(self) -> str:
        """`status()` after a PING while the circuit is closed.

        Until a request used Redis, the circuit stayed closed and `/readyz` said "ok" for a
        Redis that was never reachable. A PING costs one round trip while Redis answers; a
        down or hung one trips the circuit (one `timeout`), and later checks are free.
        """
        if self.available:
            self.call(lambda client: client.ping(), lambda: None)
        return self.status()

    def client(self) -> Any:
        if self._client is None:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry

            self._client = redis.Redis.from_url(
                self.url,
                socket_timeout=self.timeout,
                socket_connect_timeout=self.timeout,
                retry=Retry(NoBackoff(), 0),
                retry_on_timeout=False,
                health_check_interval=0,
            )
        return self._client

    def call(self, action: Callable[[Any], T], fallback: Callable[[], T]) -> T:
        """`action(client)` while Redis answers; `fallback()` at once while the circuit is open."""
        if not self.available:
            return fallback()
        import redis

        try:
            return action(self.client())
        except (redis.RedisError, OSError) as exc:
            self.trip(exc)
            return fallback()
        except Exception as exc:
            # A connection dying under concurrent requests can surface as something else:
            # redis-py raised `ValueError: I/O operation on closed file` from a socket another
            # thread had just closed (tests/reliability/test_server_load.py caught it as a 500).
            # Redis is optional, so a request never fails for it; the traceback is logged.
            log.exception("Redis call failed unexpectedly; using the in-process fallback")
            self.trip(exc)
            return fallback()

    def trip(self, exc: BaseException) -> None:
        """Open the circuit (logged once per outage) and start probing for recovery."""
        with self._lock:
            self.last_error = str(exc) or type(exc).__name__
            if self._open or self._stop.is_set():
                return
            self._open = True
            self.trips += 1
            log.warning(
                "Redis at %s is not answering (%s); using in-process rate limits and stream "
                "fan-out until it recovers",
                redact_url(self.url),
                self.last_error,
            )
            self._prober = threading.Thread(
                target=self._probe, name="agentlog-redis-probe", daemon=True
            )
            self._prober.start()

    def _probe(self) -> None:
        while not self._stop.wait(self.probe_seconds):
            try:
                self.client().ping()
            except Exception as exc:
                self.last_error = str(exc) or type(exc).__name__
                continue
            with self._lock:
                self._open = False
                self.last_error = ""
            log.warning(
                "Redis at %s answers again; shared limits and fan-out resumed", redact_url(self.url)
            )
            return

    def close(self) -> None:
        self._stop.set()
        prober = self._prober
        if prober is not None and prober is not threading.current_thread():
            prober.join(timeout=self.timeout * 4 + 1)
        if self._client is not None:
            try:
                self._client.close()
            except Exception:  # closing a client of a dead server must not fail shutdown
                pass
            self._client = None


__all__ = ["DEFAULT_PROBE_SECONDS", "DEFAULT_TIMEOUT", "RedisGuard"]
