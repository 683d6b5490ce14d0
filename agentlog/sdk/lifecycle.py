"""Nothing lost on exit: flush the writer at interpreter exit and on SIGTERM.

The SIGTERM handler is installed once, from the main thread only (Python
allows no other), and chains: it flushes, then runs the handler that was there
before, or — when that was the default — ends every session still open in
this process as failed ("terminated by SIGTERM"), flushes, restores the default
and re-raises the signal so the process still dies of SIGTERM with the usual
exit status. When the agent had its own handler, the process may go on, so
the sessions are left to it. A SIGTERM that was being ignored stays ignored.
At a normal exit open sessions are left as they are (a `with` block has ended
its own).

Two hazards of a Python signal handler, and what is done about them:

- It runs on the main thread between two bytecodes, so the code it interrupted
  may hold any lock (the id lock, the writer's wake, a handle's state): the
  handler takes none of them (`handle.SessionHandle._terminate`; its flush
  leaves the writer's wake to the watcher below, or to the writer's own
  half-second tick) and ignores a SIGTERM that lands while it runs.
- CPython runs it only when the main thread next checks for signals. A SIGTERM
  that lands while the main thread waits for the GIL (held by the writer, busy
  with a burst of events) is noted, and a main thread that then goes straight
  into a blocking call (`time.sleep(60)`, a socket read) runs it only when that
  call returns. So a watcher thread learns of each signal from
  `signal.set_wakeup_fd` (only when no event loop owns it) and, while the
  handler has not started, sends SIGTERM to the main thread again: that
  interrupts the call, and the handler runs. A forked child unsets the pipe it
  shares with its parent and starts its own watcher with its first `AgentLog`.
"""

from __future__ import annotations

import atexit
import os
import signal
import threading
import time
from types import FrameType
from typing import Any

from agentlog.sdk import handle as _handle
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
        if previous is signal.SIG_IGN:
            return
        if previous is not _on_sigterm:
            signal.signal(signal.SIGTERM, _on_sigterm)
            _previous = previous
        if not callable(_previous):  # the handler ends the process: make sure it runs
            _start_watcher()
    except (ValueError, OSError, AttributeError):  # not the main interpreter, or no SIGTERM
        pass


def flush_everything(timeout: float = EXIT_FLUSH_TIMEOUT, *, wake: bool = True) -> bool:
    """Flush every sink in this process; never raises. `wake=False` from a signal handler."""
    w = _w.current()
    if w is None or w.pid != os.getpid() or not w.thread.is_alive():
        return not _w.QUEUE
    try:
        return w.flush(timeout, wake=wake)
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
    global _handling
    if _handling == os.getpid():  # the watcher's nudge, or a second SIGTERM: one is running
        return
    _handling = os.getpid()
    previous = _previous
    if callable(previous):
        flush_everything()
        _handling = None  # the agent's handler may let the process go on
        previous(signum, frame)
        return
    try:
        try:
            _handle.end_open_sessions(signal.Signals(signum).name)
        except Exception:  # never stand between the process and its death
            pass
        flush_everything(wake=False)
    finally:  # even when a KeyboardInterrupt cuts the flush short
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


# ---------------------------------------------------------------- the watcher
_handling: int | None = None  # the pid whose SIGTERM handler has started
_watch_pid: int | None = None
_wakeup: tuple[int, int] | None = None  # this module's wakeup pipe: (read end, write end)

NUDGE_AFTER = 0.1
"""Seconds the watcher gives the main thread to start the handler before nudging it."""
NUDGES = 50


def _start_watcher() -> None:
    """Learn of signals on a pipe (`signal.set_wakeup_fd`) unless something else owns it.

    Main thread only. An event loop that sets the wakeup fd later (asyncio's
    `add_signal_handler`) takes it over: its loop wakes on signals itself."""
    global _watch_pid, _wakeup
    pid = os.getpid()
    if _watch_pid == pid:
        return
    _watch_pid = pid
    try:
        read_fd, write_fd = os.pipe()
    except OSError:
        return
    try:
        os.set_blocking(write_fd, False)
        old = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    except (ValueError, OSError):
        _close(read_fd, write_fd)
        return
    if old != -1:  # someone else's: theirs it stays
        signal.set_wakeup_fd(old)
        _close(read_fd, write_fd)
        return
    _wakeup = (read_fd, write_fd)
    threading.Thread(
        target=_watch,
        args=(read_fd, threading.main_thread().ident),
        name="agentlog-signals",
        daemon=True,
    ).start()


def _close(*fds: int) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


def _watch(read_fd: int, main: int | None) -> None:
    """The watcher thread: on SIGTERM, nudge the main thread until the handler starts,
    then wake the writer for the handler's flush (the handler may not: see `_on_sigterm`)."""
    pid = os.getpid()
    term = bytes([signal.SIGTERM])
    while True:
        try:
            data = os.read(read_fd, 512)
        except OSError:
            return
        if not data:
            return
        if term not in data or main is None:
            continue
        for tick in range(1, 5 * NUDGES + 1):
            time.sleep(NUDGE_AFTER / 5)
            if _handling == pid:
                _w.poke()  # from this thread, no lock of the interrupted main thread is at risk
                break
            # Only this module's handler, which ends the process, is nudged: a handler the
            # agent installed later decides for itself.
            if callable(_previous) or signal.getsignal(signal.SIGTERM) is not _on_sigterm:
                break
            if tick % 5 == 0:
                try:
                    signal.pthread_kill(main, signal.SIGTERM)
                except (OSError, ValueError):
                    break


def _after_fork_in_child() -> None:
    # The child shares the parent's wakeup pipe, whose reader is the parent's watcher: a
    # SIGTERM of the child must not look like the parent's. Unset it before the fds close
    # (a closed fd's number may be reused); the child starts its own watcher in install().
    global _wakeup
    inherited = _wakeup
    if inherited is None:
        return
    try:
        old = signal.set_wakeup_fd(-1)
        if old != inherited[1]:  # not ours any more: theirs it stays
            signal.set_wakeup_fd(old)
    except (ValueError, OSError):
        return  # still set: better an open pipe than a reused fd number
    _wakeup = None
    _close(*inherited)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
