"""JSON-RPC 2.0 frames of MCP as typed records: any text, bytes or dict in, never an exception out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import orjson

from agentlog.model import MAX_CONTENT_BYTES

# A frame larger than this is not parsed: it is kept (truncated) as an ERROR.
MAX_FRAME_BYTES = 8 * 1024 * 1024

Kind = Literal["request", "notification", "result", "error", "invalid"]

CLIENT_TO_SERVER = "client->server"
SERVER_TO_CLIENT = "server->client"
DIRECTIONS = (CLIENT_TO_SERVER, SERVER_TO_CLIENT)


@dataclass(slots=True)
class Frame:
    """One JSON-RPC message (or the reason a line is not one, with its raw text)."""

    kind: Kind
    raw: str
    id: Any = None
    method: str | None = None
    params: Any = None
    result: Any = None
    error: Any = None
    problem: str | None = None
    batch: int | None = None  # position in a JSON array, if the line was a batch

    @property
    def has_id(self) -> bool:
        return valid_id(self.id)


def valid_id(value: Any) -> bool:
    """A JSON-RPC id is a string or an integer (a bool is neither)."""
    return type(value) is str or type(value) is int


def id_key(value: Any) -> tuple[str, Any]:
    """The id with its type, so `1` and `"1"` never pair."""
    return (type(value).__name__, value)


def clip(text: str, limit: int = MAX_CONTENT_BYTES) -> str:
    """Text cut to at most `limit` UTF-8 bytes (on a character boundary)."""
    if len(text) * 4 <= limit:
        return text
    data = text.encode("utf-8", errors="replace")
    if len(data) <= limit:
        return text
    return data[: limit - 64].decode("utf-8", errors="ignore") + f"… [{len(data)} bytes]"


def as_raw(message: str | bytes | bytearray | memoryview) -> str:
    """Raw frame bytes as text, undecodable bytes replaced (recorded content is hostile)."""
    if isinstance(message, str):
        return message
    return bytes(message).decode("utf-8", errors="replace")


def parse(
    message: str | bytes | bytearray | memoryview | dict[str, Any] | list[Any],
) -> list[Frame]:
    """Every JSON-RPC message in one stdio line, HTTP body or SDK object (a batch gives many)."""
    if isinstance(message, dict | list):
        try:
            raw = orjson.dumps(message, default=str).decode()
        except Exception as exc:
            return [Frame("invalid", repr(message)[:4096], problem=f"not JSON: {exc}")]
        return _from_value(message, raw)
    size = len(message)
    if size > MAX_FRAME_BYTES:
        return [
            Frame(
                "invalid",
                clip(as_raw(message[:MAX_CONTENT_BYTES])),
                problem=f"frame of {size} bytes is over the {MAX_FRAME_BYTES} byte limit",
            )
        ]
    try:
        value = orjson.loads(message)
    except orjson.JSONDecodeError as exc:
        return [Frame("invalid", clip(as_raw(message)), problem=f"not JSON: {exc}")]
    return _from_value(value, as_raw(message))


def _from_value(value: Any, raw: str) -> list[Frame]:
    if isinstance(value, list):
        if not value:
            return [Frame("invalid", clip(raw), problem="an empty batch")]
        frames = []
        for position, member in enumerate(value):
            try:
                member_raw = orjson.dumps(member).decode()
            except Exception:
                member_raw = repr(member)[:4096]
            frame = one(member, clip(member_raw))
            frame.batch = position
            frames.append(frame)
        return frames
    return [one(value, clip(raw))]


def one(value: Any, raw: str) -> Frame:
    """One decoded JSON value as a frame (a non-message becomes an `invalid` frame)."""
    if not isinstance(value, dict):
        return Frame("invalid", raw, problem=f"a JSON {type(value).__name__}, not an object")
    if value.get("jsonrpc") != "2.0":
        return Frame("invalid", raw, problem='"jsonrpc" is not "2.0"')
    method = value.get("method")
    msg_id = value.get("id")
    if method is not None:
        if type(method) is not str:
            return Frame("invalid", raw, id=msg_id, problem='"method" is not a string')
        if "id" in value and msg_id is not None:
            if not valid_id(msg_id):
                return Frame(
                    "invalid", raw, method=method, problem="the id is not a string or integer"
                )
            return Frame("request", raw, id=msg_id, method=method, params=value.get("params"))
        return Frame("notification", raw, method=method, params=value.get("params"))
    if "result" in value:
        return Frame("result", raw, id=msg_id, result=value["result"])
    if "error" in value:
        return Frame("error", raw, id=msg_id, error=value["error"])
    if "id" in value:
        return Frame("invalid", raw, id=msg_id, problem="neither a method, a result nor an error")
    return Frame("invalid", raw, problem="no method and no id")
