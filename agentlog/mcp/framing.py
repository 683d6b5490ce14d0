"""Framing layers: how a byte stream splits into JSON-RPC messages (stdio lines today; pluggable)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from agentlog.mcp.frames import MAX_FRAME_BYTES
from agentlog.model import MAX_CONTENT_BYTES


@dataclass(slots=True)
class Piece:
    """One framed message, or the kept start of one the framing refused (`problem` says why)."""

    data: bytes
    problem: str | None = None


class Framer(Protocol):
    """Splits one direction's bytes into messages; `feed` as bytes arrive, `end` at end of stream."""

    def feed(self, chunk: bytes) -> list[Piece]: ...

    def end(self) -> list[Piece]: ...


@dataclass
class LineFramer:
    """The stdio transport: one UTF-8 JSON message per line, no headers.

    A line longer than `limit` is not buffered whole: its first bytes are kept
    (for the ERROR event) and the rest skipped up to the next newline, so a
    hostile peer cannot grow the recorder's memory or desynchronise it.
    """

    limit: int = MAX_FRAME_BYTES
    _buf: bytearray = field(default_factory=bytearray)
    _skipping: int = 0  # bytes of an oversized line skipped so far (0: not skipping)
    _head: bytes = b""

    def feed(self, chunk: bytes) -> list[Piece]:
        out: list[Piece] = []
        start = 0
        while True:
            nl = chunk.find(b"\n", start)
            if nl < 0:
                self._take(chunk[start:], out)
                return out
            self._take(chunk[start:nl], out)
            self._line_end(out)
            start = nl + 1

    def end(self) -> list[Piece]:
        out: list[Piece] = []
        if self._skipping:
            self._line_end(out)
        elif self._buf.strip():
            out.append(
                Piece(bytes(self._buf), "the stream ended inside a message (truncated frame)")
            )
        self._buf.clear()
        return out

    def _take(self, part: bytes, out: list[Piece]) -> None:
        if self._skipping:
            self._skipping += len(part)
            return
        self._buf += part
        if len(self._buf) > self.limit:
            self._head = bytes(self._buf[:MAX_CONTENT_BYTES])
            self._skipping = len(self._buf)
            self._buf.clear()

    def _line_end(self, out: list[Piece]) -> None:
        if self._skipping:
            problem = f"a line of over {self._skipping} bytes is over the {self.limit} byte limit"
            out.append(Piece(self._head, problem))
            self._skipping, self._head = 0, b""
            return
        line = bytes(self._buf)
        self._buf.clear()
        if line.endswith(b"\r"):
            line = line[:-1]
        if line.strip():
            out.append(Piece(line))


@dataclass
class SseFramer:
    """Server-sent events (Streamable HTTP): each event's `data` lines, joined, are one message.

    Events without data (a priming event carrying only an `id`, a `retry`, a
    comment) are not messages. An event over `limit` bytes keeps its start and
    becomes a refused piece, like an oversized stdio line.
    """

    limit: int = MAX_FRAME_BYTES
    _buf: bytearray = field(default_factory=bytearray)
    _data: list[bytes] = field(default_factory=list)
    _size: int = 0
    _over: bool = False
    _skipping: bool = False

    def feed(self, chunk: bytes) -> list[Piece]:
        out: list[Piece] = []
        if self._skipping:  # the rest of an endless line: drop it up to its newline
            nl = chunk.find(b"\n")
            if nl < 0:
                return out
            chunk, self._skipping = chunk[nl + 1 :], False
        self._buf += chunk
        while True:
            nl = self._buf.find(b"\n")
            if nl < 0:
                break
            line = bytes(self._buf[:nl])
            del self._buf[: nl + 1]
            self._line(line[:-1] if line.endswith(b"\r") else line, out)
        if len(self._buf) > self.limit:  # one endless line: keep its start, skip the rest
            if not self._over:
                self._over = True
                self._data.append(bytes(self._buf[:MAX_CONTENT_BYTES]))
            self._buf.clear()
            self._skipping = True
        return out

    def end(self) -> list[Piece]:
        out: list[Piece] = []
        if self._buf:
            self._line(bytes(self._buf), out)
            self._buf.clear()
        self._skipping = False
        self._dispatch(out)
        return out

    def _line(self, line: bytes, out: list[Piece]) -> None:
        if not line:
            self._dispatch(out)
            return
        if line.startswith(b"data"):
            field_name, _, value = line.partition(b":")
            if field_name != b"data":
                return
            value = value[1:] if value.startswith(b" ") else value
            self._size += len(value) + 1
            if self._size > self.limit:
                if not self._over:
                    self._over = True
                    self._data.append(value[:MAX_CONTENT_BYTES])
                return
            self._data.append(value)

    def _dispatch(self, out: list[Piece]) -> None:
        if self._data:
            data = b"\n".join(self._data)
            if self._over:
                out.append(Piece(data, f"an SSE event over the {self.limit} byte limit"))
            elif data.strip():
                out.append(Piece(data))
        self._data, self._size, self._over = [], 0, False


@dataclass
class BodyFramer:
    """A whole HTTP body is one message (an `application/json` answer or request).

    Over `limit` bytes only its start is kept, and it becomes a refused piece.
    """

    limit: int = MAX_FRAME_BYTES
    _buf: bytearray = field(default_factory=bytearray)
    _size: int = 0

    def feed(self, chunk: bytes) -> list[Piece]:
        self._size += len(chunk)
        if len(self._buf) < self.limit:
            self._buf += chunk
        return []

    def end(self) -> list[Piece]:
        data, self._buf = bytes(self._buf), bytearray()
        size, self._size = self._size, 0
        if size > self.limit:
            return [Piece(data[:MAX_CONTENT_BYTES], f"a body over the {self.limit} byte limit")]
        return [Piece(data)] if data.strip() else []
