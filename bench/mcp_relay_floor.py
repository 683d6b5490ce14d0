"""The floor for the HTTP proxy's latency: a bare asyncio loopback byte relay, no parsing, no recording.

Each client connection is paired with an upstream connection opened ahead of time (so the
connect is off the call's path, as the proxy's pooled connections are), and bytes are
passed both ways as they arrive, with TCP_NODELAY on both sides. What this costs per call
against a direct connection is what any relay in one more Python process costs on this
machine; the proxy's figure stands beside it in `bench_mcp.py`.

Run: python bench/mcp_relay_floor.py UPSTREAM_PORT   (prints "PORT n" once listening)
"""

from __future__ import annotations

import asyncio
import socket
import sys


class Pipe(asyncio.Protocol):
    """One side of a pair: what it reads is written to the other side."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.peer: Pipe | None = None
        self.early: list[bytes] = []  # bytes read before the peer was attached

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        peer = self.peer
        if peer is not None and peer.transport is not None:
            peer.transport.write(data)
        else:
            self.early.append(data)

    def eof_received(self) -> bool:
        self.connection_lost(None)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        peer, self.peer = self.peer, None
        if peer is not None and peer.transport is not None:
            peer.peer = None
            peer.transport.close()


class Floor:
    """Accepts clients and pairs each with a spare upstream connection."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.spares: list[Pipe] = []
        self.opening: asyncio.Task[None] | None = None

    async def _open(self) -> None:
        loop = asyncio.get_running_loop()
        _, pipe = await loop.create_connection(Pipe, "127.0.0.1", self.port)
        self.spares.append(pipe)

    def refill(self) -> None:
        if self.opening is None or self.opening.done():
            self.opening = asyncio.get_running_loop().create_task(self._open())

    def client(self) -> Pipe:
        return Client(self)


class Client(Pipe):
    """A client's side: paired with a spare upstream connection as soon as it is accepted."""

    def __init__(self, floor: Floor) -> None:
        super().__init__()
        self.floor = floor

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.transport_ready()

    def transport_ready(self) -> None:
        floor = self.floor
        while floor.spares:
            up = floor.spares.pop()
            if up.transport is not None and not up.transport.is_closing():
                self._pair(up)
                floor.refill()
                return
        asyncio.get_running_loop().create_task(self._wait())  # no spare ready: open one

    async def _wait(self) -> None:
        await self.floor._open()
        self._pair(self.floor.spares.pop())

    def _pair(self, up: Pipe) -> None:
        self.peer, up.peer = up, self
        assert up.transport is not None and self.transport is not None
        for data in self.early:
            up.transport.write(data)
        self.early.clear()
        for data in up.early:  # the server spoke first (or closed): pass it on
            self.transport.write(data)
        up.early.clear()


async def serve(port: int) -> None:
    floor = Floor(port)
    await floor._open()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)
    server = await asyncio.get_running_loop().create_server(floor.client, sock=sock)
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(serve(int(sys.argv[1])))
    except KeyboardInterrupt:
        pass
