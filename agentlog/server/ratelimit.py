"""Request rate limits per API key or user (and per address for logins).

In-process token buckets by default; with `serve.redis_url` a fixed one-minute
window in Redis, so every worker counts against the same budget. Redis sits
behind a `RedisGuard`: while it is hung or down the in-process buckets count.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Protocol

from agentlog.errors import RateLimited
from agentlog.server.redisguard import RedisGuard


class Limiter(Protocol):
    def hit(self, bucket: str, per_minute: int) -> float:
        """0 when allowed, else the seconds to wait."""
        ...


class MemoryLimiter:
    """Token bucket per name: `per_minute` capacity, refilled continuously."""

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def hit(self, bucket: str, per_minute: int) -> float:
        now = time.monotonic()
        rate = per_minute / 60.0
        with self._lock:
            tokens, last = self._buckets.get(bucket, (float(per_minute), now))
            tokens = min(float(per_minute), tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._buckets[bucket] = (tokens - 1.0, now)
                return 0.0
            self._buckets[bucket] = (tokens, now)
            if len(self._buckets) > 100_000:
                self._buckets.clear()
            return (1.0 - tokens) / rate


class RedisLimiter:
    """Fixed one-minute windows in Redis (INCR + EXPIRE), shared by all workers.

    While Redis does not answer, this worker's own token buckets decide.
    """

    def __init__(self, redis: RedisGuard | str) -> None:
        self.guard = redis if isinstance(redis, RedisGuard) else RedisGuard(redis)
        self.fallback = MemoryLimiter()

    def hit(self, bucket: str, per_minute: int) -> float:
        window = int(time.time() // 60)
        key = f"agentlog:rl:{bucket}:{window}"

        def count(client: Any) -> int:
            pipe = client.pipeline()
            pipe.incr(key)
            pipe.expire(key, 120)
            return int(pipe.execute()[0])

        counted = self.guard.call(count, lambda: None)
        if counted is None:
            return self.fallback.hit(bucket, per_minute)
        if counted <= per_minute:
            return 0.0
        return max(0.1, 60.0 - time.time() % 60)


def make_limiter(redis: RedisGuard | str) -> Limiter:
    guard = redis if isinstance(redis, RedisGuard) else RedisGuard(redis)
    return RedisLimiter(guard) if guard.configured else MemoryLimiter()


def check(limiter: Limiter, bucket: str, per_minute: int, what: str) -> None:
    if per_minute <= 0:
        return
    wait = limiter.hit(bucket, per_minute)
    if wait > 0:
        seconds = max(1, int(wait + 0.999))
        raise RateLimited(
            f"too many {what} (limit {per_minute} per minute); retry in {seconds} s",
            details={"retry_after": seconds},
        )
