"""The framing layers alone: stdio lines and SSE events split at any byte, refused when oversized."""

from __future__ import annotations

from agentlog.mcp.framing import LineFramer, SseFramer


def _feed_bytewise(framer: LineFramer | SseFramer, data: bytes) -> list[tuple[bytes, str | None]]:
    pieces = []
    for i in range(len(data)):
        pieces += framer.feed(data[i : i + 1])
    pieces += framer.end()
    return [(p.data, p.problem) for p in pieces]


def test_sse_events_split_at_every_byte_give_the_same_messages() -> None:
    stream = (
        b": a comment\r\n"
        b"id: 0\r\nretry: 1000\r\n\r\n"  # a priming event: no data, no message
        b'event: message\r\ndata: {"jsonrpc":"2.0","id":1,"result":{}}\r\n\r\n'
        b'data: {"jsonrpc":"2.0",\n'  # data over two lines, joined by a newline
        b'data:"method":"notifications/progress"}\n\n'
        b'data: {"jsonrpc":"2.0","id":2,"result":{}}'  # the stream ends mid-event
    )
    whole = [(p.data, p.problem) for p in SseFramer().feed(stream)]
    bytewise = _feed_bytewise(SseFramer(), stream)
    assert bytewise == [
        (b'{"jsonrpc":"2.0","id":1,"result":{}}', None),
        (b'{"jsonrpc":"2.0",\n"method":"notifications/progress"}', None),
        (b'{"jsonrpc":"2.0","id":2,"result":{}}', None),
    ]
    assert whole == bytewise[:2]  # without end(), the last event is still open


def test_an_oversized_sse_event_is_refused_with_its_start_kept() -> None:
    framer = SseFramer(limit=100)
    pieces = framer.feed(b"data: " + b"x" * 500 + b"\n\ndata: {}\n\n")
    assert [p.problem is not None for p in pieces] == [True, False]
    assert pieces[0].data.startswith(b"xxx") and "100 byte limit" in (pieces[0].problem or "")
    assert pieces[1].data == b"{}"
    endless = SseFramer(limit=100)
    assert endless.feed(b"data: " + b"y" * 1000) == []  # no newline at all: nothing yet
    for _ in range(100):  # and more of the same line: dropped, the memory stays bounded
        assert endless.feed(b"y" * 1000) == []
    assert len(endless._buf) == 0 and sum(map(len, endless._data)) <= 1006
    (refused, after) = endless.feed(b"yyy\n\ndata: {}\n\n")  # the line ends; framing resumes
    assert refused.problem is not None and after.data == b"{}" and after.problem is None


def test_stdio_lines_split_at_every_byte_and_an_oversized_line_resyncs() -> None:
    stream = b'{"id":1}\r\n\n{"id":2}\n' + b"z" * 300 + b'\n{"id":3}\n{"cut'
    pieces = _feed_bytewise(LineFramer(limit=100), stream)
    assert [d for d, p in pieces if p is None] == [b'{"id":1}', b'{"id":2}', b'{"id":3}']
    problems = [p for _, p in pieces if p is not None]
    assert len(problems) == 2 and "over the 100 byte limit" in problems[0]
    assert "truncated" in problems[1]
