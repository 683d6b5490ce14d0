"""`agentlog replay llm SESSION`: OpenAI- and Anthropic-compatible endpoints that answer
with a session's recorded model replies, on loopback, with no key and no network.

    agentlog replay llm latest --port 8300 &
    OPENAI_BASE_URL=http://127.0.0.1:8300/v1 python my_agent.py
    ANTHROPIC_BASE_URL=http://127.0.0.1:8300 python my_agent.py

`POST /v1/chat/completions` and `POST /v1/messages` take the next recorded call,
check the request's messages against the recording (a hash, as `ReplayChatModel`
does) and answer in the provider's shape, streamed (SSE) when the request asks.
A request that differs is refused with 400 `replay_divergence` naming the step and
the first differing message — reported, never answered from the wrong record; a
request past the recording's last call is refused with 400 `replay_exhausted`.

With `fork_at=N` and an `upstream` URL, model calls before N are answered from the
record (and checked) and call N and every later one are forwarded unchanged to the
real model API (headers and body as the agent sent them, the answer streamed back
as it comes): change one answer and see where the run goes from there.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import orjson

from agentlog.replay.recorded import (
    RecordedCall,
    ReplayDivergence,
    ReplayExhausted,
    first_difference,
    request_hash,
)
from agentlog.tls import tls_verify


class Live:
    """What `Replay.take` answers from the fork on: send this call to the real model."""


LIVE = Live()
# Not forwarded to the live model: this hop's own framing (httpx sets its own), and
# Accept-Encoding, so the answer comes back as the bytes the agent can read.
_HOP_HEADERS = {
    "host",
    "content-length",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "accept-encoding",
}


class Replay:
    """The recorded calls and how far the replay has got (one lock: calls come in order)."""

    def __init__(
        self, calls: list[RecordedCall], fork_at: int | None = None, upstream: str | None = None
    ) -> None:
        self.calls = calls
        self.position = 0
        self.divergences: list[str] = []
        self.lock = threading.Lock()
        self.fork_at = fork_at  # the first model call (1-based) answered live
        self.upstream = upstream.rstrip("/") if upstream else None
        self.live_calls = 0

    @property
    def forked(self) -> str | None:
        """Where the run left the record, once it has."""
        if self.fork_at is None or not self.live_calls:
            return None
        return (
            f"forked at model call {self.fork_at}: {self.live_calls} call(s) answered live "
            f"by {self.upstream}"
        )

    def take(self, asked: Any) -> RecordedCall | Live | ReplayDivergence | ReplayExhausted:
        """The next recorded call for this request, LIVE past the fork, or why it cannot be answered
        (kept in `divergences` too, which the CLI reports when the run ends)."""
        with self.lock:
            if self.fork_at is not None and self.position + 1 >= self.fork_at:
                self.position += 1
                self.live_calls += 1
                return LIVE
            if self.position >= len(self.calls):
                exhausted = ReplayExhausted(
                    f"model call {self.position + 1} was asked, the recording has "
                    f"{len(self.calls)}: the run went further than the recorded one"
                )
                self.divergences.append(exhausted.message)
                return exhausted
            recorded = self.calls[self.position]
            if request_hash(asked) != request_hash(_normal(recorded.prompt)):
                why = (
                    f"the replay diverges from the recording at step {recorded.step + 1} "
                    f"(model call {self.position + 1}): {_difference(recorded.prompt, asked)}"
                )
                self.divergences.append(why)
                return ReplayDivergence(why)
            self.position += 1
            return recorded


def _normal(prompt: Any) -> Any:
    """Messages as the endpoints compare them: role and content (text parts joined)."""
    if not isinstance(prompt, list):
        return prompt
    out = []
    for message in prompt:
        if not isinstance(message, dict):
            out.append(message)
            continue
        content = message.get("content")
        if isinstance(content, list):  # content parts: keep their text
            content = (
                "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
                or orjson.dumps(content).decode()
            )
        out.append({"role": message.get("role"), "content": content})
    return out


def _difference(recorded: Any, asked: Any) -> str:
    before = _normal(recorded)
    if isinstance(before, list) and isinstance(asked, list):
        return first_difference(before, asked)
    return "the request differs from the recording"


def _reply(recorded: RecordedCall) -> tuple[str, list[dict[str, Any]]]:
    """The recorded answer's text and tool calls (name, args, id), whichever shape it was
    recorded in: LangChain's (as the LangGraph callback records), OpenAI's or Anthropic's."""
    response = recorded.response
    if isinstance(response, dict) and isinstance(response.get("choices"), list):
        response = (response["choices"] or [{}])[0].get("message") or {}  # a whole completion
    if not isinstance(response, dict):
        return ("" if response is None else str(response)), []
    content = response.get("content") or ""
    calls: list[dict[str, Any]] = []
    if isinstance(content, list):  # Anthropic content blocks
        text = "".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
        calls += [
            {"name": b.get("name"), "args": b.get("input") or {}, "id": b.get("id")}
            for b in content
            if isinstance(b, dict) and b.get("type") == "tool_use"
        ]
    else:
        text = str(content)
    for call in response.get("tool_calls") or []:
        function = call.get("function")
        if isinstance(function, dict):  # OpenAI: arguments are JSON text
            try:
                args = orjson.loads(function.get("arguments") or "{}")
            except orjson.JSONDecodeError:
                args = {}
            calls.append({"name": function.get("name"), "args": args, "id": call.get("id")})
        else:
            calls.append(
                {"name": call.get("name"), "args": call.get("args") or {}, "id": call.get("id")}
            )
    for i, call in enumerate(calls):
        call["id"] = call["id"] or f"call_{recorded.step}_{i}"
    return text, calls


# ---------------------------------------------------------------- OpenAI
def openai_completion(recorded: RecordedCall, model: str) -> dict[str, Any]:
    text, calls = _reply(recorded)
    message: dict[str, Any] = {"role": "assistant", "content": text or None}
    if calls:
        message["tool_calls"] = [
            {
                "id": c["id"],
                "type": "function",
                "function": {"name": c["name"], "arguments": orjson.dumps(c["args"]).decode()},
            }
            for c in calls
        ]
    i, o = recorded.input_tokens or 0, recorded.output_tokens or 0
    return {
        "id": f"chatcmpl-replay-{recorded.step}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": recorded.model or model,
        "choices": [
            {"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}
        ],
        "usage": {"prompt_tokens": i, "completion_tokens": o, "total_tokens": i + o},
    }


def openai_chunks(recorded: RecordedCall, model: str) -> Iterator[dict[str, Any]]:
    whole = openai_completion(recorded, model)
    base = {k: whole[k] for k in ("id", "created", "model")} | {"object": "chat.completion.chunk"}
    message = whole["choices"][0]["message"]
    yield base | {"choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]}
    if message.get("content"):
        delta = {"content": message["content"]}
        yield base | {"choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
    for index, call in enumerate(message.get("tool_calls") or []):
        delta = {"tool_calls": [{"index": index, **call}]}
        yield base | {"choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
    finish = whole["choices"][0]["finish_reason"]
    yield base | {"choices": [{"index": 0, "delta": {}, "finish_reason": finish}]}
    yield base | {"choices": [], "usage": whole["usage"]}


def openai_messages(body: dict[str, Any]) -> Any:
    return _normal(body.get("messages") or [])


# ---------------------------------------------------------------- Anthropic
def anthropic_message(recorded: RecordedCall, model: str) -> dict[str, Any]:
    text, calls = _reply(recorded)
    content: list[dict[str, Any]] = []
    if text:
        content.append({"type": "text", "text": text})
    content += [
        {"type": "tool_use", "id": c["id"], "name": c["name"], "input": c["args"]} for c in calls
    ]
    return {
        "id": f"msg_replay_{recorded.step}",
        "type": "message",
        "role": "assistant",
        "model": recorded.model or model,
        "content": content,
        "stop_reason": "tool_use" if calls else "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": recorded.input_tokens or 0,
            "output_tokens": recorded.output_tokens or 0,
        },
    }


def anthropic_events(recorded: RecordedCall, model: str) -> Iterator[tuple[str, dict[str, Any]]]:
    whole = anthropic_message(recorded, model)
    start = whole | {"content": [], "stop_reason": None}
    start["usage"] = {"input_tokens": whole["usage"]["input_tokens"], "output_tokens": 0}
    yield "message_start", {"type": "message_start", "message": start}
    for index, block in enumerate(whole["content"]):
        opening: dict[str, Any]
        if block["type"] == "text":
            opening = {"type": "text", "text": ""}
            delta = {"type": "text_delta", "text": block["text"]}
        else:
            opening = {**block, "input": {}}
            delta = {
                "type": "input_json_delta",
                "partial_json": orjson.dumps(block["input"]).decode(),
            }
        yield (
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": opening},
        )
        yield "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    yield (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": whole["stop_reason"], "stop_sequence": None},
            "usage": {"output_tokens": whole["usage"]["output_tokens"]},
        },
    )
    yield "message_stop", {"type": "message_stop"}


def anthropic_messages(body: dict[str, Any]) -> Any:
    messages = list(body.get("messages") or [])
    system = body.get("system")
    if system:
        messages = [{"role": "system", "content": system}, *messages]
    return _normal(messages)


# ---------------------------------------------------------------- HTTP
class ReplayServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, replay: Replay, host: str = "127.0.0.1", port: int = 8300) -> None:
        self.replay = replay
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class _Handler(BaseHTTPRequestHandler):
    server: ReplayServer
    protocol_version = "HTTP/1.1"
    _raw = b""  # the request body as it came (what a live call forwards)

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _stream(self, frames: Iterator[bytes]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        for frame in frames:
            self.wfile.write(frame)
            self.wfile.flush()

    def _forward(self) -> None:
        """Send the request as it came to the live model and stream its answer back."""
        upstream = self.server.replay.upstream or ""
        path = self.path
        if upstream.endswith("/v1") and path.startswith("/v1/"):
            path = path[3:]  # --upstream https://api.openai.com/v1 and a client's /v1/...
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS}
        try:
            with (
                httpx.Client(
                    verify=tls_verify(upstream), timeout=httpx.Timeout(600.0, connect=10.0)
                ) as client,
                client.stream("POST", upstream + path, content=self._raw, headers=headers) as r,
            ):
                self.send_response(r.status_code)
                self.send_header("Content-Type", r.headers.get("content-type", "application/json"))
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                for chunk in r.iter_raw():
                    self.wfile.write(chunk)
                    self.wfile.flush()
        except httpx.HTTPError as exc:
            why = f"the live model at {upstream} did not answer: {exc}"
            self._send(502, orjson.dumps({"error": {"message": why, "type": "replay_upstream"}}))

    def do_POST(self) -> None:
        path = self.path.split("?")[0].rstrip("/")
        length = int(self.headers.get("Content-Length") or 0)
        self._raw = self.rfile.read(length) if length else b""
        try:
            body = orjson.loads(self._raw or b"{}")
        except orjson.JSONDecodeError:
            self._send(400, orjson.dumps({"error": {"message": "the body is not JSON"}}))
            return
        if not isinstance(body, dict):
            self._send(400, orjson.dumps({"error": {"message": "the body must be an object"}}))
            return
        model = str(body.get("model") or "replay")
        if path.endswith("/chat/completions"):
            self._openai(body, model)
        elif path.endswith("/messages"):
            self._anthropic(body, model)
        else:
            self._send(
                404,
                orjson.dumps(
                    {
                        "error": {
                            "message": f"no route {path!r}; use "
                            "/v1/chat/completions or /v1/messages"
                        }
                    }
                ),
            )

    def _openai(self, body: dict[str, Any], model: str) -> None:
        taken = self.server.replay.take(openai_messages(body))
        if isinstance(taken, Live):
            self._forward()
            return
        if isinstance(taken, ReplayDivergence | ReplayExhausted):
            error = {"message": taken.message, "type": taken.code, "code": taken.code}
            self._send(400, orjson.dumps({"error": error}))
            return
        if body.get("stream"):
            frames = (b"data: " + orjson.dumps(c) + b"\n\n" for c in openai_chunks(taken, model))
            self._stream(_then(frames, b"data: [DONE]\n\n"))
        else:
            self._send(200, orjson.dumps(openai_completion(taken, model)))

    def _anthropic(self, body: dict[str, Any], model: str) -> None:
        taken = self.server.replay.take(anthropic_messages(body))
        if isinstance(taken, Live):
            self._forward()
            return
        if isinstance(taken, ReplayDivergence | ReplayExhausted):
            error = {
                "type": "error",
                "error": {"type": "invalid_request_error", "message": taken.message},
            }
            self._send(400, orjson.dumps(error))
            return
        if body.get("stream"):
            self._stream(
                f"event: {name}\ndata: ".encode() + orjson.dumps(data) + b"\n\n"
                for name, data in anthropic_events(taken, model)
            )
        else:
            self._send(200, orjson.dumps(anthropic_message(taken, model)))


def _then(frames: Iterator[bytes], last: bytes) -> Iterator[bytes]:
    yield from frames
    yield last
