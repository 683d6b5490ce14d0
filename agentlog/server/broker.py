"""Fan-out of newly written events to `/v1/events/stream` clients.

Writes happen in worker threads; subscribers are asyncio queues on the event
loop, so `publish` hands events over with `call_soon_threadsafe`. With
`serve.redis_url`, writes publish to a Redis channel per team instead and each
worker relays that channel to its own subscribers, so a client connected to
one worker sees events written through any other. Redis sits behind a
`RedisGuard`: while it is hung or down, events are delivered in-process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Sequence
from typing import Any

import orjson

from agentlog.server.redisguard import RedisGuard

log = logging.getLogger("agentlog.server")
QUEUE_SIZE = 10_000
CHANNEL = "agentlog:events"


class Subscription:
    """One stream client's queue; `overflowed` tells it to reconnect (and replay)."""

    def __init__(self, team_id: str, loop: asyncio.AbstractEventLoop) -> None:
        self.team_id = team_id
        self.loop = loop
        self.queue: asyncio.Queue[list[dict[str, Any]]] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self.overflowed = False

    def offer(self, events: list[dict[str, Any]]) -> None:
        try:
            self.queue.put_nowait(events)
        except asyncio.QueueFull:
            self.overflowed = True


class Broker:
    def __init__(self, redis: RedisGuard | str = "") -> None:
        self.guard = redis if isinstance(redis, RedisGuard) else RedisGuard(redis)
        self.redis_url = self.guard.url
        self._subs: dict[str, set[Subscription]] = {}
        self._lock = threading.Lock()
        self._relay: asyncio.Task[None] | None = None

    @property
    def subscribers(self) -> int:
        return sum(len(s) for s in self._subs.values())

    def wanted(self) -> bool:
        """Whether a write should bother serialising its events for streams."""
        return bool(self.redis_url) or bool(self._subs)

    def publish(self, team_id: str, events: Sequence[dict[str, Any]]) -> None:
        if not events:
            return
        batch = list(events)
        if self.guard.available:
            self._publish_redis(team_id, batch)
        else:
            self._deliver(team_id, batch)

    def _deliver(self, team_id: str, events: list[dict[str, Any]]) -> None:
        with self._lock:
            subs = list(self._subs.get(team_id, ()))
        for sub in subs:
            with contextlib.suppress(RuntimeError):  # loop already closed
                sub.loop.call_soon_threadsafe(sub.offer, events)

    def _publish_redis(self, team_id: str, events: list[dict[str, Any]]) -> None:
        payload = orjson.dumps(events)

        def send(client: Any) -> bool:
            client.publish(f"{CHANNEL}:{team_id}", payload)
            return True

        if not self.guard.call(send, lambda: False):
            self._deliver(team_id, events)  # Redis hung or down: this worker's clients still see it
        elif self._subs and not self._relay_alive():
            # Redis came back while no relay ran: deliver here and restart the relay.
            self._deliver(team_id, events)
            self._restart_relay()

    def _relay_alive(self) -> bool:
        return self._relay is not None and not self._relay.done()

    def _restart_relay(self) -> None:
        with self._lock:
            sub = next((s for subs in self._subs.values() for s in subs), None)
        if sub is not None:
            with contextlib.suppress(RuntimeError):
                sub.loop.call_soon_threadsafe(self._start_relay)

    def _start_relay(self) -> asyncio.Future[None]:
        ready = asyncio.get_running_loop().create_future()
        if self._relay_alive():
            ready.set_result(None)
        else:
            self._relay = asyncio.create_task(self._relay_redis(ready))
        return ready

    async def subscribe(self, team_id: str) -> Subscription:
        sub = Subscription(team_id, asyncio.get_running_loop())
        with self._lock:
            self._subs.setdefault(team_id, set()).add(sub)
        if self.guard.available and not self._relay_alive():
            ready = self._start_relay()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ready, self.guard.timeout * 4)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            subs = self._subs.get(sub.team_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[sub.team_id]

    async def _relay_redis(self, ready: asyncio.Future[None]) -> None:
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(self.redis_url, socket_connect_timeout=self.guard.timeout)
        pubsub = client.pubsub()
        try:
            try:
                await asyncio.wait_for(pubsub.psubscribe(f"{CHANNEL}:*"), self.guard.timeout)
            except (TimeoutError, OSError, aioredis.RedisError) as exc:
                self.guard.trip(exc)
                return
            if not ready.done():
                ready.set_result(None)
            async for message in pubsub.listen():
                if message.get("type") != "pmessage":
                    continue
                channel = message["channel"]
                channel = channel.decode() if isinstance(channel, bytes) else channel
                team_id = channel.rsplit(":", 1)[1]
                self._deliver(team_id, orjson.loads(message["data"]))
                if not self._subs:
                    break
        except Exception as exc:
            log.warning("Redis stream relay stopped: %s", exc)
        finally:
            if not ready.done():
                ready.set_result(None)
            with contextlib.suppress(Exception):
                await pubsub.aclose()
                await client.aclose()

    async def close(self) -> None:
        if self._relay is not None:
            self._relay.cancel()
            with contextlib.suppress(BaseException):
                await self._relay
        self.guard.close()
