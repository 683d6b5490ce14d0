"""A live stream's caller, checked again while it runs: a sign-out, a revoked key, a removed
person or a changed team ends the stream instead of leaving it open on new events."""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool

from agentlog.errors import AuthError, NotFound
from agentlog.server.auth import Principal

RECHECK_SECONDS = 1.0
"""At most this long between checks: an event recorded later than this after a sign-out is
never sent (a check reads the account store, so not one per event on a busy session)."""


class Recheck:
    """`await allowed()` before sending: whether the caller may still read what it opened."""

    def __init__(self, principal: Principal, resolve: Callable[[], Principal | None]) -> None:
        self.principal = principal
        self._resolve = resolve  # the caller again, from the request's own credentials
        self._checked = time.monotonic()

    async def allowed(self) -> bool:
        now = time.monotonic()
        if now - self._checked < RECHECK_SECONDS:
            return True
        self._checked = now
        try:
            again = await run_in_threadpool(self._resolve)
        except (AuthError, NotFound):
            return False
        return (
            again is not None
            and again.user_id == self.principal.user_id
            and again.team_id == self.principal.team_id
        )
