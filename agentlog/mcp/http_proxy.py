"""`agentlog mcp proxy --upstream URL`: a recording reverse proxy for MCP's Streamable HTTP transport.

The relay (`http_relay`) is asyncio protocols with TCP_NODELAY on both sides; `http_wire`
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
maps and records them off the relay path, once the exchange is over (`http_hold`).
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
from collections.abc import Coroutine
from typing import Any
from urllib.parse import unquote, urlsplit

from agentlog.errors import UsageError
from agentlog.mcp.http_accept import Listener
from agentlog.mcp.http_hold import Holder
from agentlog.mcp.http_relay import QUICKACK, ClientConn, UpstreamConn
from agentlog.mcp.http_wire import Head
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
CONNECT_TIMEOUT = 30.0
# An idle upstream connection is reused for this long. Servers close idle keep-alive
# connections after their own timeout (uvicorn and hypercorn 5 s, Node 5 s, nginx 75 s);
# staying under the common ones keeps a request from racing the server's close.
IDLE_SECONDS = 4.0
MAX_IDLE = 16


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
        self.path = parts.path or "/"
        self._host = parts.hostname or ""
        self._tls = parts.scheme == "https"
        self._port = parts.port or (443 if self._tls else 80)
        self._ssl = (ssl_context or upstream_ssl_context()) if self._tls else None
        host = f"[{self._host}]" if ":" in self._host else self._host
        netloc = host if parts.port is None else f"{host}:{parts.port}"
        self.origin = f"{parts.scheme}://{netloc}"
        self._extra = b"Host: " + netloc.encode("idna") + b"\r\nAccept-Encoding: identity\r\n"
        if parts.username is not None:  # credentials in the URL, sent as an HTTP client would
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            self._auth = b"Authorization: Basic " + base64.b64encode(pair) + b"\r\n"
        else:
            self._auth = b""
        self.log = log
        self.title = title or f"MCP {self.upstream}"
        self.agent = agent
        self.store = store
        self.parent_session_id = parent_session_id  # each MCP session is a child of this one
        self._recorders: dict[str, Recorder] = {}
        self.hold = Holder()  # what the relay tapped, until its exchange is over
        self._lock = threading.Lock()
        self.clients: set[ClientConn] = set()
        self.upstreams: set[UpstreamConn] = set()
        self._idle: list[UpstreamConn] = []
        self._tasks: set[asyncio.Task[None]] = set()

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
        self.hold.release_all()
        with self._lock:
            recorders = list(self._recorders.values())
            self._recorders.clear()
        for rec in recorders:
            rec.close(reason)
            rec.handle.end("completed")

    # ------------------------------------------------------------ serving
    async def start(self, sock: socket.socket) -> Listener | asyncio.AbstractServer:
        """Serve on a bound, listening, non-blocking socket; `close()` the answer to stop."""
        loop = asyncio.get_running_loop()
        try:
            return Listener(loop, sock, lambda: ClientConn(self))
        except NotImplementedError:  # a loop without add_reader (Windows' proactor)
            return await loop.create_server(lambda: ClientConn(self), sock=sock)

    def drop_connections(self) -> None:
        """Cut every client and upstream connection (a stopping proxy; open GET streams too)."""
        for client in list(self.clients):
            if client.transport is not None:
                client.transport.abort()
        for conn in list(self.upstreams):
            conn.abort()
        self._idle.clear()

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------ upstream connections
    async def connect(self) -> UpstreamConn:
        loop = asyncio.get_running_loop()
        _, conn = await asyncio.wait_for(
            loop.create_connection(
                lambda: UpstreamConn(self.upstreams),
                self._host,
                self._port,
                ssl=self._ssl,
                server_hostname=self._host if self._ssl else None,
            ),
            CONNECT_TIMEOUT,
        )
        return conn

    def pooled(self) -> UpstreamConn | None:
        """An idle connection the server has not closed, if any."""
        now = time.monotonic()
        idle = self._idle
        while idle:
            conn = idle.pop()
            if not conn.closed and now - conn.idle_since < IDLE_SECONDS:
                conn.reused = True
                return conn
            conn.abort()
        return None

    def release(self, conn: UpstreamConn) -> None:
        """Keep a connection whose answer ended cleanly, where it is safe to (see QUICKACK)."""
        if QUICKACK is not None and not conn.closed and len(self._idle) < MAX_IDLE:
            conn.idle_since = time.monotonic()
            self._idle.append(conn)
        else:
            conn.abort()

    def request_bytes(self, head: Head, body: bytes) -> bytes:
        """The request as the server gets it: hop-by-hop headers replaced, the rest as sent."""
        target = head.second
        if not target.startswith(b"/") and target != b"*":  # absolute form: keep path and query
            parts = urlsplit(target.decode("latin-1"))
            query = "?" + parts.query if parts.query else ""
            target = ((parts.path or "/") + query).encode("latin-1")
        if target == b"/" or target.startswith(b"/?"):
            target = self.path.encode("latin-1") + target[1:]
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


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


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
        f"agentlog mcp proxy: http://{shown}:{bound}{proxy.path} -> {proxy.upstream}",
        file=sys.stderr,
        flush=True,
    )

    # asyncio puts the default action back when its handlers go: a second SIGTERM (a group's
    # and the one `timeout` or a supervisor forwards) then killed the proxy before its sessions
    # were ended, or before its events were written. The sessions are ended while the loop's
    # handlers still catch a repeat, and the handlers from before (the SDK's flush) come back.
    previous = {sig: signal.getsignal(sig) for sig in _STOP_SIGNALS}

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in _STOP_SIGNALS:
            loop.add_signal_handler(sig, stop.set)
        server = await proxy.start(sock)
        try:
            await stop.wait()
        finally:
            server.close()
            # A client holding a GET stream open must not keep a stopped proxy alive.
            proxy.drop_connections()
            proxy.close()
            for sig in _STOP_SIGNALS:
                loop.remove_signal_handler(sig)
                handler = previous[sig]
                signal.signal(sig, signal.SIG_DFL if handler is None else handler)

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass
    finally:
        proxy.close()
        sock.close()
