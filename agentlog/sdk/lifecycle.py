"""Nothing lost on exit: flush the writer at interpreter exit and on SIGTERM.

The SIGTERM handler is installed once, from the main thread only (Python
allows no other), and chains: it flushes, then runs the handler that was there
before, or — when that was the default — restores the default and re-raises
the signal so the process still dies of SIGTERM with the usual exit status.
A SIGTERM that was being ignored stays ignored.
"""

from __future__ import annotations

import atexit
import os
import signal
import threading
import time
from types import FrameType
from typing import Any

from agentlog.sdk import writer as _w

EXIT_FLUSH_TIMEOUT = 10.0
"""Seconds the exit hooks wait for the writer (a dead server costs a spool write, not this)."""

_installed_pid: int | None = None
_signal_pid: int | None = None
_previous: Any = None
_lock = threading.Lock()


def install() -> None:
    """Register the exit hooks for this process (idempotent; again after a fork)."""
    global _installed_pid
    pid = os.getpid()
    if _installed_pid != pid:
        with _lock:
            if _installed_pid != pid:
                if _installed_pid is None:  # atexit registrations survive a fork
                    atexit.register(flush_at_exit)
                _installed_pid = pid
    if _signal_pid != pid and threading.current_thread() is threading.main_thread():
        _install_sigterm()


def _install_sigterm() -> None:
    global _previous, _signal_pid
    try:
        previous = signal.getsignal(signal.SIGTERM)
        _signal_pid = os.getpid()
        if previous is signal.SIG_IGN or previous is _on_sigterm:
            return
        signal.signal(signal.SIGTERM, _on_sigterm)
        _previous = previous
    except (ValueError, OSError, AttributeError):  # not the main interpreter, or no SIGTERM
        pass


def flush_everything(timeout: float = EXIT_FLUSH_TIMEOUT) -> bool:
    """Flush every sink in this process; never raises."""
    w = _w.current()
    if w is None or w.pid != os.getpid() or not w.thread.is_alive():
        return not _w.QUEUE
    try:
        return w.flush(timeout)
    except Exception:
        return False


def flush_at_exit() -> None:
    """Flush, then close every store, all within EXIT_FLUSH_TIMEOUT in total."""
    deadline = time.monotonic() + EXIT_FLUSH_TIMEOUT
    if _w.QUEUE or any(sink.pending() for sink in _w.SINKS):
        flush_everything(EXIT_FLUSH_TIMEOUT)
    # Close the stores so SQLite checkpoints its WAL and a server transport
    # gets a last chance to send what it spooled.
    w = _w.current()
    if w is None or w.pid != os.getpid() or not w.thread.is_alive():
        return
    for sink in list(_w.SINKS):
        left = deadline - time.monotonic()
        if left <= 0:
            return
        try:
            w.close_sink(sink, left)
        except Exception:
            pass


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    flush_everything()
    previous = _previous
    if callable(previous):
        previous(signum, frame)
        return
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
