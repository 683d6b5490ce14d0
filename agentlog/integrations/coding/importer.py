"""`agentlog import --from claude-code|codex|gemini`: coding agents' transcripts into the store.

Each transcript file is read line by line from where the last import stopped
(a byte offset per file, kept in `<data dir>/coding-imports.json` per store),
so a re-run or `--watch` only reads what was appended; a file that was
rewritten (other inode, shorter, or different first bytes) is read again from
the start, which adds nothing twice because every id derives from the
transcript's own ids. Gemini CLI rewrites each chat as one JSON document, so
a chat is read again whenever it changed, from its first message not yet final.
A file deleted underneath keeps what was already imported. Secrets are masked before anything is written (`REDACT`), unless
the caller turns that off.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import orjson

from agentlog.config import data_dir
from agentlog.errors import UsageError
from agentlog.integrations.coding.claude_code import ClaudeCodeMapper, Links
from agentlog.model import MAX_BATCH_EVENTS, Event, Session
from agentlog.storage.base import Store, session_exists
from agentlog.transfer.redact import Redactor
from agentlog.transfer.report import KEEP_PROBLEMS, ImportReport, Problem

SOURCES = ("claude-code", "codex", "gemini")
REDACT = (("@secrets",), ("@secrets",))  # (text patterns, metadata keys) masked by default
STATE_FILE = "coding-imports.json"
FLUSH_EVENTS = 500  # events gathered before a write, at a turn boundary
MAX_PENDING = 5000  # ... or regardless of turns, so memory stays bounded
# The same two bounds in bytes read, for transcripts of huge tool outputs (500 events of
# 1 MB outputs would otherwise be held at once).
FLUSH_BYTES = 8 * 1024 * 1024
MAX_PENDING_BYTES = 64 * 1024 * 1024
SIGNATURE_BYTES = 1024  # first bytes of a file that must not change between reads
WHERE = {
    "claude-code": "~/.claude/projects",
    "codex": "~/.codex/sessions",
    "gemini": "~/.gemini/tmp",
}


def _check(source: str) -> None:
    if source not in SOURCES:
        raise UsageError(f"unknown source {source!r}; use one of {', '.join(SOURCES)}")


def default_path(source: str) -> Path:
    """Where the tool keeps its sessions (CLAUDE_CONFIG_DIR / CODEX_HOME honoured)."""
    _check(source)
    if source == "claude-code":
        base = os.environ.get("CLAUDE_CONFIG_DIR") or str(Path.home() / ".claude")
        return Path(base).expanduser() / "projects"
    if source == "gemini":
        return Path.home() / ".gemini" / "tmp"
    base = os.environ.get("CODEX_HOME") or str(Path.home() / ".codex")
    return Path(base).expanduser() / "sessions"


def transcripts(root: Path, source: str = "claude-code") -> list[Path]:
    """Transcript files under `root`: main sessions first, then their sub-agents."""
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise UsageError(
            f"{root} does not exist; pass the transcripts directory or one .jsonl file "
            f"({source} keeps them in {WHERE.get(source, 'its data directory')})"
        )
    if source == "gemini":
        return sorted(p for p in root.rglob("session-*.json") if p.is_file())
    found = [
        p
        for p in root.rglob("*.jsonl")
        if p.is_file() and not p.name.startswith("agent-acompact")  # internal compaction
    ]
    return sorted(found, key=lambda p: (p.parent.name == "subagents", str(p)))


def make_mapper(source: str, state: dict[str, Any] | None, links: Links) -> Any:
    """The mapping for `source`, resumed from `state`."""
    if source == "codex":
        from agentlog.integrations.coding.codex import CodexMapper

        return CodexMapper(state)
    return ClaudeCodeMapper(state, links)


def main_transcript(path: Path) -> Path | None:
    """`<project>/<session>.jsonl` for a sub-agent file `<project>/<session>/subagents/x.jsonl`."""
    if path.parent.name != "subagents":
        return None
    session_dir = path.parent.parent
    return session_dir.parent / (session_dir.name + ".jsonl")


class ImportState:
    """Per store, per file: how far it was read and what the mapper needs to go on."""

    def __init__(self, store_url: str, path: Path | None = None) -> None:
        self.path = path or data_dir() / STATE_FILE
        self.key = store_url
        self.all: dict[str, Any] = {}
        if self.path.exists():
            try:
                self.all = orjson.loads(self.path.read_bytes())
            except orjson.JSONDecodeError:
                self.all = {}  # a damaged state file costs a full (idempotent) re-read
        self.files: dict[str, Any] = self.all.setdefault(self.key, {})

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + f".{os.getpid()}.tmp")
        tmp.write_bytes(orjson.dumps(self.all))
        os.replace(tmp, self.path)


@dataclass
class FileRead:
    """One file's read: where it starts and the mapper state to start from."""

    offset: int
    mapper_state: dict[str, Any] | None
    links: dict[str, Any] | None


def _signature(path: Path, upto: int) -> str:
    with path.open("rb") as f:
        return hashlib.sha1(f.read(min(upto, SIGNATURE_BYTES))).hexdigest()


def _resume(path: Path, saved: dict[str, Any] | None) -> FileRead:
    """Go on from the saved offset unless the file was replaced or rewritten."""
    if not saved:
        return FileRead(0, None, None)
    st = path.stat()
    offset = int(saved.get("offset", 0))
    same = (
        saved.get("ino") == st.st_ino
        and st.st_size >= offset
        and saved.get("sig") == _signature(path, offset)
    )
    if not same:
        return FileRead(0, None, saved.get("links"))
    return FileRead(offset, saved.get("mapper"), saved.get("links"))


def _lines(path: Path, offset: int) -> Iterator[tuple[int, int, bytes]]:
    """(line number from the offset, end offset, line) for each complete line."""
    with path.open("rb") as f:
        f.seek(offset)
        for number, line in enumerate(f, 1):
            if not line.endswith(b"\n"):
                return  # being written: the next read takes it whole
            offset += len(line)
            yield number, offset, line


class CodingImporter:
    """Imports transcripts into one store; `run_once()` per pass, `watch()` to keep going."""

    def __init__(
        self,
        store: Store,
        source: str,
        root: str | Path | None = None,
        *,
        redact: bool = True,
        state_path: Path | None = None,
        dry_run: bool = False,
    ) -> None:
        _check(source)
        self.store = store
        self.source = source
        self.root = Path(root).expanduser() if root else default_path(source)
        self.redactor = Redactor(*REDACT) if redact else None
        self.state = ImportState(f"{source}|{store.url}", state_path)
        self.dry_run = dry_run
        self.known: set[str] = set()

    def run_once(self) -> ImportReport:
        report = ImportReport(format=self.source, dry_run=self.dry_run)
        if not self.root.exists() and self.root == default_path(self.source):
            raise UsageError(
                f"no {self.source} transcripts at {self.root}; pass their directory "
                f"(agentlog import --from {self.source} PATH)"
            )
        links: dict[Path, Links] = {}
        seen: set[str] = set()
        for path in transcripts(self.root, self.source):
            key = str(path.resolve())
            seen.add(key)
            try:
                if self.source == "gemini":
                    self._document(path, key, report)
                else:
                    self._file(path, key, report, links)
            except FileNotFoundError:
                self.state.files.pop(key, None)  # deleted underneath: what was read stays
        if self.root.is_dir():
            root_key = str(self.root.resolve())
            for key in [k for k in self.state.files if k.startswith(root_key) and k not in seen]:
                del self.state.files[key]
        if not self.dry_run:
            self.state.save()
        return report

    def _file(self, path: Path, key: str, report: ImportReport, links: dict[Path, Links]) -> None:
        saved = self.state.files.get(key)
        start = _resume(path, saved)
        main = main_transcript(path)
        if main is not None:
            shared = links.get(main) or Links.from_dict(
                (self.state.files.get(str(main.resolve())) or {}).get("links")
            )
        else:
            shared = links.setdefault(path, Links.from_dict(start.links))
        mapper = make_mapper(self.source, start.mapper_state, shared)
        offset = start.offset
        pending_sessions: dict[str, Session] = {}
        pending: list[Event] = []
        record: Any = None
        read = 0  # bytes fed to the mapper since its events were last taken
        for number, end, raw in _lines(path, offset):
            try:
                record = orjson.loads(raw)
                mapper.feed(record)
            except (orjson.JSONDecodeError, ValueError, TypeError) as exc:
                reason = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
                self._reject(report, f"{path.name}: line after byte {offset}", reason, number)
            offset = end
            read += len(raw)
            if (
                len(mapper.events) >= MAX_PENDING
                or read >= MAX_PENDING_BYTES
                or (
                    (len(mapper.events) >= FLUSH_EVENTS or read >= FLUSH_BYTES)
                    and isinstance(record, dict)
                    and record.get("type") in ("user", "turn_context")
                )
            ):
                read = 0
                sessions, events = mapper.take()
                pending_sessions.update((s.id, s) for s in sessions)
                pending.extend(events)
                self._write(list(pending_sessions.values()), pending, report)
                pending_sessions, pending = {}, []
        sessions, events = mapper.take()
        pending_sessions.update((s.id, s) for s in sessions)
        pending.extend(events)
        if pending or pending_sessions:
            # A touched session is written whole (its header holds every line so far).
            whole = {s.id: s for s in mapper.sessions(set(pending_sessions))}
            self._write(list(whole.values()), pending, report)
        self.state.files[key] = {
            "ino": path.stat().st_ino,
            "offset": offset,
            "sig": _signature(path, offset),
            "mapper": mapper.state(),
            "links": shared.to_dict() if main is None else None,
        }

    def _document(self, path: Path, key: str, report: ImportReport) -> None:
        """A chat saved as one JSON document, rewritten whole: read again when it changed."""
        from agentlog.integrations.coding.gemini import GeminiMapper

        st = path.stat()
        saved = self.state.files.get(key) or {}
        stamp = [st.st_ino, st.st_size, st.st_mtime_ns]
        if saved.get("stamp") == stamp:
            return
        mapper = GeminiMapper(saved.get("mapper"))
        try:
            mapper.feed_document(orjson.loads(path.read_bytes()))
        except (orjson.JSONDecodeError, ValueError) as exc:
            if st.st_mtime_ns > time.time_ns() - 2_000_000_000:
                return  # probably caught mid-write: the next pass reads it whole
            self._reject(report, path.name, str(exc).splitlines()[0][:300], None)
            return
        for where, why in mapper.problems:
            self._reject(report, f"{path.name}: {where}", why, None)
        sessions, events = mapper.take()
        self._write(sessions, events, report)
        self.state.files[key] = {"stamp": stamp, "mapper": mapper.state()}

    def _write(self, sessions: list[Session], events: list[Event], report: ImportReport) -> None:
        if self.redactor is not None:
            sessions = [cast(Session, self.redactor(s)) for s in sessions]
            events = [cast(Event, self.redactor(e)) for e in events]
        for session in sessions:
            if session.id in self.known:
                continue
            self.known.add(session.id)
            if session_exists(self.store, session.id):
                report.sessions.duplicates += 1
            else:
                report.sessions.imported += 1
        if self.dry_run:
            report.events.imported += len(events)
            return
        for start in range(0, max(len(events), 1), MAX_BATCH_EVENTS):
            chunk = events[start : start + MAX_BATCH_EVENTS]
            result = self.store.write(sessions if start == 0 else (), chunk)
            report.events.imported += result.inserted
            report.events.duplicates += result.duplicates
            for err in result.errors:
                self._reject(report, f"event {chunk[err.index].id}", err.error, None)

    @staticmethod
    def _reject(report: ImportReport, where: str, reason: str, line: int | None) -> None:
        report.events.rejected += 1
        if len(report.rejects) < KEEP_PROBLEMS:
            report.rejects.append(Problem(where=where, reason=f"{where}: {reason}", line=line))

    def watch(
        self,
        on_pass: Callable[[ImportReport], None],
        *,
        interval: float = 0.5,
        stop: Callable[[], bool] = lambda: False,
    ) -> None:
        """Import, then again every `interval` seconds, until `stop()` says so (or Ctrl-C)."""
        while True:
            on_pass(self.run_once())
            deadline = time.monotonic() + interval
            while time.monotonic() < deadline:
                if stop():
                    return
                time.sleep(min(0.05, interval))


def import_coding(
    store: Store,
    source: str,
    root: str | Path | None = None,
    *,
    redact: bool = True,
    dry_run: bool = False,
    state_path: Path | None = None,
) -> ImportReport:
    """One pass of `agentlog import --from <coding agent> [PATH]` (see the module docstring)."""
    return CodingImporter(
        store, source, root, redact=redact, dry_run=dry_run, state_path=state_path
    ).run_once()


__all__ = ["SOURCES", "CodingImporter", "default_path", "import_coding", "transcripts"]
