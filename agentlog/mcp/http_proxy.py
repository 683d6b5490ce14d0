"""`agentlog mcp proxy --upstream URL`: a recording reverse proxy for MCP's Streamable HTTP transport.

The relay is plain asyncio over sockets with TCP_NODELAY on both sides; `http_wire`
reads just enough HTTP/1.1 to know where each message ends. Responses pass through
byte for byte (status line, every header, chunk framing, each SSE chunk as it
arrives); requests keep their method, target, body and end-to-end headers
(`Mcp-Session-Id`, `Mcp-Method` / `Mcp-Name`, `MCP-Protocol-Version`, ...), with
only hop-by-hop headers replaced and an unencoded answer asked for, so the copy
can be read. Upstream connections are kept alive and reused.

A POST body is one message (or a batch); a JSON answer is one message; an SSE
stream (POST answer or GET stream) is split into its events, each `data` field one
message. Each MCP session (its `Mcp-Session-Id`) is one AgentLog session;
stateless-era traffic without the header shares one session per proxy run. The
relay hands copies of the bytes to each session's `Recorder` thread, which frames,
maps and records them off the relay path.
"""

from __future__ import annotations

import asyncio
import base64
import signal
import socket
import ssl
import sys
import threading
import time
from typing import Any
from urllib.parse import unquote, urlsplit

import orjson

from agentlog.errors import UsageError
from agentlog.mcp.frames import CLIENT_TO_SERVER, SERVER_TO_CLIENT
from agentlog.mcp.framing import BodyFramer, Framer, SseFramer
from agentlog.mcp.http_wire import HEAD_END, MAX_HEAD_BYTES, Chunked, Head, WireError, parse_head
from agentlog.mcp.mapping import McpMapper
from agentlog.mcp.recorder import Recorder

# Request headers that describe one hop, not the message: the proxy writes its own.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"host",
        b"content-length",
        b"accept-encoding",
        b"expect",
    }
)
SESSION_HEADER = b"mcp-session-id"
MAX_BODY_BYTES = 64 * 1024 * 1024
READ_BYTES = 256 * 1024
CONNECT_TIMEOUT = 30.0
# An idle upstream connection is reused for this long. Servers close idle keep-alive
# connections after their own timeout (uvicorn and hypercorn 5 s, Node 5 s, nginx 75 s);
# staying under the common ones keeps a request from racing the server's close.
IDLE_SECONDS = 4.0
MAX_IDLE = 16
# A client that hangs up mid-answer: the upstream connection gets this long to finish the answer
# (then it is kept for the next request) before it is cut, which the server sees as its client
# going away. MCP clients close a POST's connection as soon as they have the JSON-RPC response,
# often before the SSE stream's last chunk: without the grace that cost a new connection a call.
HANGUP_GRACE = 0.25
HIGH_WATER = 1024 * 1024  # bytes buffered towards a slow reader before the relay waits for it
IDEMPOTENT = frozenset({b"GET", b"HEAD", b"OPTIONS", b"DELETE", b"PUT"})
NO_BODY_STATUS = frozenset({204, 304})


def check_upstream(url: str) -> str:
    """The upstream URL, or a one-line UsageError saying what a good one looks like."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"--upstream must be an http(s) URL of an MCP endpoint, e.g. https://host/mcp (got {url!r})"
        )
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError:
        raise UsageError(f"--upstream has a bad port: {url!r}") from None
    return url.rstrip("/") if parts.path not in ("", "/") else url


def upstream_ssl_context() -> ssl.SSLContext:
    """Verify HTTPS upstreams against the system's CAs (SSL_CERT_FILE honoured) and certifi's."""
    context = ssl.create_default_context()
    try:
        import certifi

        context.load_verify_locations(certifi.where())
    except (ImportError, OSError):  # the system store alone
        pass
    context.set_alpn_protocols(["http/1.1"])
    return context


# Why upstream connections can be reused only with TCP_QUICKACK (measured; see bench/RESULTS.md):
# a server that writes an answer's head and body in separate small sends without TCP_NODELAY
# (asyncio skips it on sockets accepted from a listener made with `socket.socket()`, whose proto
# is 0 — uvicorn serving such a socket, as the test server does) holds the body back under Nagle
# until the head is ACKed, while the proxy, which has nothing to send, delays that ACK: 40 ms a
# call. A new connection escapes only because Linux starts connections in quick-ACK mode. So the
# proxy asks for quick ACKs on every upstream read, and where the option does not exist it opens
# a connection per request instead of keeping them.
QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)


class _Upstream:
    """One connection to the MCP server, busy or idle in the pool."""

    __slots__ = ("idle_since", "reader", "reused", "sock", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.sock: socket.socket | None = writer.get_extra_info("socket")
        self.idle_since = 0.0
        self.reused = False

    def quickack(self) -> None:
        """ACK what arrives at once (Linux drops back to delayed ACKs by itself, so re-armed)."""
        if QUICKACK is not None and self.sock is not None:
            try:
                self.sock.setsockopt(socket.IPPROTO_TCP, QUICKACK, 1)
            except OSError:
                pass

    def usable(self, now: float) -> bool:
        return (
            now - self.idle_since < IDLE_SECONDS
            and not self.reader.at_eof()
            and not self.writer.transport.is_closing()
        )

    def abort(self) -> None:
        self.writer.transport.abort()


class _ClientSide(asyncio.StreamReaderProtocol):
    """A client connection; tells the relay at once when the client hangs up mid-answer."""

    def __init__(self, proxy: HttpProxy, loop: asyncio.AbstractEventLoop) -> None:
        self.reader = asyncio.StreamReader(limit=MAX_HEAD_BYTES, loop=loop)
        super().__init__(self.reader, self._connected, loop=loop)
        self.proxy = proxy
        self.loop = loop
        self.gone = False
        self.on_gone: _Upstream | None = None  # the upstream connection to drop if the client goes
        self._cut: asyncio.TimerHandle | None = None

    def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Any:
        return self.proxy._serve(reader, writer, self)

    def _hang_up(self) -> None:
        if self.gone:
            return
        self.gone = True
        conn = self.on_gone
        if conn is not None:
            self._cut = self.loop.call_later(HANGUP_GRACE, self._give_up, conn)

    def _give_up(self, conn: _Upstream) -> None:
        if self.on_gone is conn:  # still mid-answer: the server sees its client go
            conn.abort()

    def settle(self) -> None:
        """The relay is done with this client's current upstream connection."""
        self.on_gone = None
        if self._cut is not None:
            self._cut.cancel()
            self._cut = None

    def eof_received(self) -> bool:
        self._hang_up()
        return bool(super().eof_received())

    def connection_lost(self, exc: Exception | None) -> None:
        self._hang_up()
        super().connection_lost(exc)


class _Closed(Exception):
    """The peer closed the connection before a whole message arrived."""


async def _read_head(reader: asyncio.StreamReader, buf: bytes) -> tuple[bytes, bytes]:
    """One head (without its blank line) and the bytes read past it; b"" head at a clean EOF."""
    start = 0
    while True:
        end = buf.find(HEAD_END, start)
        if end >= 0:
            return buf[:end], buf[end + 4 :]
        if len(buf) > MAX_HEAD_BYTES:
            raise WireError(f"a head over {MAX_HEAD_BYTES} bytes")
        if buf.startswith(b"\r\n"):  # blank lines before a message are to be ignored (RFC 9112)
            buf = buf.lstrip(b"\r\n")
            start = 0
            continue
        data = await reader.read(READ_BYTES)
        if not data:
            if buf.strip():
                raise _Closed("the connection closed inside a head")
            return b"", b""
        start = max(0, len(buf) - 3)
        buf += data


class HttpProxy:
    """Relays every connection to `upstream` and records the MCP messages it carries."""

    def __init__(
        self,
        upstream: str,
        log: Any,
        *,
        title: str | None = None,
        agent: str | None = None,
        store: Any = None,
        parent_session_id: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.upstream = check_upstream(upstream)
        parts = urlsplit(self.upstream)
        self._path = parts.path or "/"
        self._host = parts.hostname or ""
        self._tls = parts.scheme == "https"
        self._port = parts.port or (443 if self._tls else 80)
        self._ssl = (ssl_context or upstream_ssl_context()) if self._tls else None
        host = f"[{self._host}]" if ":" in self._host else self._host
        netloc = host if parts.port is None else f"{host}:{parts.port}"
        extra = b"Host: " + netloc.encode("idna") + b"\r\n"
        if parts.username is not None:  # credentials in the URL, as an HTTP client would send them
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            self._auth = b"Authorization: Basic " + base64.b64encode(pair) + b"\r\n"
        else:
            self._auth = b""
        self._extra = extra + b"Accept-Encoding: identity\r\n"
        self._origin = f"{parts.scheme}://{netloc}"
        self.log = log
        self.title = title or f"MCP {self.upstream}"
        self.agent = agent
        self.store = store
        self.parent_session_id = parent_session_id  # each MCP session is a child of this one
        self._recorders: dict[str, Recorder] = {}
        self._lock = threading.Lock()
        self._idle: list[_Upstream] = []
        self._clients: set[asyncio.StreamWriter] = set()
        self._busy: set[_Upstream] = set()

    # ------------------------------------------------------------ sessions
    def recorder(self, key: str) -> Recorder:
        """The recorder of one MCP session (made on its first message)."""
        with self._lock:
            rec = self._recorders.get(key)
            if rec is None:
                metadata: dict[str, Any] = {"mcp_upstream": self.upstream}
                if key:
                    metadata["mcp_session_id"] = key
                handle = self.log.session(
                    self.title,
                    tags=["mcp"],
                    agent_id=self.agent,
                    metadata=metadata,
                    parent_session_id=self.parent_session_id,
                )
                rec = Recorder(handle, McpMapper(handle.id, agent_id=self.agent), store=self.store)
                self._recorders[key] = rec
            return rec

    def close(self, reason: str = "the proxy stopped before the server answered") -> None:
        """Record what is queued and end every session."""
        with self._lock:
            recorders = list(self._recorders.values())
            self._recorders.clear()
        for rec in recorders:
            rec.close(reason)
            rec.handle.end("completed")

    # ------------------------------------------------------------ serving
    async def start(self, sock: socket.socket) -> asyncio.AbstractServer:
        """Serve on a bound, listening socket."""
        loop = asyncio.get_running_loop()
        return await loop.create_server(lambda: _ClientSide(self, loop), sock=sock)

    def drop_connections(self) -> None:
        """Cut every client and upstream connection (a stopping proxy; open GET streams too)."""
        for writer in list(self._clients):
            writer.transport.abort()
        for conn in [*self._idle, *self._busy]:
            conn.abort()
        self._idle.clear()

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, side: _ClientSide
    ) -> None:
        _nodelay(writer)
        self._clients.add(writer)
        buf = b""
        try:
            while not side.gone:
                try:
                    raw, buf = await _read_head(reader, buf)
                    if not raw:
                        return
                    at = time.time()
                    head = parse_head(raw, request=True)
                except WireError as exc:
                    writer.write(_plain(400, f"agentlog mcp proxy: a bad request: {exc}"))
                    return
                if (head.get(b"expect") or b"").lower() == b"100-continue":
                    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                try:
                    body, buf = await _read_body(reader, buf, head)
                except _TooBig:
                    writer.write(
                        _plain(413, f"agentlog mcp proxy: body over {MAX_BODY_BYTES} bytes")
                    )
                    return
                except WireError as exc:
                    writer.write(_plain(400, f"agentlog mcp proxy: a bad request body: {exc}"))
                    return
                if not await self._exchange(head, body, at, writer, side) or head.close:
                    return
        except (_Closed, ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away
        finally:
            self._clients.discard(writer)
            writer.transport.close()

    # ------------------------------------------------------------ upstream
    async def _connect(self) -> _Upstream:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(
                self._host,
                self._port,
                ssl=self._ssl,
                server_hostname=self._host if self._ssl else None,
                limit=MAX_HEAD_BYTES,
            ),
            CONNECT_TIMEOUT,
        )
        _nodelay(writer)
        return _Upstream(reader, writer)

    def _pooled(self) -> _Upstream | None:
        now = time.monotonic()
        idle = self._idle
        while idle:
            conn = idle.pop()
            if conn.usable(now):
                conn.reused = True
                return conn
            conn.abort()
        return None

    def _release(self, conn: _Upstream) -> None:
        self._busy.discard(conn)
        if (
            QUICKACK is not None
            and len(self._idle) < MAX_IDLE
            and not conn.writer.transport.is_closing()
        ):
            conn.idle_since = time.monotonic()
            self._idle.append(conn)
        else:
            conn.abort()

    def _request_bytes(self, head: Head, body: bytes) -> bytes:
        target = head.second
        if not target.startswith(b"/") and target != b"*":  # absolute form: keep path and query
            parts = urlsplit(target.decode("latin-1"))
            query = "?" + parts.query if parts.query else ""
            target = ((parts.path or "/") + query).encode("latin-1")
        if target == b"/" or target.startswith(b"/?"):
            target = self._path.encode("latin-1") + target[1:]
        out = [head.first, b" ", target, b" ", head.third, b"\r\n", self._extra]
        drop = HOP_BY_HOP
        connection = head.get(b"connection")
        if connection:  # headers the client named as hop-by-hop
            drop = drop | {c.strip().lower() for c in connection.split(b",")}
        auth = self._auth
        for name, value in head.headers:
            key = name.lower()
            if key in drop:
                continue
            if key == b"authorization":
                auth = b""
            out += (name, b": ", value, b"\r\n")
        if (
            body
            or head.length is not None
            or head.chunked
            or head.first in (b"POST", b"PUT", b"PATCH")
        ):
            out += (b"Content-Length: ", str(len(body)).encode(), b"\r\n")
        out += (auth, b"\r\n", body)
        return b"".join(out)

    async def _exchange(
        self, head: Head, body: bytes, at: float, writer: asyncio.StreamWriter, side: _ClientSide
    ) -> bool:
        """Relay one request and its answer; whether the client connection can carry another."""
        data = self._request_bytes(head, body)
        session = (head.get(SESSION_HEADER) or b"").decode("latin-1")
        # With a session already named the request is recorded now (so a call the server never
        # answers is still seen); an initialize (no session yet) when its answer names one.
        rec = self.recorder(session) if session else None
        record_body = head.first == b"POST" and bool(body.strip())
        for attempt in (0, 1):
            conn = self._pooled() if attempt == 0 else None
            if conn is None:
                try:
                    conn = await self._connect()
                except Exception as exc:
                    return self._unreachable(rec, session, head, body, at, writer, exc, attempt)
            if side.gone:
                self._release(conn)
                return False
            self._busy.add(conn)
            side.on_gone = conn
            conn.writer.write(data)
            conn.quickack()
            if rec is not None and record_body and attempt == 0:
                rec.message(CLIENT_TO_SERVER, body, at)
            try:
                raw, rest = await _read_head(conn.reader, b"")
                if not raw:
                    raise _Closed("the server closed the connection without answering")
                answer = parse_head(raw, request=False)
                while 100 <= answer.status < 200:  # 100 Continue, 103 Early Hints: pass on, read on
                    if answer.status == 101:
                        raise WireError(
                            "the server switched protocols, which the proxy cannot relay"
                        )
                    writer.write(raw + HEAD_END)
                    raw, rest = await _read_head(conn.reader, rest)
                    if not raw:
                        raise _Closed("the server closed the connection without answering")
                    answer = parse_head(raw, request=False)
                break
            except (_Closed, ConnectionError, WireError) as exc:
                side.settle()
                self._busy.discard(conn)
                conn.abort()
                if side.gone:
                    return False
                # A reused connection the server had closed: resend only what is safe to repeat.
                if (
                    attempt == 0
                    and conn.reused
                    and head.first in IDEMPOTENT
                    and isinstance(exc, (_Closed, ConnectionError))
                ):
                    continue
                return self._unreachable(rec, session, head, body, at, writer, exc, 1)
        assert conn is not None  # the loop above returns, or breaks holding the answer's connection
        if rec is None:
            # The answer to an initialize names the session; its request is recorded there too.
            session = (answer.get(SESSION_HEADER) or b"").decode("latin-1")
            rec = self.recorder(session)
            if record_body:
                rec.message(CLIENT_TO_SERVER, body, at)
        keep = await self._relay(head, answer, raw, rest, conn, writer, side, rec)
        side.settle()
        return keep and not side.gone

    async def _relay(
        self,
        request: Head,
        answer: Head,
        raw: bytes,
        rest: bytes,
        conn: _Upstream,
        writer: asyncio.StreamWriter,
        side: _ClientSide,
        rec: Recorder,
    ) -> bool:
        """Pass the answer through as it arrives; hand each body's bytes to the recorder."""
        kind = (answer.get(b"content-type") or b"").split(b";")[0].strip().lower()
        framer: Framer | None = (
            SseFramer()
            if kind == b"text/event-stream"
            else BodyFramer()
            if kind == b"application/json"
            else None
        )
        chunked: Chunked | None = None
        left = -1  # body bytes still to come (-1: up to the server's close)
        if request.first == b"HEAD" or answer.status in NO_BODY_STATUS:
            left = 0
        elif answer.chunked:
            chunked = Chunked()
        elif answer.length is not None:
            left = answer.length
        reusable = not answer.close and (left != -1 or chunked is not None)
        out = raw + HEAD_END
        data = rest
        broke: str | None = None
        complete = False
        try:
            while True:
                payload = b""
                if data:
                    if chunked is not None:
                        payload, used = chunked.feed(data)
                        if used < len(data):  # bytes past the end of the answer
                            reusable = False
                            data = data[:used]
                    else:
                        if left >= 0:
                            if len(data) > left:
                                reusable = False
                                data = data[:left]
                            left -= len(data)
                        payload = data
                    out = out + data if out else data
                if out and not side.gone:
                    writer.write(out)
                    if writer.transport.get_write_buffer_size() > HIGH_WATER:
                        await writer.drain()
                out = b""
                if payload and framer is not None:
                    rec.stream(SERVER_TO_CLIENT, framer, payload, time.time())
                if chunked.done if chunked is not None else left == 0:
                    complete = True
                    break
                conn.quickack()
                data = await conn.reader.read(READ_BYTES)
                if not data:
                    if left == -1 and chunked is None:  # a body that runs to the close: over
                        complete = True
                        break
                    if not side.gone:
                        broke = "the server closed the connection mid-answer"
                    break
        except WireError as exc:
            broke = f"the server's answer broke HTTP/1.1 framing: {exc}"
        except ConnectionError as exc:
            if not side.gone:
                broke = f"{exc!r}"
        finally:
            if framer is not None:
                rec.stream(SERVER_TO_CLIENT, framer, None, time.time())
        if broke is not None:
            rec.handle.error(f"the MCP server's response stream broke: {broke}")
        side.settle()
        if complete and reusable:
            self._release(conn)
        else:
            self._busy.discard(conn)
            conn.abort()
        if broke is not None:  # cut the client off too: it must not take a torn answer for whole
            writer.transport.abort()
            return False
        return (
            complete and not side.gone and (left != -1 or chunked is not None) and not answer.close
        )

    def _unreachable(
        self,
        rec: Recorder | None,
        session: str,
        head: Head,
        body: bytes,
        at: float,
        writer: asyncio.StreamWriter,
        exc: BaseException,
        sent: int,
    ) -> bool:
        """Answer 502 with a JSON-RPC error the client can show; record the failure.

        `sent` says whether the request was written to (and so recorded for) a connection.
        """
        target = self._origin + head.second.decode("latin-1")
        if rec is None or not sent:
            rec = rec or self.recorder(session)
            if head.first == b"POST" and body.strip():
                rec.message(CLIENT_TO_SERVER, body, at)
        what = "could not reach" if not sent else "got no answer from"
        reason = str(exc) or type(exc).__name__
        rec.handle.error(f"{what} the MCP server at {target}: {exc!r}")
        try:
            message = orjson.loads(body) if body.strip() else None
            ident = message.get("id") if isinstance(message, dict) else None
        except orjson.JSONDecodeError:
            ident = None
        error = {
            "jsonrpc": "2.0",
            "id": ident,
            "error": {
                "code": -32000,
                "message": f"agentlog mcp proxy: {what} the MCP server at {target}: {reason}",
            },
        }
        payload = orjson.dumps(error)
        writer.write(
            b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: application/json\r\nContent-Length: "
            + str(len(payload)).encode()
            + b"\r\n\r\n"
            + payload
        )
        return True


class _TooBig(Exception):
    """A request body over MAX_BODY_BYTES."""


async def _read_body(reader: asyncio.StreamReader, buf: bytes, head: Head) -> tuple[bytes, bytes]:
    """A request's whole body (MCP requests are one message each) and the bytes read past it."""
    if head.chunked:
        decoder = Chunked()
        parts: list[bytes] = []
        while True:
            payload, used = decoder.feed(buf)
            parts.append(payload)
            buf = buf[used:]
            if decoder.size > MAX_BODY_BYTES:
                raise _TooBig
            if decoder.done:
                return b"".join(parts), buf
            buf = await reader.read(READ_BYTES)
            if not buf:
                raise _Closed("the connection closed inside a body")
    length = head.length or 0
    if length > MAX_BODY_BYTES:
        raise _TooBig
    if len(buf) >= length:
        return buf[:length], buf[length:]
    return buf + await reader.readexactly(length - len(buf)), b""


def _nodelay(writer: asyncio.StreamWriter) -> None:
    # asyncio sets it on TCP transports already; said here because the relay's latency rests on it.
    sock = writer.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _plain(status: int, text: str) -> bytes:
    reason = {400: "Bad Request", 413: "Content Too Large"}.get(status, "Error")
    body = text.encode() + b"\n"
    return (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body


def run_http(
    upstream: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8333,
    title: str | None = None,
    agent: str | None = None,
    log: Any,
    store: Any = None,
    parent_session_id: str | None = None,
) -> None:
    """Serve the proxy until interrupted; prints where to point the client (stderr)."""
    proxy = HttpProxy(
        upstream, log, title=title, agent=agent, store=store, parent_session_id=parent_session_id
    )
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc} (pick another --port)"
        ) from None
    # Listening before the address is printed: a client started on that line is queued by the
    # kernel until the loop accepts, never refused.
    sock.listen(2048)
    sock.setblocking(False)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    print(
        f"agentlog mcp proxy: http://{shown}:{bound}{proxy._path} -> {proxy.upstream}",
        file=sys.stderr,
        flush=True,
    )

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, stop.set)
        server = await proxy.start(sock)
        try:
            await stop.wait()
        finally:
            server.close()
            # A client holding a GET stream open must not keep a stopped proxy alive.
            proxy.drop_connections()
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                loop.remove_signal_handler(sig)

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass
    finally:
        proxy.close()
        sock.close()
