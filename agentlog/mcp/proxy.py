"""`agentlog mcp proxy -- CMD ARGS`: run an MCP stdio server as a child and relay both ways,
byte for byte, while a `Recorder` maps a copy of the traffic into one session.

The relay threads only read, write and append the bytes to the recorder's
queue. The child runs in its own process group and every signal the proxy gets
(INT, TERM, HUP, QUIT) is passed on once; the child's exit code (or its fatal
signal) becomes the proxy's. stderr is the child's own, untouched.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from agentlog.errors import CommandNotFound, UsageError
from agentlog.mcp.frames import CLIENT_TO_SERVER, SERVER_TO_CLIENT
from agentlog.mcp.mapping import McpMapper
from agentlog.mcp.recorder import Recorder

if TYPE_CHECKING:
    from agentlog.storage.base import Store

CHUNK = 65536
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def pump(
    src: int,
    dst: int | None,
    direction: str,
    recorder: Recorder,
    on_end: Callable[[], None] | None = None,
) -> None:
    """Relay `src` to `dst` until end of stream; a dead `dst` is dropped, the reading goes on."""
    read, tap, clock = os.read, recorder.tap, time.time
    while True:
        try:
            chunk = read(src, CHUNK)
        except OSError:
            chunk = b""
        if not chunk:
            break
        # Stamped and queued before the write (a non-blocking append): the peer cannot
        # answer bytes it has not got, so an answer is always queued after its cause.
        tap(direction, chunk, clock())
        if dst is not None:
            try:
                _write_all(dst, chunk)
            except OSError:  # the reader went away: keep recording what the peer still says
                dst = None
                if on_end is not None:
                    on_end()
                    on_end = None
    recorder.tap_end(direction, clock())
    if on_end is not None:
        on_end()


def command_label(command: Sequence[str]) -> str:
    """A short title for a session from the server command line."""
    return " ".join(os.path.basename(command[0]) if i == 0 else a for i, a in enumerate(command))[
        :200
    ]


def require_command(command: Sequence[str]) -> None:
    """CommandNotFound (exit 127, as `agentlog run` and a shell), before anything starts,
    when a server command is not on PATH."""
    if shutil.which(command[0]) is None:
        raise CommandNotFound(f"command not found: {command[0]} (is it installed and on PATH?)")


def run_stdio(
    command: Sequence[str],
    *,
    title: str | None = None,
    agent: str | None = None,
    log: Any = None,
    store: Store | None = None,
    stdin: int = 0,
    stdout: int = 1,
    parent_session_id: str | None = None,
) -> int:
    """Run the proxy until the server exits; returns its exit code (or 128 + its fatal signal).

    `store`, when given, is read to compare the server's tools with its last session.
    """
    from agentlog.sdk.client import AgentLog

    if not command:
        raise UsageError(
            "give the server command after `--`: agentlog mcp proxy -- uvx mcp-server-time"
        )
    require_command(command)
    owned = log is None
    if log is None:
        log = AgentLog(integration="mcp-proxy")
    handle = log.session(
        title or f"MCP {command_label(command)}",
        tags=["mcp"],
        agent_id=agent,
        metadata={"mcp_command": list(command)[:50]},
        parent_session_id=parent_session_id,
    )
    mapper = McpMapper(handle.id, agent_id=agent)
    recorder = Recorder(handle, mapper, store=store)
    try:
        child = subprocess.Popen(
            list(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,
            bufsize=0,
            start_new_session=True,
        )
    except OSError as exc:
        recorder.close()
        handle.error(f"could not start the MCP server: {exc}")
        handle.end("failed")
        if owned:
            log.close()
        raise UsageError(f"could not start {command[0]}: {exc.strerror or exc}") from None
    assert child.stdin is not None and child.stdout is not None
    child_in, child_out = child.stdin, child.stdout

    def close_child_stdin() -> None:
        try:
            child_in.close()
        except OSError:
            pass

    previous = _forward_signals(child)
    to_server = threading.Thread(
        target=pump,
        args=(stdin, child_in.fileno(), CLIENT_TO_SERVER, recorder, close_child_stdin),
        name="agentlog-mcp-c2s",
        daemon=True,
    )
    to_server.start()
    try:
        pump(child_out.fileno(), stdout, SERVER_TO_CLIENT, recorder)
        code = child.wait()
    finally:
        _restore_signals(previous)
    reason = (
        f"the MCP server exited with code {code} before answering"
        if code >= 0
        else f"the MCP server was killed by signal {-code} before answering"
    )
    recorder.close(reason)
    if code != 0:
        handle.error(
            reason.removesuffix(" before answering"),
            metadata={"exit_code": code},
        )
    handle.end("completed" if code == 0 else "failed")
    if owned:
        log.close()
    return code if code >= 0 else 128 - code


def _forward_signals(child: subprocess.Popen[bytes]) -> dict[int, Any]:
    previous: dict[int, Any] = {}
    if threading.current_thread() is not threading.main_thread():
        return previous

    def forward(signum: int, _frame: Any) -> None:
        try:
            child.send_signal(signum)
        except OSError:
            pass

    for sig in FORWARDED:
        try:
            previous[sig] = signal.signal(sig, forward)
        except (OSError, ValueError):
            pass
    return previous


def _restore_signals(previous: dict[int, Any]) -> None:
    for sig, handler in previous.items():
        try:
            signal.signal(sig, handler)
        except (OSError, ValueError):
            pass


def exit_like(code: int) -> None:
    """Leave the process the way the child left: the same code, or the same fatal signal."""
    sys.stdout.flush()
    if code > 128 and code - 128 in {s.value for s in FORWARDED} | {signal.SIGKILL.value}:
        sig = code - 128
        if sig != signal.SIGKILL:
            signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
    raise SystemExit(code)
