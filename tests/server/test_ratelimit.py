"""Rate limits through `limits`' sliding-window counter: no double budget around a window's edge, in memory or Redis."""

from __future__ import annotations

import os
import time
import uuid

import pytest
from limits import RateLimitItemPerSecond

from agentlog.errors import RateLimited
from agentlog.server.ratelimit import MemoryLimiter, RedisLimiter, check, take

REDIS = os.environ.get("AGENTLOG_TEST_REDIS_URL")


def straddle_the_edge(hit) -> tuple[int, int]:
    """The limit's worth of hits just before a one-second window ends, then as many just after."""
    while time.time() % 1 > 0.1:  # start early in a window, so the late hits land in it
        time.sleep(0.01)
    time.sleep(max(0.0, 0.8 - time.time() % 1))
    before = sum(hit() == 0.0 for _ in range(5))
    time.sleep(1.05 - time.time() % 1)
    after = sum(hit() == 0.0 for _ in range(5))
    return before, after


def test_memory_window_edge_lets_the_limit_through_once():
    limiter = MemoryLimiter()
    item = RateLimitItemPerSecond(5)
    bucket = uuid.uuid4().hex
    before, after = straddle_the_edge(lambda: take(limiter.limiter, item, bucket))
    assert before == 5
    # A fixed window would allow 5 more here; the weighted previous window allows ~0.
    assert after <= 2


@pytest.mark.redis
@pytest.mark.skipif(not REDIS, reason="needs AGENTLOG_TEST_REDIS_URL")
def test_redis_window_edge_lets_the_limit_through_once_for_every_worker():
    worker_a, worker_b = RedisLimiter(REDIS or ""), RedisLimiter(REDIS or "")
    item = RateLimitItemPerSecond(5)
    bucket = f"deploy-test-{uuid.uuid4().hex}"
    turn = iter(range(100))

    def hit() -> float:
        limiter = worker_a if next(turn) % 2 else worker_b  # two workers, one budget
        return limiter.guard.call(
            lambda client: take(limiter.shared(client), item, bucket), lambda: -1.0
        )

    before, after = straddle_the_edge(hit)
    assert before == 5 and after <= 2
    assert worker_a.guard.status() == "ok"
    for worker in (worker_a, worker_b):
        worker.guard.close()


def test_check_answers_rate_limited_with_retry_after():
    limiter = MemoryLimiter()
    for _ in range(3):
        check(limiter, "k", 3, "requests")
    with pytest.raises(RateLimited) as refused:
        check(limiter, "k", 3, "requests")
    assert 1 <= refused.value.details["retry_after"] <= 60
    check(limiter, "k", 0, "requests")  # 0 = no limit
