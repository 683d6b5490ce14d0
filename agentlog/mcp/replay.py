"""`agentlog mcp replay SESSION`: a recorded MCP session answers again, or re-asks a real server.

As a server (stdio), it answers each request of a client from the recording:
the same method with the same params (`_meta` aside; for `tools/call`, the
tool and its arguments) gets the recorded result or error, in the order they
were recorded, so an agent re-runs with its tools frozen. A request the
recording never saw is answered with a JSON-RPC error that says so, never a
guess. `--against -- COMMAND` goes the other way: it starts a real server and
sends it the recorded client messages, in order and with their ids, and
reports each answer that differs from the recorded one (a regression test for
an MCP server).
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

import orjson

from agentlog.errors import UsageError
from agentlog.mcp.frames import CLIENT_TO_SERVER, SERVER_TO_CLIENT
from agentlog.mcp.proxy import require_command
from agentlog.model import Event, EventType
from agentlog.storage.base import EventQuery, Store, iter_events

NO_RECORDED_ANSWER = -32001  # a server-defined JSON-RPC error code: the recording has no answer
_ID_TYPES = {"int": int, "str": str}


@dataclass
class Exchange:
    """One recorded client message and, for a request, the server's recorded answer."""

    method: str
    params: Any
    jsonrpc_id: Any = None  # None: a notification
    answer_kind: str | None = None  # "result" or "error"; None: never answered
    answer: Any = None
    step: int = 0  # 1-based position among the recorded client messages

    @property
    def key(self) -> str:
        return match_key(self.method, self.params)

    def label(self) -> str:
        if self.method == "tools/call" and isinstance(self.params, dict):
            return f"tools/call {self.params.get('name')}"
        return self.method


# Answered whoever asks: the handshake's params name the client (its name, version and
# capabilities), which another client, or the next release of the same one, says otherwise.
_BY_METHOD = ("initialize", "server/discover")


def match_key(method: str, params: Any) -> str:
    """What makes two requests the same question: the method and what it asks for.

    The handshake matches by method alone, a listing by its page cursor, a tool call by the
    tool and its arguments, anything else by its params; `_meta` never counts.
    """
    if method in _BY_METHOD:
        params = None
    elif isinstance(params, dict):
        if method == "tools/call":
            params = {"name": params.get("name"), "arguments": params.get("arguments") or {}}
        elif method.endswith("/list"):
            params = {"cursor": params.get("cursor")}
        else:
            params = {k: v for k, v in params.items() if k != "_meta"}
    elif method.endswith("/list"):
        params = {"cursor": None}
    return method + " " + orjson.dumps(params, option=orjson.OPT_SORT_KEYS).decode()


def _body(event: Event) -> Any:
    """A recorded message body; ValueError when the recording cut it (too large to keep)."""
    if event.content is None:
        return None
    text = event.content if isinstance(event.content, str) else orjson.dumps(event.content)
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        raise ValueError(
            f"the recorded {event.name} message was cut when it was recorded"
        ) from None


def recorded_exchanges(store: Store, session_id: str) -> list[Exchange]:
    """The client's messages of a recorded MCP session, in order, each with its answer."""
    messages = list(
        iter_events(store, EventQuery(session_id=session_id, types=[EventType.MCP_MESSAGE]))
    )
    exchanges: dict[str, Exchange] = {}
    ordered: list[Exchange] = []
    for event in messages:
        meta = event.metadata
        if meta.get("direction") != CLIENT_TO_SERVER or meta.get("mcp") not in (
            "request",
            "notification",
        ):
            continue
        try:
            params = _body(event)
        except ValueError:
            params = None
        jsonrpc_id = None
        if meta.get("mcp") == "request":
            kind = _ID_TYPES.get(str(meta.get("id_type")), str)
            try:
                jsonrpc_id = kind(meta.get("jsonrpc_id"))
            except (TypeError, ValueError):
                jsonrpc_id = meta.get("jsonrpc_id")
        exchange = Exchange(event.name or "", params, jsonrpc_id, step=len(ordered) + 1)
        exchanges[event.id] = exchange
        ordered.append(exchange)
    for event in messages:
        meta = event.metadata
        if meta.get("direction") != SERVER_TO_CLIENT or meta.get("mcp") not in ("result", "error"):
            continue
        request = exchanges.get(event.parent_id or "")
        if request is None or request.answer_kind is not None:
            continue
        try:
            request.answer = _body(event)
            request.answer_kind = str(meta["mcp"])
        except ValueError as exc:
            request.answer_kind = "error"
            request.answer = {"code": NO_RECORDED_ANSWER, "message": f"agentlog replay: {exc}"}
    if not ordered:
        raise UsageError(
            f"session {session_id} has no recorded MCP client messages; record one with "
            "`agentlog mcp proxy -- SERVER COMMAND` first"
        )
    return ordered


# ---------------------------------------------------------------- as a server
@dataclass
class ReplayServer:
    """Answers requests from a recording: same question, the recorded answer, in order."""

    exchanges: list[Exchange]
    answered: int = 0
    misses: list[str] = field(default_factory=list)
    _queues: dict[str, deque[Exchange]] = field(default_factory=dict)
    _last: dict[str, Exchange] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for exchange in self.exchanges:
            if exchange.jsonrpc_id is not None and exchange.answer_kind is not None:
                self._queues.setdefault(exchange.key, deque()).append(exchange)

    def answer(self, message: Any) -> dict[str, Any] | None:
        """The answer to one client message (None for a notification or a response)."""
        if not isinstance(message, dict) or "method" not in message or "id" not in message:
            return None
        method, params, request_id = str(message["method"]), message.get("params"), message["id"]
        if method == "ping":
            return {"jsonrpc": "2.0", "id": request_id, "result": {}}
        key = match_key(method, params)
        queue = self._queues.get(key)
        if queue:
            recorded = queue.popleft()
            self._last[key] = recorded
        elif method != "tools/call" and key in self._last:
            recorded = self._last[key]  # asked again (a reconnect, a re-listing): same answer
        else:
            label = Exchange(method, params).label()
            self.misses.append(label)
            return {
                "jsonrpc": "2.0",
                "id": request_id,
                "error": {
                    "code": NO_RECORDED_ANSWER,
                    "message": f"agentlog replay: the recording has no answer for {label} "
                    "with these params",
                    "data": {"method": method, "params": params},
                },
            }
        self.answered += 1
        if recorded.answer_kind == "error":
            return {"jsonrpc": "2.0", "id": request_id, "error": recorded.answer}
        return {"jsonrpc": "2.0", "id": request_id, "result": recorded.answer}

    def serve(self, reader: IO[bytes], writer: IO[bytes]) -> None:
        """Newline-delimited JSON-RPC (MCP stdio) until the client closes its end."""
        for line in reader:
            if not line.strip():
                continue
            try:
                message = orjson.loads(line)
            except orjson.JSONDecodeError:
                reply: Any = {
                    "jsonrpc": "2.0",
                    "id": None,
                    "error": {"code": -32700, "message": "parse error: not JSON"},
                }
            else:
                if isinstance(message, list):
                    reply = [r for r in (self.answer(m) for m in message) if r is not None] or None
                else:
                    reply = self.answer(message)
            if reply is not None:
                writer.write(orjson.dumps(reply) + b"\n")
                writer.flush()


# ---------------------------------------------------------------- against a server
@dataclass
class Difference:
    step: int
    label: str
    recorded: Any
    now: Any

    def line(self) -> str:
        path, was, now = first_difference(self.recorded, self.now)
        where = f" at {path}" if path else ""
        return f"step {self.step} {self.label}{where}: recorded {_short(was)}, now {_short(now)}"


def first_difference(was: Any, now: Any, path: str = "") -> tuple[str, Any, Any]:
    """The first place two JSON values differ: its path (`result.tools[0].description`) and
    the two values there."""
    if isinstance(was, dict) and isinstance(now, dict):
        for key in sorted(set(was) | set(now), key=str):
            if was.get(key, _MISSING) != now.get(key, _MISSING):
                where = f"{path}.{key}" if path else str(key)
                return first_difference(was.get(key, _MISSING), now.get(key, _MISSING), where)
    elif isinstance(was, list) and isinstance(now, list) and len(was) == len(now):
        for index, (a, b) in enumerate(zip(was, now, strict=True)):
            if a != b:
                return first_difference(a, b, f"{path}[{index}]")
    return path, was, now


_MISSING: Any = object()  # a key one side lacks


def _short(value: Any, limit: int = 160) -> str:
    if value is _MISSING:
        return "nothing"
    text = orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _lines(stream: IO[bytes]) -> Iterator[Any]:
    for line in stream:
        if line.strip():
            try:
                yield orjson.loads(line)
            except orjson.JSONDecodeError:
                continue  # a server's stray output line: not an answer


def replay_against(
    exchanges: Sequence[Exchange], command: Sequence[str], timeout: float = 30.0
) -> list[Difference]:
    """Send the recorded client messages to a fresh `command` and list the answers that differ."""
    require_command(command)  # the proxy's words for a missing command
    try:
        child = subprocess.Popen(
            list(command), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=sys.stderr
        )
    except OSError as exc:
        raise UsageError(f"cannot start {command[0]}: {exc.strerror or exc}") from None
    assert child.stdin is not None and child.stdout is not None
    answers: dict[str, Any] = {}
    arrived = threading.Condition()
    stdin = child.stdin

    def read() -> None:
        assert child.stdout is not None
        for message in _lines(child.stdout):
            if isinstance(message, dict) and "method" in message and "id" in message:
                # The server asks the client something (sampling, roots): a replay cannot answer.
                refusal = {
                    "jsonrpc": "2.0",
                    "id": message["id"],
                    "error": {"code": -32601, "message": "agentlog replay: not answered"},
                }
                try:
                    stdin.write(orjson.dumps(refusal) + b"\n")
                    stdin.flush()
                except OSError:
                    pass
                continue
            if isinstance(message, dict) and "id" in message:
                with arrived:
                    answers[orjson.dumps(message["id"]).decode()] = message
                    arrived.notify_all()
        with arrived:
            answers["closed"] = True
            arrived.notify_all()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    differences: list[Difference] = []
    try:
        for exchange in exchanges:
            message: dict[str, Any] = {"jsonrpc": "2.0", "method": exchange.method}
            if exchange.params is not None:
                message["params"] = exchange.params
            if exchange.jsonrpc_id is not None:
                message["id"] = exchange.jsonrpc_id
            stdin.write(orjson.dumps(message) + b"\n")
            stdin.flush()
            if exchange.jsonrpc_id is None:
                continue
            key = orjson.dumps(exchange.jsonrpc_id).decode()

            def answered(key: str = key) -> bool:
                return key in answers or "closed" in answers

            with arrived:
                got = arrived.wait_for(answered, timeout)
                reply = answers.pop(key, None)
            if reply is None:
                why = "the server exited" if got else f"no answer within {timeout:g} s"
                differences.append(
                    Difference(exchange.step, exchange.label(), _recorded(exchange), why)
                )
                if got:
                    break
                continue
            now = {"error": reply["error"]} if "error" in reply else {"result": reply.get("result")}
            if exchange.answer_kind is not None and now != _recorded(exchange):
                differences.append(
                    Difference(exchange.step, exchange.label(), _recorded(exchange), now)
                )
    finally:
        try:
            stdin.close()
        except OSError:
            pass
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    return differences


def _recorded(exchange: Exchange) -> Any:
    if exchange.answer_kind is None:
        return None
    return {exchange.answer_kind: exchange.answer}


__all__ = [
    "NO_RECORDED_ANSWER",
    "Difference",
    "Exchange",
    "ReplayServer",
    "first_difference",
    "match_key",
    "recorded_exchanges",
    "replay_against",
]
