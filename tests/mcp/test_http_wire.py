"""The HTTP proxy's hand parser: heads and chunk framing, strict where laxness could be smuggled."""

from __future__ import annotations

import pytest

from agentlog.mcp.http_wire import Chunked, WireError, parse_head

REQUEST = (
    b"POST /mcp HTTP/1.1\r\nHost: x\r\nMcp-Session-Id: abc\r\n"
    b"MCP-Protocol-Version: 2025-11-25\r\nContent-Length: 12"
)


def test_request_head_keeps_names_as_sent() -> None:
    head = parse_head(REQUEST, request=True)
    assert (head.first, head.second, head.third) == (b"POST", b"/mcp", b"HTTP/1.1")
    assert head.headers[2] == (b"MCP-Protocol-Version", b"2025-11-25")
    assert head.get(b"mcp-session-id") == b"abc" and head.length == 12
    assert not head.chunked and not head.close


def test_response_head_framing() -> None:
    head = parse_head(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked", request=False)
    assert head.status == 200 and head.chunked and head.third == b"OK"
    bare = parse_head(b"HTTP/1.1 204", request=False)
    assert bare.status == 204 and bare.length is None
    gzip = parse_head(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip", request=False)
    assert gzip.coded and not gzip.chunked  # runs to the close
    old = parse_head(b"HTTP/1.0 200 OK\r\nContent-Length: 2", request=False)
    assert old.close and old.length == 2
    kept = parse_head(b"GET / HTTP/1.0\r\nConnection: keep-alive", request=True)
    assert not kept.close
    closing = parse_head(b"GET / HTTP/1.1\r\nConnection: Close", request=True)
    assert closing.close


@pytest.mark.parametrize(
    "raw",
    [
        b"POST /mcp HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2",
        b"POST /mcp HTTP/1.1\r\nContent-Length: 1, 2",
        b"POST /mcp HTTP/1.1\r\nContent-Length: -1",
        b"POST /mcp HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked",
        b"POST /mcp HTTP/1.1\r\nTransfer-Encoding: gzip",
        b"POST /mcp HTTP/1.1\r\nTransfer-Encoding: chunked, chunked",
        b"POST /mcp HTTP/1.0\r\nTransfer-Encoding: chunked",
        b"POST /mcp HTTP/1.1\r\nX-A: 1\r\n folded",
        b"POST /mcp HTTP/1.1\r\nBad Name: 1",
        b"POST /mcp HTTP/1.1\r\nX-A: 1\n2",
        b"POST  /mcp HTTP/1.1",
        b"POST /mcp HTTP/2.0",
        b"\r\nPOST /mcp HTTP/1.1",
    ],
)
def test_ambiguous_requests_are_refused(raw: bytes) -> None:
    with pytest.raises(WireError):
        parse_head(raw, request=True)


def test_repeated_equal_lengths_are_one_length() -> None:
    assert parse_head(b"POST / HTTP/1.1\r\nContent-Length: 3, 3", request=True).length == 3


def test_malformed_status_line() -> None:
    with pytest.raises(WireError):
        parse_head(b"HELLO", request=False)


BODY = b"4;ext=1\r\nwiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Trailer: 1\r\n\r\n"


def test_chunked_body_in_one_piece_and_byte_by_byte() -> None:
    whole = Chunked()
    payload, used = whole.feed(BODY + b"NEXT")
    assert payload == b"wikipedia in\r\n\r\nchunks." and used == len(BODY) and whole.done
    slow = Chunked()
    got = b""
    for i in range(len(BODY)):
        piece, used = slow.feed(BODY[i : i + 1])
        assert used == 1
        got += piece
    assert got == b"wikipedia in\r\n\r\nchunks." and slow.done and slow.size == 23


@pytest.mark.parametrize(
    "body", [b"0x4\r\nwiki\r\n", b"1_0\r\n", b"+4\r\nwiki\r\n", b"4\r\nwikiXX", b"4\nwiki\r\n"]
)
def test_odd_chunk_framing_is_refused(body: bytes) -> None:
    with pytest.raises(WireError):
        Chunked().feed(body)


def test_endless_chunk_size_line_is_refused() -> None:
    decoder = Chunked()
    with pytest.raises(WireError):
        for _ in range(10):
            decoder.feed(b"1" * 1000)
