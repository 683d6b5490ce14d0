"""The HTTP proxy's relay path: asyncio protocols that pass each request and answer through.

Callbacks on the event loop, not a task per connection: a byte that arrives is parsed
just enough (`http_wire`), written on and handed to the recorder in the same callback.
With streams and a task per connection the loop ran ~17 passes a tool call, with callbacks
~10 (a tool call is one short-lived client connection: MCP clients close after each answer).
"""

from __future__ import annotations

import asyncio
import socket
import time
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from agentlog.mcp.frames import CLIENT_TO_SERVER, SERVER_TO_CLIENT
from agentlog.mcp.framing import BodyFramer, Framer, SseFramer
from agentlog.mcp.http_accept import SocketTransport
from agentlog.mcp.http_wire import HEAD_END, MAX_HEAD_BYTES, Chunked, Head, WireError, parse_head

if TYPE_CHECKING:
    from agentlog.mcp.http_proxy import HttpProxy
    from agentlog.mcp.recorder import Recorder

SESSION_HEADER = b"mcp-session-id"
MAX_BODY_BYTES = 64 * 1024 * 1024
IDEMPOTENT = frozenset({b"GET", b"HEAD", b"OPTIONS", b"DELETE", b"PUT"})
NO_BODY_STATUS = frozenset({204, 304})
# A client that hangs up mid-answer: the upstream connection gets this long to finish the answer
# (then it is kept for the next request) before it is cut, which the server sees as its client
# going away. MCP clients close a POST's connection as soon as they have the JSON-RPC response,
# often before the SSE stream's last chunk: without the grace that cost a new connection a call.
HANGUP_GRACE = 0.25
PIPELINED_BYTES = 1024 * 1024

# Why upstream connections are reused only with TCP_QUICKACK (measured; see bench/RESULTS.md):
# a server that writes an answer's head and body in separate small sends without TCP_NODELAY
# (asyncio skips it on sockets accepted from a listener made with `socket.socket()`, whose proto
# is 0 — uvicorn serving such a socket, as the test server does) holds the body back under Nagle
# until the head is ACKed, while the proxy, which has nothing to send, delays that ACK: 40 ms a
# call. A new connection escapes only because Linux starts connections in quick-ACK mode. So the
# proxy asks for quick ACKs on every upstream read, and where the option does not exist it opens
# a connection per request instead of keeping them.
QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)


class ClientTransport(Protocol):
    """What the relay needs of a client connection (asyncio's transport or `http_accept`'s)."""

    def write(self, data: bytes) -> None: ...
    def close(self) -> None: ...
    def abort(self) -> None: ...
    def pause_reading(self) -> None: ...
    def resume_reading(self) -> None: ...
    def is_closing(self) -> bool: ...
    def get_extra_info(self, name: str, default: Any = None) -> Any: ...


def nodelay(transport: Any) -> Any:
    """TCP_NODELAY on the transport's socket (asyncio skips it for a proto-0 listener's sockets)."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def plain(status: int, text: str) -> bytes:
    """A short text answer that closes the connection (for requests the proxy refuses)."""
    reason = {400: "Bad Request", 413: "Content Too Large"}.get(status, "Error")
    body = text.encode() + b"\n"
    return (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body


class UpstreamConn(asyncio.Protocol):
    """One connection to the MCP server, busy with an exchange or idle in the pool."""

    def __init__(self, every: set[UpstreamConn]) -> None:
        self.every = every  # the proxy's open upstream connections, this one among them
        every.add(self)
        self.transport: asyncio.Transport | None = None
        self.sock: Any = None
        self.exchange: Exchange | None = None
        self.closed = False
        self.reused = False
        self.idle_since = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.sock = nodelay(transport)

    def quickack(self) -> None:
        """ACK what arrives at once (Linux drops back to delayed ACKs by itself, so re-armed)."""
        if QUICKACK is not None and self.sock is not None:
            try:
                self.sock.setsockopt(socket.IPPROTO_TCP, QUICKACK, 1)
            except OSError:
                pass

    def data_received(self, data: bytes) -> None:
        if self.exchange is not None:
            self.exchange.upstream_data(data)
        else:  # bytes nobody asked for: the connection cannot be trusted with a request
            self.abort()

    def eof_received(self) -> bool:
        return False  # the transport closes; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.every.discard(self)
        if self.exchange is not None:
            self.exchange.upstream_lost(exc)

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()


class ClientConn(asyncio.Protocol):
    """One client connection: reads requests one at a time and runs an Exchange for each."""

    def __init__(self, proxy: HttpProxy) -> None:
        self.proxy = proxy
        self.transport: ClientTransport | None = None
        self.buf = b""
        self.head: Head | None = None  # a request whose body is still coming
        self.at = 0.0
        self.chunks: Chunked | None = None
        self.parts: list[bytes] = []
        self.exchange: Exchange | None = None
        self.gone = False
        self.paused = False

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        if not isinstance(transport, SocketTransport):  # whose sockets have it already
            nodelay(transport)
        self.proxy.clients.add(self)

    def data_received(self, data: bytes) -> None:
        self.buf = self.buf + data if self.buf else data
        if self.exchange is None:
            self._advance()
        elif len(self.buf) > PIPELINED_BYTES and self.transport is not None:
            self.paused = True  # requests sent ahead of their answers: wait for the answer
            self.transport.pause_reading()

    def eof_received(self) -> bool:
        # A client's end of stream counts as its going away (as uvicorn and nginx take it).
        self._hang_up()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.proxy.clients.discard(self)
        self._hang_up()

    def _hang_up(self) -> None:
        if not self.gone:
            self.gone = True
            if self.exchange is not None:
                self.exchange.client_gone()

    def pause_writing(self) -> None:  # a slow client: stop reading the server until it catches up
        if self.exchange is not None:
            self.exchange.pause(True)

    def resume_writing(self) -> None:
        if self.exchange is not None:
            self.exchange.pause(False)

    def refuse(self, status: int, text: str) -> None:
        assert self.transport is not None
        self.transport.write(plain(status, text))
        self.transport.close()
        self.gone = True

    def _advance(self) -> None:
        """Start the next request whose head and body have arrived (one exchange at a time)."""
        while self.exchange is None and not self.gone:
            if self.head is None and not self._take_head():
                return
            body = self._take_body()
            if body is None:
                return
            head, self.head = self.head, None
            assert head is not None
            self.exchange = Exchange(self.proxy, self, head, body, self.at)
            self.exchange.start()

    def _take_head(self) -> bool:
        buf = self.buf
        if buf.startswith(b"\r\n"):  # blank lines before a request are to be ignored (RFC 9112)
            buf = self.buf = buf.lstrip(b"\r\n")
        end = buf.find(HEAD_END)
        if end < 0:
            if len(buf) > MAX_HEAD_BYTES:
                self.refuse(400, f"agentlog mcp proxy: a request head over {MAX_HEAD_BYTES} bytes")
            return False
        self.at = time.time()
        try:
            head = parse_head(buf[:end], request=True)
        except WireError as exc:
            self.refuse(400, f"agentlog mcp proxy: a bad request: {exc}")
            return False
        self.buf = buf[end + 4 :]
        self.head = head
        if head.chunked:
            self.chunks, self.parts = Chunked(), []
        if (head.get(b"expect") or b"").lower() == b"100-continue":
            assert self.transport is not None
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        if (head.length or 0) > MAX_BODY_BYTES:
            self.refuse(413, f"agentlog mcp proxy: body over {MAX_BODY_BYTES} bytes")
            return False
        return True

    def _take_body(self) -> bytes | None:
        """The whole body once it is here (an MCP request is one message), else None."""
        head = self.head
        assert head is not None
        if self.chunks is not None:
            try:
                payload, used = self.chunks.feed(self.buf)
            except WireError as exc:
                self.refuse(400, f"agentlog mcp proxy: a bad request body: {exc}")
                return None
            self.parts.append(payload)
            self.buf = self.buf[used:]
            if self.chunks.size > MAX_BODY_BYTES:
                self.refuse(413, f"agentlog mcp proxy: body over {MAX_BODY_BYTES} bytes")
                return None
            if not self.chunks.done:
                return None
            body, self.chunks, self.parts = b"".join(self.parts), None, []
            return body
        length = head.length or 0
        if len(self.buf) < length:
            return None
        body, self.buf = self.buf[:length], self.buf[length:]
        return body

    def finished(self, keep: bool) -> None:
        """The exchange is over; read the next request, or close."""
        self.exchange = None
        if self.transport is None:
            return
        if not keep or self.gone:
            self.transport.close()
            return
        if self.paused:
            self.paused = False
            self.transport.resume_reading()
        if self.buf:
            self._advance()


class Exchange:
    """One request and its answer: sent upstream, the answer passed back as it arrives."""

    def __init__(self, proxy: HttpProxy, client: ClientConn, head: Head, body: bytes, at: float):
        self.proxy = proxy
        self.client = client
        self.head = head
        self.body = body
        self.at = at
        self.conn: UpstreamConn | None = None
        self.attempts = 0
        self.buf = b""  # the answer's head, until it is whole
        self.answer: Head | None = None
        self.framer: Framer | None = None
        self.chunked: Chunked | None = None
        self.left = -1  # body bytes still to come (-1: up to the server's close)
        self.reusable = False
        self.cut: asyncio.TimerHandle | None = None
        self.over = False
        self.paused = False
        session = (head.get(SESSION_HEADER) or b"").decode("latin-1")
        self.session = session
        # With a session already named the request is recorded as it is sent (so a call the
        # server never answers is still seen); an initialize when its answer names the session.
        self.rec: Recorder | None = proxy.recorder(session) if session else None
        self.record_body = head.first == b"POST" and bool(body.strip())
        self.recorded = False

    # ------------------------------------------------------------ sending
    def start(self) -> None:
        self.data = self.proxy.request_bytes(self.head, self.body)
        conn = self.proxy.pooled()
        if conn is not None:
            self._send(conn)
        else:
            self.proxy.spawn(self._connect())

    async def _connect(self) -> None:
        try:
            conn = await self.proxy.connect()
        except Exception as exc:
            self._unreachable(exc, sent=False)
            return
        if self.client.gone:
            self.proxy.release(conn)
            self._finish(False)
            return
        self._send(conn)

    def _send(self, conn: UpstreamConn) -> None:
        self.attempts += 1
        self.conn = conn
        conn.exchange = self
        assert conn.transport is not None
        conn.transport.write(self.data)
        conn.quickack()
        if self.rec is not None and self.record_body and not self.recorded:
            self.recorded = True
            self.proxy.hold.message(self.rec, CLIENT_TO_SERVER, self.body, self.at)

    # ------------------------------------------------------------ the answer
    def upstream_data(self, data: bytes) -> None:
        if self.answer is not None:
            self._body(data, b"")
            return
        buf = self.buf = self.buf + data if self.buf else data
        while True:
            end = buf.find(HEAD_END)
            if end < 0:
                self.buf = buf
                if len(buf) > MAX_HEAD_BYTES:
                    self._no_answer(WireError(f"an answer head over {MAX_HEAD_BYTES} bytes"))
                return
            try:
                answer = parse_head(buf[:end], request=False)
            except WireError as exc:
                self._no_answer(exc)
                return
            raw, buf = buf[: end + 4], buf[end + 4 :]
            if answer.status >= 200:
                break
            if answer.status == 101:
                self._no_answer(
                    WireError("the server switched protocols, which the proxy cannot relay")
                )
                return
            self._to_client(raw)  # 100 Continue, 103 Early Hints: pass on, read on
        self.buf = b""
        self._begin(answer)
        self._body(buf, raw)

    def _begin(self, answer: Head) -> None:
        self.answer = answer
        if self.rec is None:
            # The answer to an initialize names the session; its request is recorded there too.
            self.session = (answer.get(SESSION_HEADER) or b"").decode("latin-1")
            self.rec = self.proxy.recorder(self.session)
            if self.record_body and not self.recorded:
                self.recorded = True
                self.proxy.hold.message(self.rec, CLIENT_TO_SERVER, self.body, self.at)
        kind = (answer.get(b"content-type") or b"").split(b";")[0].strip().lower()
        if kind == b"text/event-stream":
            self.framer = SseFramer()
        elif kind == b"application/json":
            self.framer = BodyFramer()
        if self.head.first == b"HEAD" or answer.status in NO_BODY_STATUS:
            self.left = 0
        elif answer.chunked:
            self.chunked = Chunked()
        elif answer.length is not None:
            self.left = answer.length
        self.reusable = not answer.close and (self.left != -1 or self.chunked is not None)

    def _body(self, data: bytes, head: bytes) -> None:
        payload = data
        if data:
            try:
                if self.chunked is not None:
                    payload, used = self.chunked.feed(data)
                    if used < len(data):  # bytes past the end of the answer
                        self.reusable, data = False, data[:used]
                elif self.left >= 0:
                    if len(data) > self.left:
                        self.reusable, data = False, data[: self.left]
                    self.left -= len(data)
                    payload = data
            except WireError as exc:
                self._to_client(head)
                self._broke(f"the server's answer broke HTTP/1.1 framing: {exc}")
                return
        self._to_client(head + data if head else data)
        if payload and self.framer is not None:
            assert self.rec is not None
            self.proxy.hold.stream(self.rec, SERVER_TO_CLIENT, self.framer, payload, time.time())
        if self.chunked.done if self.chunked is not None else self.left == 0:
            self._done(True)
        elif self.conn is not None:
            self.conn.quickack()

    def _to_client(self, data: bytes) -> None:
        if data and not self.client.gone and self.client.transport is not None:
            self.client.transport.write(data)

    def upstream_lost(self, exc: Exception | None) -> None:
        if self.over:
            return
        if self.answer is None:
            self._no_answer(exc or ConnectionError("the server closed the connection"))
        elif self.left == -1 and self.chunked is None:
            self._done(True)  # a body that runs to the close: over
        elif self.client.gone:
            self._done(False)
        else:
            self._broke(f"the server closed the connection mid-answer ({exc!r})")

    # ------------------------------------------------------------ the client
    def client_gone(self) -> None:
        if self.conn is not None and self.cut is None and not self.over:
            self.cut = asyncio.get_running_loop().call_later(HANGUP_GRACE, self._give_up)

    def _give_up(self) -> None:
        if not self.over and self.conn is not None:
            self.conn.abort()  # the server sees its client go, as without the proxy

    def pause(self, on: bool) -> None:
        """Stop (or resume) reading the server while the client's buffer is full."""
        conn = self.conn
        if conn is not None and conn.transport is not None and not conn.closed:
            self.paused = on
            if on:
                conn.transport.pause_reading()
            else:
                conn.transport.resume_reading()

    # ------------------------------------------------------------ endings
    def _no_answer(self, exc: BaseException) -> None:
        """The connection failed before a whole answer head: retry if safe, else answer 502."""
        conn = self.conn
        self.conn = None
        if conn is not None:
            conn.exchange = None
            conn.abort()
        if self.client.gone:
            self._finish(False)
            return
        # A reused connection the server had closed: resend only what is safe to repeat.
        if (
            conn is not None
            and conn.reused
            and self.attempts == 1
            and not self.buf
            and self.head.first in IDEMPOTENT
            and not isinstance(exc, WireError)
        ):
            self.proxy.spawn(self._connect())
            return
        self._unreachable(exc, sent=True)

    def _unreachable(self, exc: BaseException, *, sent: bool) -> None:
        """Answer 502 with a JSON-RPC error the client can show; record the failure."""
        target = self.proxy.origin + self.head.second.decode("latin-1")
        rec = self.rec = self.rec or self.proxy.recorder(self.session)
        if self.record_body and not self.recorded:
            self.recorded = True
            self.proxy.hold.message(rec, CLIENT_TO_SERVER, self.body, self.at)
        what = "got no answer from" if sent else "could not reach"
        rec.handle.error(f"{what} the MCP server at {target}: {exc!r}")
        try:
            message = orjson.loads(self.body) if self.body.strip() else None
            ident = message.get("id") if isinstance(message, dict) else None
        except orjson.JSONDecodeError:
            ident = None
        reason = str(exc) or type(exc).__name__
        error = {
            "jsonrpc": "2.0",
            "id": ident,
            "error": {
                "code": -32000,
                "message": f"agentlog mcp proxy: {what} the MCP server at {target}: {reason}",
            },
        }
        payload = orjson.dumps(error)
        self._to_client(
            b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: application/json\r\nContent-Length: "
            + str(len(payload)).encode()
            + b"\r\n\r\n"
            + payload
        )
        self._finish(True)

    def _broke(self, why: str) -> None:
        """The server's answer broke off: the client's connection is closed where it broke, so
        its HTTP client sees a body shorter than its framing promised, never a whole answer."""
        assert self.rec is not None
        self.rec.handle.error(f"the MCP server's response stream broke: {why}")
        self._done(False)

    def _done(self, complete: bool) -> None:
        if self.over:
            return
        self.over = True
        if self.cut is not None:
            self.cut.cancel()
        if self.framer is not None:
            assert self.rec is not None
            self.proxy.hold.stream(self.rec, SERVER_TO_CLIENT, self.framer, None, time.time())
        if self.paused:
            self.pause(False)  # a kept connection must read its next answer
        conn, self.conn = self.conn, None
        if conn is not None:
            conn.exchange = None
            if complete and self.reusable:
                self.proxy.release(conn)
            else:
                conn.abort()
        answer = self.answer
        keep = (
            complete
            and answer is not None
            and not answer.close
            and (self.left != -1 or self.chunked is not None)
        )
        self._finish(keep)

    def _finish(self, keep: bool) -> None:
        self.over = True
        if self.rec is not None:
            self.proxy.hold.release(self.rec)
        self.client.finished(keep and not self.head.close)
