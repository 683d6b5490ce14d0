"""Where the SDK's writer sends batches: a Store, or a server behind an offline spool.

Locally the transport is the Store itself. For a server it is
`SpoolingTransport`: writes go to the remote Store (RemoteStore over HTTP)
while it answers; when it is unreachable or answers 5xx a circuit breaker
opens and batches go to the local spool Store instead. When the breaker lets
a probe through, the spool is synced first (in order), then live batches go
to the server again. A refused key (401/403) is not an outage: it is said once and
nothing more is sent with it; the spool keeps the events for `agentlog sync`. Only the
Store protocol is used on both sides.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentlog.model import Event, Session, WriteResult
from agentlog.sdk.spool import (
    SpoolLock,
    default_spool_path,
    marked_row,
    open_spool,
    pending,
    refusal,
    sync,
)
from agentlog.storage.sql.rows import write_rows_to

if TYPE_CHECKING:
    from agentlog.storage.base import Store

logger = logging.getLogger("agentlog")

# 4xx answers that are not the batch's fault: keep the data (spool). A rate limit is
# retried later; a refused key (401/403) is not retried by this process (see `refusal`).
_SPOOL_CODES = frozenset({"rate_limited", "unauthorized", "forbidden"})


def is_outage(exc: BaseException) -> bool:
    """True when a failed write should be spooled and retried later (not the batch's fault)."""
    from agentlog.errors import AgentLogError

    if isinstance(exc, AgentLogError):
        return exc.http_status >= 500 or exc.code in _SPOOL_CODES
    return True  # connection refused, timeouts, anything unexpected: keep the data


class CircuitBreaker:
    """Closed: calls go through. After a failure: open for `delay` seconds, then one probe.

    Each failed probe doubles the delay up to `max_delay`; a success closes it.
    """

    def __init__(
        self,
        base_delay: float = 1.0,
        max_delay: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.clock = clock
        self.delay = base_delay
        self.open_until: float | None = None
        self.failures = 0

    @property
    def state(self) -> str:
        if self.open_until is None:
            return "closed"
        return "half-open" if self.clock() >= self.open_until else "open"

    def allow(self) -> bool:
        return self.open_until is None or self.clock() >= self.open_until

    def success(self) -> None:
        self.open_until = None
        self.delay = self.base_delay
        self.failures = 0

    def failure(self) -> None:
        self.failures += 1
        if self.open_until is not None:  # a failed probe: wait longer next time
            self.delay = min(self.delay * 2, self.max_delay)
        self.open_until = self.clock() + self.delay


class SpoolingTransport:
    """A remote Store with an offline spool Store and a circuit breaker in front."""

    def __init__(
        self,
        remote: Callable[[], Store],
        spool: Callable[[], Store],
        *,
        spool_path: str | Path,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self._remote_factory = remote
        self._spool_factory = spool
        self._remote: Store | None = None
        self._spool: Store | None = None
        self.spool_path = Path(spool_path)
        self.lock = SpoolLock(self.spool_path)
        self.breaker = breaker or CircuitBreaker()
        self.spooled = 0  # events written to the spool by this transport
        self.synced = 0  # spooled events this transport later sent
        self._warned: set[str] = set()
        # Set when the server refused the key (401/403): the same key is refused again, so
        # nothing more goes to the server; everything stays in the spool for `agentlog sync`.
        self.refused: str | None = None
        # Something left from an earlier run is sent at the first chance.
        self.spool_pending = self.spool_path.exists() and not pending(self.spool_path).empty

    # ------------------------------------------------------------ the writer's interface
    def write(self, sessions: Sequence[Session] = (), events: Sequence[Event] = ()) -> WriteResult:
        return self._deliver(sessions, events, lambda store, s, e: store.write(s, e))

    def write_rows(
        self, sessions: Sequence[Session] = (), rows: Sequence[Sequence[Any]] = ()
    ) -> WriteResult:
        """`write` of checked event rows (the SDK writer's form; `Store.write_rows`)."""
        return self._deliver(sessions, rows, write_rows_to)

    def _deliver(
        self,
        sessions: Sequence[Session],
        events: Sequence[Any],
        send: Callable[[Store, Sequence[Session], Sequence[Any]], WriteResult],
    ) -> WriteResult:
        if self.refused is None and self.breaker.allow():
            try:
                if self.spool_pending:
                    self._drain()
                result = send(self._remote_store(), sessions, events)
            except Exception as exc:
                if not is_outage(exc):
                    raise
                self._failed(exc)
            else:
                self.breaker.success()
                return result
        with self.lock:
            result = send(self._spool_store(), [marked_row(s) for s in sessions], events)
        self.spool_pending = True
        self.spooled += len(events)
        return result

    def maintain(self) -> None:
        """Idle work: when the breaker allows, send what is spooled."""
        if self.spool_pending and self.refused is None and self.breaker.allow():
            try:
                self._drain()
            except Exception as exc:
                self._failed(exc)
            else:
                self.breaker.success()

    def close(self) -> None:
        self.maintain()  # one last chance for the spool, without waiting for the breaker
        for store in (self._remote, self._spool):
            if store is not None:
                try:
                    store.close()
                except Exception as exc:
                    logger.debug("agentlog: closing %r failed: %s", store, exc)
        self._remote = self._spool = None

    # ------------------------------------------------------------ internals
    def _remote_store(self) -> Store:
        if self._remote is None:
            self._remote = self._remote_factory()
        return self._remote

    def _spool_store(self) -> Store:
        if self._spool is None:
            self._spool = self._spool_factory()
        return self._spool

    def _failed(self, exc: BaseException) -> None:
        reason = refusal(exc)
        if reason is None:
            self._outage(exc)
            return
        self.refused = reason
        logger.warning(
            "agentlog: %s; the events are kept in %s and not sent again with this key: "
            "run `agentlog sync` with a key that can write",
            reason,
            self.spool_path,
        )

    def _outage(self, exc: BaseException) -> None:
        self.breaker.failure()
        kind = type(exc).__name__
        if kind not in self._warned:
            self._warned.add(kind)
            logger.warning(
                "agentlog: the server is not taking events (%s: %s); spooling to %s and "
                "retrying in the background (`agentlog sync --status` shows what is waiting)",
                kind,
                exc,
                self.spool_path,
            )

    def _drain(self) -> None:
        """Send the spool to the server in order; raise (after partial progress) on failure."""
        report = sync(self._spool_store(), self._remote_store(), lock=self.lock)
        self.synced += report.inserted + report.duplicates
        if report.exception is not None:
            raise report.exception
        if report.rejected:
            logger.warning(
                "agentlog: the server rejected %d spooled events (first: %s); they stay in %s",
                len(report.rejected),
                report.rejected[0].error,
                self.spool_path,
            )
        self.spool_pending = False


def open_server_transport(
    url: str, *, api_key: str | None = None, spool_path: str | Path | None = None
) -> SpoolingTransport:
    """The transport for `AgentLog(server=URL)`: RemoteStore with the default spool file."""
    path = Path(spool_path) if spool_path is not None else default_spool_path()
    return SpoolingTransport(
        remote=lambda: _remote_store(url, api_key),
        spool=lambda: open_spool(path),
        spool_path=path,
    )


def _remote_store(url: str, api_key: str | None) -> Store:
    from agentlog.storage.remote import RemoteStore

    # One quick retry only: the breaker and the spool handle longer outages, and
    # the writer should not sit in backoff while batches could be spooled.
    return RemoteStore(url, api_key=api_key, retries=1, timeout=10.0)
