"""The recording side of a relay: bytes tapped from the relay are framed, mapped and logged on
their own thread, so the relay only pays for a queue append (a slow disk never delays a message).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agentlog.mcp.frames import CLIENT_TO_SERVER, SERVER_TO_CLIENT, as_raw
from agentlog.mcp.framing import Framer, LineFramer, Piece
from agentlog.mcp.mapping import McpMapper

if TYPE_CHECKING:
    from agentlog.sdk.handle import SessionHandle
    from agentlog.storage.base import Store

logger = logging.getLogger("agentlog")

# Bytes waiting to be recorded past which new bytes are relayed but not recorded.
MAX_BACKLOG_BYTES = 256 * 1024 * 1024

_STOP = object()
_MANY = object()


class Recorder:
    """Maps tapped traffic into one session. `tap()` is safe to call from any relay thread."""

    def __init__(
        self,
        handle: SessionHandle,
        mapper: McpMapper,
        framer: Callable[[], Framer] = LineFramer,
        store: Store | None = None,
    ) -> None:
        self.handle = handle
        self.store = store  # read for tool drift against the server's last session
        self._drift_checked = False
        self.mapper = mapper
        self.framers: dict[str, Framer] = {CLIENT_TO_SERVER: framer(), SERVER_TO_CLIENT: framer()}
        # Each counter has one writer thread, so no lock: bytes queued per direction (the relay
        # thread of that direction) and bytes taken (the recorder thread).
        self._queued = {CLIENT_TO_SERVER: 0, SERVER_TO_CLIENT: 0}
        self._taken = 0
        self.skipped = 0  # bytes relayed but not recorded (the recorder fell too far behind)
        self.messages = 0
        self._saved_version = 0
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="agentlog-mcp-recorder", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------ relay side (hot path)
    def tap(self, direction: str, chunk: bytes, at: float) -> None:
        """Bytes just relayed in `direction` (one queue append; never blocks, never raises)."""
        if self.admit(direction, len(chunk)):
            self._queue.put((direction, chunk, at))

    def tap_end(self, direction: str, at: float) -> None:
        """One direction reached end of stream."""
        self._queue.put((direction, None, at))

    def piece(self, direction: str, piece: Piece, at: float) -> None:
        """A message split out by a framer outside the recorder (an SSE event), maybe refused."""
        self._queue.put((direction, ("piece", piece), at))

    def admit(self, direction: str, size: int) -> bool:
        """Count `size` bytes about to be queued, or refuse them when the backlog is too big."""
        queued = self._queued
        if sum(queued.values()) - self._taken + size > MAX_BACKLOG_BYTES:
            self.skipped += size
            return False
        queued[direction] += size
        return True

    def many(self, items: list[tuple[str, Any, float]]) -> None:
        """Several `(direction, ("message" | "stream", ...), at)` items in one queue append, so
        the recorder thread wakes once for them (stream bytes already `admit`ted)."""
        self._queue.put((_MANY, items, 0.0))

    # ------------------------------------------------------------ recording side
    def close(self, reason: str | None = None, timeout: float = 30.0) -> None:
        """Record what is queued, then an ERROR per unanswered tool call (`reason` says why)."""
        self._queue.put((_STOP, reason, time.time()))
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            direction, chunk, at = self._queue.get()
            try:
                if direction is _STOP:
                    self._finish(chunk, at)
                    return
                if direction is _MANY:
                    self._many(chunk)
                    continue
                self._one(direction, chunk, at)
            except Exception as exc:  # never let one bad chunk stop the recording
                logger.warning("agentlog mcp: could not record a message: %r", exc)

    def _many(self, items: list[tuple[str, Any, float]]) -> None:
        for direction, chunk, at in items:
            try:
                self._one(direction, chunk, at)
            except Exception as exc:  # one bad item costs itself, not the ones after it
                logger.warning("agentlog mcp: could not record a message: %r", exc)

    def _one(self, direction: str, chunk: Any, at: float) -> None:
        if isinstance(chunk, tuple):
            if chunk[0] == "stream":
                body: Framer = chunk[1]
                if chunk[2] is None:
                    pieces = body.end()
                else:
                    self._taken += len(chunk[2])
                    pieces = body.feed(chunk[2])
                for piece in pieces:
                    self._piece(piece, direction, at)
            elif chunk[0] == "piece":
                self._piece(chunk[1], direction, at)
            else:
                self.messages += 1
                self._record(self.mapper.feed(chunk[1], direction, at))
            return
        framer = self.framers[direction]
        if chunk is None:
            pieces = framer.end()
        else:
            self._taken += len(chunk)
            pieces = framer.feed(chunk)
        for piece in pieces:
            self._piece(piece, direction, at)

    def _piece(self, piece: Piece, direction: str, at: float) -> None:
        self.messages += 1
        if piece.problem is not None:
            self._record([self.mapper.invalid(as_raw(piece.data), direction, piece.problem, at)])
        else:
            self._record(self.mapper.feed(piece.data, direction, at))

    def _record(self, events: list[Any]) -> None:
        mapper = self.mapper
        if not self._drift_checked and "tools" in mapper.context and self.store is not None:
            self._drift_checked = True
            self._check_drift()
        if mapper.context_version != self._saved_version:
            self._saved_version = mapper.context_version
            self.handle.update_metadata({"mcp": dict(mapper.context)})
        self.handle.add_events(events)

    def _check_drift(self) -> None:
        from agentlog.mcp.drift import drift_against

        assert self.store is not None
        try:
            drift = drift_against(self.store, self.mapper.context, self.handle.id)
        except Exception as exc:  # a store that cannot answer costs the check, not the recording
            logger.warning("agentlog mcp: could not compare tools with the last session: %r", exc)
            return
        if drift is None:
            return
        self.mapper.set_context("tools_drift", drift)
        if drift["added"] or drift["removed"] or drift["changed"]:
            counts = ", ".join(f"{len(drift[k])} {k}" for k in ("added", "removed", "changed"))
            self.handle.log(
                f"the server's tools changed since session {drift['previous_session']}: {counts}",
                level="warning",
                name="mcp.tools_changed",
                metadata=drift,
            )

    def _finish(self, reason: str | None, at: float) -> None:
        for direction, framer in self.framers.items():
            for piece in framer.end():
                self._piece(piece, direction, at)
        if reason:
            self._record(self.mapper.finish(reason, at))
        if self.skipped:
            self.handle.log(
                f"the recorder fell behind: {self.skipped} relayed bytes were not recorded",
                level="warning",
            )
