"""Opening export files: `-` for stdin/stdout, gzip by name or magic, atomic writes.

An export to a regular file (or a new path) is written beside it under a
temporary name and renamed into place only when complete, so a full disk or a
crash mid-export never leaves a half file that looks like a finished one. Any
other existing target — a named pipe, a character device such as /dev/null or a
terminal, a socket — is written in place, never replaced. A symlink is
followed: the file it points at is the one replaced.
"""

from __future__ import annotations

import errno
import gzip
import io
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, cast

from agentlog.errors import DiskFull, StoreError, UsageError

GZIP_MAGIC = b"\x1f\x8b"
_BUFFER = 1 << 20


def is_stdio(path: str | Path | None) -> bool:
    return path is None or str(path) == "-"


def refuse_overwrite(path: str | Path | None, *, force: bool) -> None:
    """Stop before an existing file is replaced unasked, as `db backup` does.

    Only a regular file is protected: stdout and devices such as /dev/null are written as before.
    """
    if force or is_stdio(path):
        return
    target = Path(str(path))
    if target.is_file():
        raise UsageError(f"{target} already exists; choose another path or add --force")


def is_gzip_name(path: str | Path | None) -> bool:
    return not is_stdio(path) and str(path).lower().endswith(".gz")


def format_from_name(path: str | Path | None) -> str | None:
    """ndjson, json or csv from the file name (ignoring .gz), or None when it does not say."""
    if is_stdio(path):
        return None
    name = str(path).lower().removesuffix(".gz")
    for suffix, fmt in (
        (".ndjson", "ndjson"),
        (".jsonl", "ndjson"),
        (".json", "json"),
        (".csv", "csv"),
    ):
        if name.endswith(suffix):
            return fmt
    return None


def _disk_error(exc: OSError, path: str) -> Exception:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFull(
            f"the disk is full while writing {path}; nothing was written. Free some space "
            "or write elsewhere with -o"
        )
    return StoreError(f"cannot write {path}: {exc.strerror or exc}")


@contextmanager
def open_output(path: str | Path | None, *, gzip_level: int = 6) -> Iterator[IO[bytes]]:
    """A binary writer for `path` (`-`/None = stdout); gzip when the name ends in .gz.

    A file appears only once everything was written; on any error the partial
    temporary file is removed and the error says so.
    """
    if is_stdio(path):
        out = sys.stdout.buffer
        if _is_terminal(out):
            with _on_terminal(out) as shown:
                yield shown
            return
        yield out
        out.flush()
        return
    target = Path(path)  # type: ignore[arg-type]
    if target.is_dir():
        raise UsageError(
            f"{target} is a directory; give a file name such as {target}/export.ndjson"
        )
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise _disk_error(exc, str(target)) from None
    if mode is not None and not stat.S_ISREG(mode):
        with _in_place(target, gzip_level) as in_place:
            yield in_place
        return
    if mode is not None:
        target = target.resolve()  # a symlink's file is replaced, not the link
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.exists():
        raise UsageError(f"the folder {folder} does not exist; create it first")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise _disk_error(exc, str(target)) from None
    raw = os.fdopen(fd, "wb", buffering=_BUFFER)
    stream: IO[bytes] = raw
    if is_gzip_name(target):
        stream = cast(  # a GzipFile is a binary stream; typeshed does not say IO[bytes]
            IO[bytes],
            gzip.GzipFile(
                filename=target.name.removesuffix(".gz"),
                mode="wb",
                fileobj=raw,
                compresslevel=gzip_level,
                mtime=0,
            ),
        )
    ok = False
    try:
        yield stream
        if stream is not raw:
            stream.close()
        raw.flush()
        os.fsync(raw.fileno())
        raw.close()
        os.replace(tmp_name, target)
        ok = True
    except OSError as exc:
        raise _disk_error(exc, str(target)) from None
    finally:
        if not ok:
            for closer in (stream, raw):
                try:
                    closer.close()
                except OSError:
                    pass
            try:
                os.unlink(tmp_name)
            except OSError:
                pass


@contextmanager
def _in_place(target: Path, gzip_level: int) -> Iterator[IO[bytes]]:
    """Write straight into a pipe, device or socket (renaming over it would destroy it)."""
    try:
        raw = open(target, "wb", buffering=_BUFFER)  # noqa: SIM115 - closed below
    except OSError as exc:
        raise _disk_error(exc, str(target)) from None
    stream: IO[bytes] = raw
    if is_gzip_name(target):
        stream = cast(  # a GzipFile is a binary stream; typeshed does not say IO[bytes]
            IO[bytes],
            gzip.GzipFile(
                filename=target.name.removesuffix(".gz"),
                mode="wb",
                fileobj=raw,
                compresslevel=gzip_level,
                mtime=0,
            ),
        )
    try:
        if stream is raw and _is_terminal(raw):  # -o /dev/tty, /dev/pts/N
            with _on_terminal(raw) as shown:
                yield shown
        else:
            yield stream
        if stream is not raw:
            stream.close()
        raw.flush()
    except OSError as exc:
        raise _disk_error(exc, str(target)) from None
    finally:
        try:
            raw.close()
        except OSError:
            pass


def _is_terminal(stream: IO[bytes]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


@contextmanager
def _on_terminal(raw: IO[bytes]) -> Iterator[IO[bytes]]:
    """Recorded content bound for a terminal gets its control characters shown, never obeyed."""
    from agentlog.textsafe import TerminalStream

    shown = TerminalStream(raw)
    yield cast(IO[bytes], shown)  # only write/flush are used on an output stream
    shown.finish()


class InputFile:
    """An opened export: the (gunzipped) byte stream, and how far into the file it has read."""

    def __init__(
        self, stream: IO[bytes], raw: IO[bytes], size: int | None, name: str | None
    ) -> None:
        self.stream = stream
        self._raw = raw
        self.size = size
        self.name = name

    def position(self) -> int:
        try:
            return self._raw.tell()
        except (OSError, ValueError):
            return 0


@contextmanager
def open_input(path: str | Path | None) -> Iterator[InputFile]:
    """Open `path` (`-`/None = stdin) for reading, gunzipped when it starts with gzip magic."""
    size: int | None = None
    if is_stdio(path):
        raw: IO[bytes] = io.BufferedReader(sys.stdin.buffer, _BUFFER)  # type: ignore[type-var]  # typeshed: BinaryIO is no RawIOBase
        close = False
    else:
        p = Path(path)  # type: ignore[arg-type]
        if p.is_dir():
            raise UsageError(f"{p} is a directory; give the export file to read")
        try:
            raw = open(p, "rb", buffering=_BUFFER)  # noqa: SIM115 - closed below
            size = os.fstat(raw.fileno()).st_size
        except FileNotFoundError:
            raise UsageError(f"no such file: {p}") from None
        except OSError as exc:
            raise UsageError(f"cannot read {p}: {exc.strerror or exc}") from None
        close = True
    try:
        head = raw.peek(2)[:2] if hasattr(raw, "peek") else b""
        if head == GZIP_MAGIC:
            # Small reads: a truncated gzip loses only the last read's worth of records.
            stream: IO[bytes] = io.BufferedReader(gzip.GzipFile(fileobj=raw, mode="rb"), 1 << 16)
        else:
            stream = raw
        yield InputFile(stream, raw, size, None if is_stdio(path) else str(path))
    finally:
        if close:
            raw.close()


__all__ = [
    "GZIP_MAGIC",
    "InputFile",
    "format_from_name",
    "is_gzip_name",
    "is_stdio",
    "open_input",
    "open_output",
]
