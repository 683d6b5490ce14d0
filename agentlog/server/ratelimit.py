"""Request rate limits per API key or user (and per address for logins), through the `limits` library.

A sliding-window counter: the previous window's count, weighted by how much of
it still overlaps the last minute, plus the current one. A fixed window (what
this module used to do in Redis) lets twice the limit through around a
window's edge; this does not. With `serve.redis_url` the counters live in
Redis, shared by every worker and replica; without it, in this process's
memory. Redis sits behind a `RedisGuard`: while it is hung or down, the
in-process counters decide.
"""

from __future__ import annotations

import functools
import time
from typing import Any, Protocol

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import RateLimiter, SlidingWindowCounterRateLimiter

from agentlog.errors import RateLimited
from agentlog.server.redisguard import RedisGuard

KEY_PREFIX = "agentlog:rl"


class Limiter(Protocol):
    def hit(self, bucket: str, per_minute: int) -> float:
        """0 when allowed, else the seconds to wait."""
        ...


@functools.lru_cache(maxsize=64)
def per_minute_item(per_minute: int) -> RateLimitItem:
    return RateLimitItemPerMinute(per_minute)


def take(limiter: RateLimiter, item: RateLimitItem, bucket: str) -> float:
    """One hit on `bucket`: 0 when allowed, else the seconds until one is free again."""
    if limiter.hit(item, bucket):
        return 0.0
    reset = limiter.get_window_stats(item, bucket).reset_time
    return max(0.1, reset - time.time())


class MemoryLimiter:
    """Sliding-window counters in this process (one server worker, or Redis unavailable)."""

    def __init__(self) -> None:
        self.limiter = SlidingWindowCounterRateLimiter(MemoryStorage())

    def hit(self, bucket: str, per_minute: int) -> float:
        return take(self.limiter, per_minute_item(per_minute), bucket)


class RedisLimiter:
    """Sliding-window counters in Redis, shared by all workers; in-process while Redis is away."""

    def __init__(self, redis: RedisGuard | str) -> None:
        self.guard = redis if isinstance(redis, RedisGuard) else RedisGuard(redis)
        self.fallback = MemoryLimiter()
        self._shared: RateLimiter | None = None

    def shared(self, client: Any) -> RateLimiter:
        """The Redis limiter over the guard's connection pool (its short timeouts, no retries)."""
        if self._shared is None:
            storage = RedisStorage(
                self.guard.url, connection_pool=client.connection_pool, key_prefix=KEY_PREFIX
            )
            self._shared = SlidingWindowCounterRateLimiter(storage)
        return self._shared

    def hit(self, bucket: str, per_minute: int) -> float:
        item = per_minute_item(per_minute)
        wait = self.guard.call(lambda client: take(self.shared(client), item, bucket), lambda: None)
        if wait is None:
            return self.fallback.hit(bucket, per_minute)
        return wait


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
