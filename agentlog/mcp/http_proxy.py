"""`agentlog mcp proxy --upstream URL`: a recording reverse proxy for MCP's Streamable HTTP transport.

Requests and responses pass through unchanged (status, bodies, `Mcp-Session-Id`,
`Mcp-Method` / `Mcp-Name`, `MCP-Protocol-Version` and every other end-to-end
header); only hop-by-hop headers are dropped and the upstream is asked for an
unencoded body so the copy can be read. A POST body is one message (or a batch);
a JSON response is one message; an SSE stream (POST answer or GET stream) is
split into its events, each `data` field one message. Each MCP session (its
`Mcp-Session-Id`) is one AgentLog session; stateless-era traffic without the
header shares one session per proxy run. Recording runs on each session's
`Recorder` thread, off the relay path.
"""

from __future__ import annotations

import signal
import socket
import sys
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from agentlog.errors import UsageError
from agentlog.mcp.frames import CLIENT_TO_SERVER, SERVER_TO_CLIENT
from agentlog.mcp.framing import SseFramer
from agentlog.mcp.mapping import McpMapper
from agentlog.mcp.recorder import Recorder

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "accept-encoding",
    }
)
SESSION_HEADER = "mcp-session-id"
MAX_BODY_BYTES = 64 * 1024 * 1024


def check_upstream(url: str) -> str:
    """The upstream URL, or a one-line UsageError saying what a good one looks like."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(
            f"--upstream must be an http(s) URL of an MCP endpoint, e.g. https://host/mcp (got {url!r})"
        )
    return url.rstrip("/") if parts.path not in ("", "/") else url


class HttpProxy:
    """The ASGI app: forwards every request to `upstream` and records the MCP messages it carries."""

    def __init__(
        self,
        upstream: str,
        log: Any,
        *,
        title: str | None = None,
        agent: str | None = None,
        store: Any = None,
        parent_session_id: str | None = None,
    ) -> None:
        import httpx

        self.upstream = check_upstream(upstream)
        parts = urlsplit(self.upstream)
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._path = parts.path or "/"
        self.log = log
        self.title = title or f"MCP {self.upstream}"
        self.agent = agent
        self.store = store
        self.parent_session_id = parent_session_id  # each MCP session is a child of this one
        self._recorders: dict[str, Recorder] = {}
        self._lock = threading.Lock()
        # A fresh upstream connection per request, like the mcp client's own: on a reused
        # keep-alive connection uvicorn-served MCP servers answered each call ~40 ms late
        # (measured with strace: the tool ran 30-40 ms after the request was read), which
        # was 90 % of the proxy's added latency. The mcp client itself closes its connection
        # after each POST's answer (seen in the same trace), so this adds no handshakes that a
        # direct connection would not make.
        transport = httpx.AsyncHTTPTransport(
            socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
            limits=httpx.Limits(max_keepalive_connections=0),
        )
        self._client = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(30.0, read=None),
            trust_env=False,
        )

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

    async def aclose(self) -> None:
        await self._client.aclose()

    # ------------------------------------------------------------ ASGI
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        at = time.time()
        body = await self._read_body(receive)
        if body is None:
            await _plain(send, 413, f"agentlog mcp proxy: body over {MAX_BODY_BYTES} bytes")
            return
        headers = [
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in scope["headers"]
            if k.decode("latin-1").lower() not in HOP_BY_HOP
        ]
        headers.append(("accept-encoding", "identity"))
        path = scope.get("path") or "/"
        target = self._origin + (self._path if path == "/" else path)
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode("latin-1")
        session = next((v for k, v in headers if k.lower() == SESSION_HEADER), "")
        request = self._client.build_request(scope["method"], target, headers=headers, content=body)
        try:
            response = await self._client.send(request, stream=True)
        except Exception as exc:
            rec = self.recorder(session)
            if body.strip():
                rec.message(CLIENT_TO_SERVER, body, at)
            rec.handle.error(f"could not reach the MCP server at {target}: {exc!r}")
            await _plain(send, 502, f"agentlog mcp proxy: could not reach {target}: {exc}")
            return
        try:
            # The answer to an initialize names the session; record its request there too.
            session = response.headers.get(SESSION_HEADER, session)
            rec = self.recorder(session)
            if body.strip() and scope["method"] == "POST":
                rec.message(CLIENT_TO_SERVER, body, at)
            await self._relay(response, send, rec)
        finally:
            await response.aclose()

    async def _relay(self, response: Any, send: Send, rec: Recorder) -> None:
        out_headers = [
            (k.encode("latin-1"), v.encode("latin-1"))
            for k, v in response.headers.multi_items()
            if k.lower() not in HOP_BY_HOP or k.lower() == "content-length"
        ]
        await send(
            {"type": "http.response.start", "status": response.status_code, "headers": out_headers}
        )
        kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
        sse = SseFramer() if kind == "text/event-stream" else None
        whole = bytearray() if kind == "application/json" else None
        try:
            async for chunk in response.aiter_raw():
                now = time.time()
                if sse is not None:
                    for piece in sse.feed(chunk):
                        rec.piece(SERVER_TO_CLIENT, piece, now)
                elif whole is not None and len(whole) < MAX_BODY_BYTES:
                    whole += chunk
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except Exception as exc:  # the upstream broke the stream: the client sees it end
            rec.handle.error(f"the MCP server's response stream broke: {exc!r}")
        if whole is not None and whole.strip():
            rec.message(SERVER_TO_CLIENT, bytes(whole), time.time())
        if sse is not None:
            for piece in sse.end():
                rec.piece(SERVER_TO_CLIENT, piece, time.time())
        try:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except Exception:  # the client went away
            pass

    @staticmethod
    async def _read_body(receive: Receive) -> bytes | None:
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            body += message.get("body", b"")
            if len(body) > MAX_BODY_BYTES:
                return None
            if not message.get("more_body"):
                break
        return bytes(body)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _plain(send: Send, status: int, text: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": text.encode() + b"\n"})


class _Stopped(Exception):
    """TERM or HUP reached the proxy."""


def _stop(signum: int, _frame: Any) -> None:
    raise _Stopped(signum)


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
    import uvicorn

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
    # kernel until uvicorn accepts, never refused (it was, under load, in the gap before).
    sock.listen(2048)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    print(
        f"agentlog mcp proxy: http://{shown}:{bound}{proxy._path} -> {proxy.upstream}",
        file=sys.stderr,
        flush=True,
    )
    # A client holding a GET stream open must not keep a stopped proxy alive.
    config = uvicorn.Config(
        proxy, log_level="warning", lifespan="on", access_log=False, timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    # uvicorn shuts down gracefully on INT/TERM and then re-raises the signal; turn that into
    # an exception here so the sessions are closed and ended, and the run ends with code 0.
    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        server.run(sockets=[sock])
    except (KeyboardInterrupt, _Stopped):
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        proxy.close()
        sock.close()
