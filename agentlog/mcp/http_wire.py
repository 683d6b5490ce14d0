"""HTTP/1.1 for the MCP proxy's relay path: message heads and body framing, parsed by hand, no I/O.

h11 (what uvicorn and httpx run on) spent ~250 µs of Python per proxied request and answer
on these cores (parsing, validating and re-serialising both heads); this reads only what a
relay must know — the request line, the headers, where each body ends — in ~5 µs, and the
relay passes every byte it need not change through untouched. It is strict where laxness
would let a request be read two ways (conflicting lengths, odd chunk sizes, folded headers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_HEAD_BYTES = 64 * 1024
MAX_LINE_BYTES = 4096  # a chunk-size line or one trailer line
HEAD_END = b"\r\n\r\n"

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")
_STATUS = re.compile(rb"HTTP/1\.[01] [0-9]{3}(?: [^\r\n]*)?")
_VERSIONS = (b"HTTP/1.1", b"HTTP/1.0")


class WireError(Exception):
    """The peer broke HTTP/1.1 framing; the message says how."""


@dataclass(slots=True)
class Head:
    """One request or response head: its start line's three parts and headers as sent."""

    first: bytes  # the method, or the response's HTTP version
    second: bytes  # the request target, or the status code
    third: bytes  # the request's HTTP version, or the reason phrase
    headers: list[tuple[bytes, bytes]]  # names as sent; values without surrounding blanks
    length: int | None = None  # Content-Length
    chunked: bool = False  # Transfer-Encoding ends in chunked
    coded: bool = False  # some other Transfer-Encoding (a response's body then runs to close)
    close: bool = False  # the sender closes the connection after this message

    def get(self, name: bytes) -> bytes | None:
        """The first value of header `name` (lower case), if any."""
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None

    @property
    def status(self) -> int:
        return int(self.second)


def parse_head(raw: bytes, *, request: bool) -> Head:
    """A head up to (not including) its blank line; raises WireError for anything ambiguous."""
    lines = raw.split(b"\r\n")
    start = lines[0]
    if request:
        parts = start.split(b" ")
        if len(parts) != 3 or not _TOKEN.fullmatch(parts[0]) or not parts[1]:
            raise WireError(f"a malformed request line: {start[:100]!r}")
        if parts[2] not in _VERSIONS:
            raise WireError(f"not HTTP/1.x: {parts[2][:20]!r}")
        head = Head(parts[0], parts[1], parts[2], [])
        version = parts[2]
    else:
        if not _STATUS.fullmatch(start):
            raise WireError(f"a malformed status line: {start[:100]!r}")
        version, status, *reason = start.split(b" ", 2)
        head = Head(version, status, reason[0] if reason else b"", [])
    headers = head.headers
    length: bytes | None = None
    codings: list[bytes] = []
    connection: list[bytes] = []
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep or not _TOKEN.fullmatch(name):  # also a folded (obs-fold) line
            raise WireError(f"a malformed header line: {line[:100]!r}")
        value = value.strip(b" \t")
        if b"\r" in value or b"\n" in value or b"\x00" in value:
            raise WireError(f"a control character in header {name[:100]!r}")
        headers.append((name, value))
        key = name.lower()
        if key == b"content-length":
            # "42, 42" (a repeated header folded by an intermediary) is one length; 42 and 43 are two.
            for item in value.split(b","):
                item = item.strip(b" \t")
                if not item.isdigit() or len(item) > 18 or (length is not None and item != length):
                    raise WireError(f"a bad or conflicting Content-Length: {value[:40]!r}")
                length = item
        elif key == b"transfer-encoding":
            codings += [c.strip(b" \t").lower() for c in value.split(b",")]
        elif key == b"connection":
            connection += [c.strip(b" \t").lower() for c in value.split(b",")]
    if codings:
        if length is not None:
            raise WireError(
                "both Transfer-Encoding and Content-Length (the body could be read two ways)"
            )
        if codings[-1] == b"chunked" and codings.count(b"chunked") == 1:
            head.chunked = True
        elif request:
            raise WireError(f"a request Transfer-Encoding other than chunked: {codings!r}")
        else:
            head.coded = True
        if version != b"HTTP/1.1":
            raise WireError("Transfer-Encoding in an HTTP/1.0 message")
    elif length is not None:
        head.length = int(length)
    head.close = b"close" in connection or (
        version == b"HTTP/1.0" and b"keep-alive" not in connection
    )
    return head


class Chunked:
    """Where a chunked body ends, found as its raw bytes pass; `feed` answers payload and bytes used.

    The relay forwards the raw bytes (chunk framing and all); this only follows the
    framing, so the relay knows when the message is over and the recorder gets the payload.
    """

    __slots__ = ("_left", "_line", "_state", "done", "size")

    _SIZE, _DATA, _DATA_END, _TRAILER = range(4)

    def __init__(self) -> None:
        self._state = self._SIZE
        self._left = 0
        self._line = b""
        self.done = False
        self.size = 0  # payload bytes so far

    def feed(self, data: bytes) -> tuple[bytes, int]:
        """The payload in `data` and how many of its bytes belong to this body (the rest do not)."""
        pos, end = 0, len(data)
        out: list[bytes] = []
        while pos < end and not self.done:
            state = self._state
            if state == self._DATA:
                take = min(self._left, end - pos)
                out.append(data[pos : pos + take])
                pos += take
                self._left -= take
                if not self._left:
                    self._state, self._left = self._DATA_END, 2
            elif state == self._DATA_END:
                take = min(self._left, end - pos)
                if data[pos : pos + take] != b"\r\n"[2 - self._left : 2 - self._left + take]:
                    raise WireError("a chunk's data is not followed by CRLF")
                pos += take
                self._left -= take
                if not self._left:
                    self._state = self._SIZE
            else:
                nl = data.find(b"\n", pos)
                if nl < 0:
                    self._line += data[pos:]
                    pos = end
                    if len(self._line) > MAX_LINE_BYTES:
                        raise WireError("a chunk-size or trailer line over 4 KiB")
                    break
                line, self._line = self._line + data[pos:nl], b""
                pos = nl + 1
                if not line.endswith(b"\r") or len(line) > MAX_LINE_BYTES:
                    raise WireError(f"a malformed chunk line: {line[:40]!r}")
                line = line[:-1]
                if state == self._SIZE:
                    size = line.split(b";", 1)[0].rstrip(b" \t")
                    if not _HEX.fullmatch(size):
                        raise WireError(f"a malformed chunk size: {size[:40]!r}")
                    self._left = int(size, 16)
                    self.size += self._left
                    self._state = self._DATA if self._left else self._TRAILER
                elif not line:  # the blank line after the last chunk (and any trailers)
                    self.done = True
        return b"".join(out) if len(out) != 1 else out[0], pos
