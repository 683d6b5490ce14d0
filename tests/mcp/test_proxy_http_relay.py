"""The HTTP proxy's relay against scripted upstreams: bytes, streaming, hang-ups, failures, TLS."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from agentlog.mcp.http_accept import defer_accept
from agentlog.mcp.http_proxy import HttpProxy
from agentlog.model import EventType
from agentlog.sdk.client import AgentLog
from agentlog.storage import open_store
from agentlog.storage.base import EventQuery, SessionQuery

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

CALL = b'{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"add","arguments":{}}}'
RESULT = b'{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"5"}]}}'


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """One request as the upstream got it: its head and its Content-Length body."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return head, await reader.readexactly(length)


def sse(*events: bytes) -> bytes:
    """Each event's bytes as one chunk of a chunked body."""
    return b"".join(b"%x\r\n%s\r\n" % (len(e), e) for e in events)


@contextlib.asynccontextmanager
async def relay(
    tmp_path: Path,
    handler: Handler,
    *,
    tls: tuple[ssl.SSLContext, ssl.SSLContext] | None = None,
    upstream_port: int | None = None,
) -> AsyncIterator[tuple[HttpProxy, int]]:
    """A proxy in this loop in front of `handler` (served here, over TLS if given)."""
    upstream = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=tls[0] if tls else None)
    port = upstream_port or upstream.sockets[0].getsockname()[1]
    log = AgentLog(db=tmp_path / "relay.db")
    scheme = "https" if tls else "http"
    proxy = HttpProxy(
        f"{scheme}://127.0.0.1:{port}/mcp", log, title="relay", ssl_context=tls[1] if tls else None
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.setblocking(False)
    server = await proxy.start(sock)
    try:
        yield proxy, sock.getsockname()[1]
    finally:
        server.close()
        proxy.drop_connections()
        upstream.close()
        await asyncio.sleep(0)
        proxy.close()
        log.close()
        sock.close()


async def exchange(port: int, request: bytes, *, until: bytes | None = None) -> bytes:
    """Send raw bytes on a new connection; read to `until` or to the proxy's close."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    try:
        if until is not None:
            return await asyncio.wait_for(reader.readuntil(until), 10)
        return await asyncio.wait_for(reader.read(-1), 10)
    finally:
        writer.close()


def events(db: Path) -> list[Any]:
    store = open_store(str(db))
    try:
        out = []
        for session in store.list_sessions(SessionQuery()).items:
            page = store.list_events(EventQuery(session_id=session.id, order="asc", limit=1000))
            out += page.items
        return out
    finally:
        store.close()


def post(body: bytes, *extra: bytes) -> bytes:
    head = [b"POST /mcp HTTP/1.1", b"Host: proxy", b"Content-Length: %d" % len(body), *extra]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


@pytest.fixture(params=["sockets", "asyncio-server"])
def accept(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways of serving clients: bare sockets, and the fallback for loops without add_reader."""
    if request.param == "asyncio-server":

        def no_add_reader(*args: object) -> None:
            raise NotImplementedError

        monkeypatch.setattr("agentlog.mcp.http_proxy.Listener", no_add_reader)
    return str(request.param)


def test_headers_pass_through_and_the_answer_comes_back_byte_for_byte(
    tmp_path: Path, accept: str
) -> None:
    seen: dict[str, bytes] = {}
    answer = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nX-Odd-Case:  kept \r\n"
        b"mcp-session-id: s-1\r\nTransfer-Encoding: chunked\r\n\r\n"
        + sse(b"event: message\r\ndata: " + RESULT + b"\r\n\r\n")
        + b"0\r\n\r\n"
    )

    async def upstream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen["head"], seen["body"] = await read_request(reader)
        writer.write(answer)
        await writer.drain()

    async def run() -> bytes:
        async with relay(tmp_path, upstream) as (_, port):
            chunked = b"10\r\n" + CALL[:16] + b"\r\n%x\r\n" % (len(CALL) - 16) + CALL[16:]
            request = (
                b"POST /mcp HTTP/1.1\r\nHost: proxy\r\nMcp-Session-Id: s-1\r\n"
                b"Mcp-Method: tools/call\r\nMcp-Name: add\r\nMCP-Protocol-Version: 2025-11-25\r\n"
                b"Connection: keep-alive, X-Hop\r\nX-Hop: 1\r\nAccept-Encoding: gzip\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n" + chunked + b"\r\n0\r\n\r\n"
            )
            return await exchange(port, request, until=b"0\r\n\r\n")

    got = asyncio.run(run())
    assert got == answer
    head = seen["head"].split(b"\r\n")
    for line in (
        b"Mcp-Session-Id: s-1",
        b"Mcp-Method: tools/call",
        b"Mcp-Name: add",
        b"MCP-Protocol-Version: 2025-11-25",
        b"Accept-Encoding: identity",
        b"Content-Length: %d" % len(CALL),
    ):
        assert line in head
    assert head[0] == b"POST /mcp HTTP/1.1" and head[1].startswith(b"Host: 127.0.0.1:")
    assert not [h for h in head if h.lower().startswith((b"x-hop", b"transfer-encoding"))]
    assert b"gzip" not in seen["head"] and seen["body"] == CALL
    kinds = [e.type for e in events(tmp_path / "relay.db")]
    assert EventType.TOOL_CALL in kinds and EventType.TOOL_RESULT in kinds


def test_sse_events_are_relayed_as_they_arrive(tmp_path: Path) -> None:
    later = asyncio.Event()

    async def upstream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked"
            b"\r\n\r\n" + sse(b"data: first\r\n\r\n")
        )
        await writer.drain()
        await later.wait()  # the second event is only sent once the client has the first
        writer.write(sse(b"data: " + RESULT + b"\r\n\r\n") + b"0\r\n\r\n")
        await writer.drain()

    async def run() -> tuple[bytes, bytes]:
        async with relay(tmp_path, upstream) as (_, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(post(CALL, b"Accept: text/event-stream"))
            first = await asyncio.wait_for(reader.readuntil(b"data: first\r\n\r\n\r\n"), 10)
            later.set()
            rest = await asyncio.wait_for(reader.readuntil(b"0\r\n\r\n"), 10)
            writer.close()
            return first, rest

    first, rest = asyncio.run(run())
    assert first.startswith(b"HTTP/1.1 200 OK") and RESULT in rest


@pytest.mark.skipif(not hasattr(socket, "TCP_DEFER_ACCEPT"), reason="Linux's TCP_DEFER_ACCEPT")
def test_a_connection_is_accepted_when_its_request_arrives_even_a_slow_one(
    tmp_path: Path,
) -> None:
    answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"

    async def upstream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(answer % len(RESULT) + RESULT)
        await writer.drain()

    async def run() -> bytes:
        async with relay(tmp_path, upstream) as (_, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            await asyncio.sleep(0.3)  # connected, nothing sent yet: the request comes later
            writer.write(post(CALL))
            got = await asyncio.wait_for(
                reader.readexactly(len(answer % len(RESULT)) + len(RESULT)), 10
            )
            writer.close()
            return got

    assert asyncio.run(run()).endswith(RESULT)
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen(1)
        defer_accept(listening)
        assert listening.getsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT) > 0


def test_a_stream_still_open_is_recorded_as_it_goes(tmp_path: Path) -> None:
    """Taps are held until their exchange ends, or HOLD_SECONDS: an open stream's events land."""
    progress = b'{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":7,"progress":1}}'
    later = asyncio.Event()

    async def upstream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked"
            b"\r\n\r\n" + sse(b"data: " + progress + b"\r\n\r\n")
        )
        await writer.drain()
        await later.wait()
        writer.write(sse(b"data: " + RESULT + b"\r\n\r\n") + b"0\r\n\r\n")
        await writer.drain()

    async def run() -> list[str]:
        async with relay(tmp_path, upstream) as (proxy, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(post(CALL, b"Mcp-Session-Id: s-2"))
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n\r\n"), 10)
            names: list[str] = []
            for _ in range(100):  # the stream is still open: only the hold's timer can record
                await asyncio.sleep(0.05)
                proxy.log.flush()
                names = [e.name for e in events(tmp_path / "relay.db")]
                if "notifications/progress" in names:
                    break
            later.set()
            await asyncio.wait_for(reader.readuntil(b"0\r\n\r\n"), 10)
            writer.close()
            return names

    assert "notifications/progress" in asyncio.run(run())
    kinds = [e.type for e in events(tmp_path / "relay.db")]
    assert EventType.TOOL_CALL in kinds and EventType.TOOL_RESULT in kinds


def test_a_client_hanging_up_mid_stream_closes_the_upstream_stream(
    tmp_path: Path, accept: str
) -> None:
    closed = asyncio.Event()

    async def upstream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked"
            b"\r\n\r\n" + sse(b": ping\r\n\r\n")
        )
        await writer.drain()
        if await reader.read(1) == b"":  # an endless GET stream: only the proxy's close ends it
            closed.set()

    async def run() -> float:
        async with relay(tmp_path, upstream) as (_, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /mcp HTTP/1.1\r\nHost: p\r\nAccept: text/event-stream\r\n\r\n")
            await asyncio.wait_for(reader.readuntil(b": ping\r\n\r\n"), 10)
            loop = asyncio.get_running_loop()
            start = loop.time()
            writer.close()
            await asyncio.wait_for(closed.wait(), 10)
            return loop.time() - start

    assert asyncio.run(run()) < 5


def test_upstream_connections_are_kept_and_client_connections_too(tmp_path: Path) -> None:
    connections = []

    async def upstream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)
        while not reader.at_eof():
            try:
                await read_request(reader)
            except asyncio.IncompleteReadError:
                return
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                % len(RESULT)
                + RESULT
            )

    async def run() -> list[bytes]:
        async with relay(tmp_path, upstream) as (_, port):
            answers = []
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            for _ in range(2):  # two requests on one client connection
                writer.write(post(CALL))
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
                answers.append(head + await reader.readexactly(len(RESULT)))
            writer.close()
            # and one on a new client connection: the upstream connection is reused
            answers.append(await exchange(port, post(CALL), until=RESULT))
            return answers

    answers = asyncio.run(run())
    assert all(a.endswith(RESULT) for a in answers) and len(connections) == 1


def test_an_unreachable_upstream_answers_a_jsonrpc_502(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]

    async def upstream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise AssertionError("not reached")

    async def run() -> bytes:
        async with relay(tmp_path, upstream, upstream_port=dead) as (_, port):
            return await exchange(port, post(CALL), until=b"}}")

    got = asyncio.run(run())
    head, _, body = got.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 502 ") and b"Content-Type: application/json" in head
    error = orjson.loads(body)
    assert error["id"] == 7 and error["error"]["code"] == -32000
    assert "could not reach the MCP server" in error["error"]["message"]
    recorded = events(tmp_path / "relay.db")
    assert any(e.type == EventType.ERROR and "could not reach" in e.content for e in recorded)


def test_a_torn_answer_cuts_the_client(tmp_path: Path) -> None:
    async def upstream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked"
            b"\r\n\r\n20\r\ndata: half"
        )
        await writer.drain()
        writer.close()

    async def run() -> bytes:
        async with relay(tmp_path, upstream) as (_, port):
            return await exchange(port, post(CALL))

    # What came, then the connection ends: no last chunk, so the client cannot take it for whole.
    assert asyncio.run(run()).endswith(b"data: half")
    recorded = events(tmp_path / "relay.db")
    assert any(e.type == EventType.ERROR and "stream broke" in e.content for e in recorded)


def test_an_answer_that_is_not_http_is_a_502(tmp_path: Path) -> None:
    async def upstream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HELLO THERE\r\n\r\n")
        await writer.drain()
        writer.close()

    async def run() -> bytes:
        async with relay(tmp_path, upstream) as (_, port):
            return await exchange(port, post(CALL), until=b"}}")

    bad = asyncio.run(run())
    assert bad.startswith(b"HTTP/1.1 502 ") and b"got no answer from" in bad


def test_bad_requests_are_refused(tmp_path: Path) -> None:
    async def upstream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise AssertionError("not reached")

    async def run() -> list[bytes]:
        async with relay(tmp_path, upstream) as (_, port):
            return [
                await exchange(port, b"POST /mcp HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\n"),
                await exchange(port, b"NONSENSE\r\n\r\n"),
            ]

    for answer in asyncio.run(run()):
        assert answer.startswith(b"HTTP/1.1 400 ")


def _tls_pair(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A self-signed certificate for 127.0.0.1: the server's context and one that trusts it."""
    pytest.importorskip("cryptography")
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(cert_file))
    return server, client


def test_an_https_upstream(tmp_path: Path) -> None:
    pair = _tls_pair(tmp_path)

    async def upstream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
            % len(RESULT)
            + RESULT
        )
        await writer.drain()

    async def run() -> bytes:
        async with relay(tmp_path, upstream, tls=pair) as (_, port):
            return await exchange(port, post(CALL), until=RESULT)

    assert asyncio.run(run()).startswith(b"HTTP/1.1 200 OK")
    kinds = [e.type for e in events(tmp_path / "relay.db")]
    assert EventType.TOOL_CALL in kinds and EventType.TOOL_RESULT in kinds


def test_a_slow_client_gets_a_big_answer_whole_and_the_connection_is_kept(
    tmp_path: Path, accept: str
) -> None:
    big = b"x" * (8 * 1024 * 1024)
    connections = []

    async def upstream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)
        for body in (big, RESULT):
            await read_request(reader)
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                b"Content-Length: %d\r\n\r\n" % len(body) + body
            )
            await writer.drain()

    async def run() -> tuple[int, bytes]:
        async with relay(tmp_path, upstream) as (_, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(post(CALL))
            await asyncio.sleep(0.3)  # the proxy's buffer to this client fills: it stops reading
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            body = await asyncio.wait_for(reader.readexactly(len(big)), 30)
            writer.close()
            assert head.startswith(b"HTTP/1.1 200")
            return len(body), await exchange(port, post(CALL), until=RESULT)

    size, second = asyncio.run(run())
    assert size == len(big) and second.endswith(RESULT) and len(connections) == 1


def test_the_hold_timer_hands_over_only_what_has_waited_its_time() -> None:
    """One timer serves many exchanges; what came after it was set still waits HOLD_SECONDS."""
    from agentlog.mcp.http_hold import HOLD_SECONDS, Holder

    class Taken:
        def __init__(self) -> None:
            self.batches: list[list[Any]] = []

        def many(self, items: list[Any]) -> None:
            self.batches.append(items)

    async def run() -> list[list[list[Any]]]:
        hold, taken = Holder(), Taken()
        rec: Any = taken  # a stand-in for the recorder: the hold only calls `many`
        seen = []
        hold.message(rec, "c2s", b"first", 0.0)
        hold.release(rec)  # its exchange is over; the timer runs on
        await asyncio.sleep(HOLD_SECONDS * 0.6)
        hold.message(rec, "c2s", b"second", 0.0)  # an exchange in flight
        await asyncio.sleep(HOLD_SECONDS * 0.6)  # the first timer is due: too soon for "second"
        seen.append(list(taken.batches))
        await asyncio.sleep(HOLD_SECONDS * 1.5)
        seen.append(list(taken.batches))
        return seen

    early, late = asyncio.run(run())
    assert [[i[1][1] for i in batch] for batch in early] == [[b"first"]]
    assert [[i[1][1] for i in batch] for batch in late] == [[b"first"], [b"second"]]
