"""`agentlog run -- CMD`: run a command as a session, recording its output and exit status.

The command's stdout and stderr pass through unchanged and each line is also
recorded as a LOG event; `AGENTLOG_SESSION_ID` is set so an SDK inside the
command joins the same session. `agentlog run` exits with the command's code,
so it can wrap a step of a CI job.
"""

from __future__ import annotations

import os
import queue
import shlex
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from typing import IO, Annotated, Any

import typer

from agentlog.cli.context import get_settings, get_state, get_store
from agentlog.cli.options import SetTagOpt, tags
from agentlog.cli.output import message
from agentlog.errors import CommandNotExecutable, CommandNotFound
from agentlog.model import (
    MAX_CONTENT_BYTES,
    Event,
    EventStatus,
    EventType,
    Session,
    SessionStatus,
    SessionUpdate,
    new_id,
    normalize_id,
    utcnow,
)
from agentlog.storage.base import Store, session_exists

FLUSH_EVENTS = 500
FLUSH_SECONDS = 0.5


def _pump(stream: IO[bytes], name: str, sink: IO[bytes] | None, out: queue.Queue) -> None:
    """Copy one pipe to our own stream as bytes arrive, queueing each complete line.

    Bytes pass through at once (a prompt without a newline still shows);
    lines are cut for the recorder, and an endless line is cut at the
    content limit so memory stays bounded.
    """
    fd = stream.fileno()
    pending = b""
    try:
        while chunk := os.read(fd, 65536):
            if sink is not None:
                try:
                    sink.write(chunk)
                    sink.flush()
                except (OSError, ValueError):
                    sink = None  # our reader went away; keep recording anyway
            pending += chunk
            *lines, pending = pending.split(b"\n")
            if len(pending) > MAX_CONTENT_BYTES:
                lines.append(pending)
                pending = b""
            now = utcnow()
            for line in lines:
                out.put((name, line, now))
        if pending:
            out.put((name, pending, utcnow()))
    finally:
        stream.close()
        out.put((name, None, None))


def _text(line: bytes) -> str:
    text = line.decode("utf-8", errors="replace").rstrip("\r\n")
    if len(text.encode("utf-8", errors="replace")) > MAX_CONTENT_BYTES:
        cut = text.encode("utf-8", errors="replace")[: MAX_CONTENT_BYTES - 64]
        text = cut.decode("utf-8", errors="ignore") + " … [line truncated by agentlog run]"
    return text


def _binary(stream: IO[str]) -> IO[bytes] | None:
    return getattr(stream, "buffer", None)


class _Recorder:
    """Collects output lines as LOG events and writes them in batches from one thread."""

    def __init__(self, store: Store, session: Session, agent: str) -> None:
        self.store = store
        self.session = session
        self.session_id = session.id
        self.agent = agent
        self.pending: list[Event] = []
        self.last_flush = time.monotonic()
        self.lines = 0

    def add(self, stream: str, line: bytes, when: datetime) -> None:
        self.lines += 1
        self.pending.append(
            Event(
                session_id=self.session_id,
                timestamp=when,
                type=EventType.LOG,
                agent_id=self.agent,
                name=stream,
                content=_text(line),
                metadata={"stream": stream},
            )
        )

    def maybe_flush(self) -> None:
        if len(self.pending) >= FLUSH_EVENTS or (
            self.pending and time.monotonic() - self.last_flush >= FLUSH_SECONDS
        ):
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.store.write(events=self.pending)
            self.pending = []
        self.last_flush = time.monotonic()

    def event(self, type_: EventType, content: str, **fields: Any) -> None:
        self.pending.append(
            Event(
                session_id=self.session_id,
                type=type_,
                agent_id=self.agent,
                content=content,
                **fields,
            )
        )


class _PassTerm:
    """While the command runs, SIGTERM is passed to it instead of killing this process.

    A CI timeout or a cancelled job sends SIGTERM; dying at once lost the lines not
    yet written and left the session active for ever. Passed on, the command ends
    as it chooses, its last output is recorded and the session ends as failed
    (143), as after Ctrl-C. A handler can only be installed from the main thread
    (elsewhere, such as in a test runner's thread, SIGTERM keeps its default).
    """

    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc = proc
        self.received = False
        self.installed = False
        self.previous: Any = None

    def __enter__(self) -> _PassTerm:
        try:
            self.previous = signal.signal(signal.SIGTERM, self._handle)
            self.installed = True
        except ValueError:
            pass
        return self

    def _handle(self, signum: int, frame: object) -> None:
        self.received = True
        try:
            self.proc.send_signal(signum)
        except ProcessLookupError:
            pass  # it has just exited

    def __exit__(self, *exc: object) -> None:
        if self.installed:
            signal.signal(signal.SIGTERM, self.previous)


def _outer_session(store: Store) -> str | None:
    """The session of an `agentlog run` (or SDK) this one runs inside: a CI step of a job.

    Its output already passes through the outer run, so the inner run is its child
    session rather than a second, unrelated one; an id the store does not hold is ignored.
    """
    try:
        outer = normalize_id(os.environ.get("AGENTLOG_SESSION_ID", "").strip())
    except ValueError:
        return None
    return outer if session_exists(store, outer) else None


def _child_env(ctx: typer.Context, session_id: str) -> dict[str, str]:
    env = dict(os.environ)
    env["AGENTLOG_SESSION_ID"] = session_id
    # Through a pipe Python would buffer its output in blocks; unbuffered, each
    # line passes through and is timestamped when it is printed.
    env.setdefault("PYTHONUNBUFFERED", "1")
    state = get_state(ctx)
    # Flags are not inherited like env vars: pass them on so an SDK in the
    # command writes where this run is recorded.
    if state.server:
        env["AGENTLOG_SERVER"] = state.server
    elif state.db:
        env["AGENTLOG_DB"] = state.db
        env.pop("AGENTLOG_SERVER", None)
    if state.api_key:
        env["AGENTLOG_API_KEY"] = state.api_key
    return env


def run(
    ctx: typer.Context,
    command: Annotated[
        list[str], typer.Argument(metavar="CMD...", help="The command and its arguments.")
    ],
    title: Annotated[
        str | None, typer.Option("--title", help="Session title (default: the command).")
    ] = None,
    tag: SetTagOpt = None,
    agent: Annotated[
        str | None, typer.Option("--agent", "-a", help="Agent id for the output events.")
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Do not print the session id on stderr.")
    ] = False,
) -> None:
    """Run a command as a session: its output lines become LOG events; exits with its code.

    Example: agentlog run --title "nightly eval" --tag ci -- python eval.py --suite smoke
    """
    store = get_store(ctx, access="record")
    command_text = shlex.join(command)
    agent = agent or get_settings(ctx).get("agent_id") or os.path.basename(command[0])
    session = Session(
        id=new_id(),
        parent_session_id=_outer_session(store),
        title=title or command_text[:200],
        tags=tags(tag) or [],
        metadata={"command": command, "cwd": os.getcwd(), "sdk": {"name": "agentlog-run"}},
    )
    store.write(sessions=[session])
    recorder = _Recorder(store, session, agent)
    recorder.event(EventType.LOG, f"$ {command_text}", name="run")
    if not quiet:
        message(f"agentlog: session {session.id}")
    try:
        proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_child_env(ctx, session.id),
        )
    except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
        not_found = isinstance(exc, FileNotFoundError | NotADirectoryError)
        why = "command not found" if not_found else "permission denied"
        _finish(recorder, 127 if not_found else 126, f"{why}: {command[0]}")
        error = CommandNotFound if not_found else CommandNotExecutable
        raise error(f"{why}: {command[0]}") from None
    with _PassTerm(proc) as term:  # also while the ending is written
        code, interrupted = _record(proc, recorder)
        if code < 0:
            code = 128 - code  # killed by a signal, as a shell reports it
        note = "terminated (SIGTERM); " if term.received else "interrupted; " if interrupted else ""
        _finish(recorder, code, f"{note}command exited with status {code}: {command_text}")
    raise typer.Exit(code)


def _record(proc: subprocess.Popen, recorder: _Recorder) -> tuple[int, bool]:
    """Pass the command's output through and record it until it exits: its code, and Ctrl-C."""
    lines: queue.Queue = queue.Queue()
    pumps = [
        threading.Thread(
            target=_pump, args=(proc.stdout, "stdout", _binary(sys.stdout), lines), daemon=True
        ),
        threading.Thread(
            target=_pump, args=(proc.stderr, "stderr", _binary(sys.stderr), lines), daemon=True
        ),
    ]
    for pump in pumps:
        pump.start()
    open_streams = len(pumps)
    interrupted = False
    while open_streams:
        try:
            stream, line, when = lines.get(timeout=FLUSH_SECONDS)
        except queue.Empty:
            recorder.maybe_flush()
            continue
        except KeyboardInterrupt:
            # The command got the same Ctrl-C; keep recording until it exits.
            interrupted = True
            continue
        if line is None:
            open_streams -= 1
        else:
            recorder.add(stream, line, when)
        recorder.maybe_flush()
    while True:
        try:
            code = proc.wait()
            break
        except KeyboardInterrupt:
            interrupted = True
    return code, interrupted


def _finish(recorder: _Recorder, code: int, failure: str) -> None:
    if code != 0:
        recorder.event(
            EventType.ERROR,
            failure,
            name="exit",
            status=EventStatus.ERROR,
            metadata={"exit_code": code},
        )
    recorder.flush()
    status = SessionStatus.COMPLETED if code == 0 else SessionStatus.FAILED
    recorder.store.update_session(
        recorder.session_id,
        SessionUpdate(
            status=status,
            ended_at=utcnow(),
            metadata=recorder.session.metadata | {"exit_code": code},
        ),
    )


def register(app: typer.Typer) -> None:
    app.command(
        "run",
        context_settings={"allow_interspersed_args": False},
    )(run)
