"""`POST /v1/sessions/{id}/export`: NDJSON from the portability writer, streamed page by page."""

from __future__ import annotations

from collections.abc import Iterator

from agentlog.storage.base import EventQuery, Store, iter_events
from agentlog.transfer.rebuild import plain_session
from agentlog.transfer.writers import NdjsonWriter


class _Chunks:
    """A write-only stream that keeps what it is given until the generator yields it."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(data)
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def ndjson_lines(store: Store, session_id: str, page_size: int = 1000) -> Iterator[bytes]:
    """Header, session, then events in order: the same file `agentlog export` writes."""
    sink = _Chunks()
    writer = NdjsonWriter(sink)
    writer.begin_session(plain_session(store.get_session(session_id)))
    for count, event in enumerate(
        iter_events(store, EventQuery(session_id=session_id), page_size), 1
    ):
        writer.event(event)
        if count % page_size == 0:
            writer._flush()
            if chunk := sink.take():
                yield chunk
    writer.end_session()
    writer.close()
    if chunk := sink.take():
        yield chunk
