"""The HTTP relay's taps held until their exchange is over, then handed to the recorder at once.

Each hand-off wakes the recorder thread, which then holds the GIL for a while (framing,
mapping, events); a wake while an answer is still being relayed made the relay wait for
the GIL between its own reads and writes. Held per session in arrival order (so a session's
messages reach its mapper in the order they crossed), released when an exchange of that
session ends, and in any case within HOLD_SECONDS (a long SSE stream is recorded as it goes).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentlog.mcp.framing import Framer
    from agentlog.mcp.recorder import Recorder

HOLD_SECONDS = 0.05


class Holder:
    """One per proxy, used from its event loop only: each session's tapped items, in order."""

    def __init__(self) -> None:
        self.held: dict[Recorder, list[tuple[str, Any, float]]] = {}
        self.timer: asyncio.TimerHandle | None = None
        self.since = 0.0  # when the oldest item still held (of any session) came

    def message(self, rec: Recorder, direction: str, body: bytes, at: float) -> None:
        """One whole message (a request body)."""
        self._add(rec, (direction, ("message", body), at))

    def stream(
        self, rec: Recorder, direction: str, framer: Framer, chunk: bytes | None, at: float
    ) -> None:
        """Bytes of an answer's body, split by `framer` on the recorder's thread (None: its end)."""
        if chunk is None or rec.admit(direction, len(chunk)):
            self._add(rec, (direction, ("stream", framer, chunk), at))

    def _add(self, rec: Recorder, item: tuple[str, Any, float]) -> None:
        items = self.held.get(rec)
        if items is not None:
            items.append(item)
            return
        if not self.held:
            self.since = asyncio.get_running_loop().time()
        self.held[rec] = [item]
        if self.timer is None:
            self.timer = asyncio.get_running_loop().call_later(HOLD_SECONDS, self._due)

    def release(self, rec: Recorder) -> None:
        """An exchange of `rec`'s session is over: hand over what it holds.

        The timer is left to run out (it then finds nothing, or a later exchange's items) rather
        than cancelled and made anew on every exchange: one timer per HOLD_SECONDS at most.
        """
        items = self.held.pop(rec, None)
        if items:
            rec.many(items)

    def _due(self) -> None:
        self.timer = None
        if not self.held:
            return
        loop = asyncio.get_running_loop()
        if loop.time() - self.since < HOLD_SECONDS:  # held since this timer was set: not yet
            self.timer = loop.call_at(self.since + HOLD_SECONDS, self._due)
            return
        self.release_all()

    def release_all(self) -> None:
        """Hand over everything (the timer, and a stopping proxy)."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        held, self.held = self.held, {}
        for rec, items in held.items():
            rec.many(items)
