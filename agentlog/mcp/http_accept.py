"""The HTTP proxy's client side on bare non-blocking sockets: accept, read and write in one callback.

MCP clients open a connection per request, so accepting is on every call's path. asyncio's
server accepts in one loop pass, builds the transport in a task in the next ones and reads
the request only after that (four passes before the request can go on); here a connection
is accepted, read and its request sent upstream in the callback that saw it arrive. Used on
selector event loops (Linux, macOS); elsewhere the proxy falls back to `loop.create_server`.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import sys
from typing import Any

logger = logging.getLogger("agentlog")

READ_BYTES = 256 * 1024
HIGH_WATER = 256 * 1024  # bytes queued towards a slow client before its reads upstream pause
LOW_WATER = 64 * 1024
# A connection that has sent nothing this long is accepted anyway (the kernel's own timer).
DEFER_SECONDS = 5


class SocketTransport:
    """The few transport calls `ClientConn` makes, over one accepted socket (TCP_NODELAY set)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, sock: socket.socket, protocol: Any) -> None:
        self.loop = loop
        self.sock = sock
        self.fd = sock.fileno()
        self.protocol = protocol
        self.pending = bytearray()  # written but not yet taken by the kernel
        self.closing = False
        self.lost = False
        self.reading = False
        self.paused_writing = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.sock if name == "socket" else default

    def is_closing(self) -> bool:
        return self.closing or self.lost

    # ------------------------------------------------------------ reading
    def start(self) -> None:
        self.protocol.connection_made(self)
        if self.lost:
            return
        # The request is here already (the listener defers accepting until it is): read it and
        # send it on first, and only then register for what comes next (an epoll_ctl and the
        # loop's bookkeeping, ~15 µs, off the request's path). A pause during that first read
        # clears `reading`, so the connection is then left unregistered, as paused.
        self.reading = True
        self._readable()
        if self.reading and not self.lost:
            self.loop.add_reader(self.fd, self._readable)

    def pause_reading(self) -> None:
        if self.reading:
            self.reading = False
            self.loop.remove_reader(self.fd)

    def resume_reading(self) -> None:
        if not self.reading and not self.closing and not self.lost:
            self.reading = True
            self.loop.add_reader(self.fd, self._readable)

    def _readable(self) -> None:
        try:
            data = self.sock.recv(READ_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._drop(exc)
            return
        try:
            if data:
                self.protocol.data_received(data)
            else:
                self.pause_reading()
                if self.protocol.eof_received():
                    pass
                elif self.pending:
                    self.close()
                elif not self.closing:
                    # Nothing left to write and the protocol's calls have returned: it is told
                    # of the loss now, not in a loop pass of its own.
                    self.closing = True
                    self._drop(None, at_once=True)
        except Exception:  # a bug in the relay costs this connection, never the proxy
            logger.exception("agentlog mcp proxy: a client connection failed")
            self.abort()

    # ------------------------------------------------------------ writing
    def write(self, data: bytes) -> None:
        if self.closing or self.lost or not data:
            return
        if not self.pending:
            try:
                sent = self.sock.send(data)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError as exc:
                self._drop(exc)
                return
            if sent == len(data):
                return
            data = data[sent:]
            self.loop.add_writer(self.fd, self._writable)
        self.pending += data
        if len(self.pending) > HIGH_WATER and not self.paused_writing:
            self.paused_writing = True
            self.protocol.pause_writing()

    def _writable(self) -> None:
        try:
            sent = self.sock.send(self.pending)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._drop(exc)
            return
        del self.pending[:sent]
        if self.paused_writing and len(self.pending) <= LOW_WATER:
            self.paused_writing = False
            self.protocol.resume_writing()
        if not self.pending:
            self.loop.remove_writer(self.fd)
            if self.closing:
                self._drop(None)

    # ------------------------------------------------------------ ending
    def close(self) -> None:
        """Close once what is written has gone."""
        if self.closing or self.lost:
            return
        self.closing = True
        self.pause_reading()
        if not self.pending:
            self._drop(None)

    def abort(self) -> None:
        self._drop(None)

    def _drop(self, exc: BaseException | None, *, at_once: bool = False) -> None:
        if self.lost:
            return
        self.lost = True
        if self.reading:
            self.reading = False
            self.loop.remove_reader(self.fd)
        if self.pending:
            self.loop.remove_writer(self.fd)
            self.pending.clear()
        self.sock.close()
        lost = exc if isinstance(exc, Exception) else None
        if at_once:
            self.protocol.connection_lost(lost)
        else:  # later, as asyncio's transports do: the protocol may be in the middle of a call to us
            self.loop.call_soon(self.protocol.connection_lost, lost)


def nodelay(sock: socket.socket) -> bool:
    """TCP_NODELAY on a TCP socket; False for other kinds (nothing to set)."""
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return False
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:
        return False
    return True


def defer_accept(sock: socket.socket) -> None:
    """Wake the proxy for a new connection only once its first bytes are in (Linux).

    An HTTP client speaks first, so a connection with nothing to read is no work yet: without
    this the proxy woke at the handshake, accepted, found nothing to read (the request comes a
    moment later) and woke again for the request, one more loop pass on every call's path.
    """
    option = getattr(socket, "TCP_DEFER_ACCEPT", None)
    if option is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, option, DEFER_SECONDS)
        except OSError:  # not a TCP socket after all: accept as before
            pass


class Listener:
    """Accepts connections on a listening socket in the loop's own reader callback."""

    def __init__(self, loop: asyncio.AbstractEventLoop, sock: socket.socket, factory: Any) -> None:
        self.loop = loop
        self.sock = sock
        self.factory = factory
        defer_accept(sock)
        # Linux copies TCP_NODELAY from the listening socket to each one accepted from it, so it
        # is set once here rather than by a setsockopt on every call's path.
        self.inherits = nodelay(sock) and sys.platform.startswith("linux")
        loop.add_reader(sock.fileno(), self._accept)

    def _accept(self) -> None:
        # One connection a wake: the loop wakes again while more wait (its epoll is
        # level-triggered), and the try that would find none (EAGAIN) is not paid on every call.
        try:
            conn, _addr = self.sock.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:  # out of file descriptors and the like: say so, keep serving
            if exc.errno not in (errno.ECONNABORTED, errno.EPROTO):
                logger.warning("agentlog mcp proxy: could not accept a connection: %r", exc)
            return
        conn.setblocking(False)
        if not self.inherits:
            nodelay(conn)
        SocketTransport(self.loop, conn, self.factory()).start()

    def close(self) -> None:
        self.loop.remove_reader(self.sock.fileno())
