"""A session's recorded model calls, in order, with a hash of each request to match replays by."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson

from agentlog.errors import AgentLogError, NotFound
from agentlog.model import EventType
from agentlog.storage.base import EventQuery, SessionQuery, Store, iter_events, iter_sessions


class ReplayDivergence(AgentLogError):
    """The replayed run asked something the recording did not: where and how."""

    code = "replay_divergence"
    # What `agentlog replay llm` answers: 400, not 409, which OpenAI's SDK would retry.
    http_status = 400


class ReplayExhausted(AgentLogError):
    """The replayed run made more model calls than the recording holds."""

    code = "replay_exhausted"
    http_status = 400


@dataclass(frozen=True)
class RecordedCall:
    """One LLM_CALL of the recording: its request (as recorded), its answer and usage."""

    step: int
    event_id: str
    model: str | None
    prompt: Any
    response: Any
    input_tokens: int | None
    output_tokens: int | None
    request_hash: str = field(repr=False, default="")


def request_hash(prompt: Any) -> str:
    """A stable digest of a request's messages (keys sorted, whitespace ignored).

    An assistant message's `name` is left out: frameworks stamp the agent's name on the
    model's answer at different moments (LangChain's `create_agent(name=…)` does so after
    the callbacks saw it), and it is not what the model was asked.
    """
    if isinstance(prompt, list):
        prompt = [
            {k: v for k, v in m.items() if k != "name"}
            if isinstance(m, dict) and m.get("role") == "assistant"
            else m
            for m in prompt
        ]
    data = orjson.dumps(prompt, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str)
    return hashlib.sha256(data).hexdigest()[:16]


def recorded_calls(
    store: Store, session_id: str, *, with_children: bool = True
) -> list[RecordedCall]:
    """The session's LLM_CALLs (and its child sessions', in time order) as replayable answers."""
    ids = [session_id]
    if with_children:
        ids += [s.id for s in iter_sessions(store, SessionQuery(parent_session_id=session_id))]
    events = [
        e
        for sid in ids
        for e in iter_events(store, EventQuery(session_id=sid, types=[EventType.LLM_CALL]))
    ]
    if not events:
        raise NotFound(
            f"session {session_id} has no LLM_CALL events to replay; record the run with the "
            "LangGraph callback or the SDK's llm_call first"
        )
    events.sort(key=lambda e: (e.timestamp, e.id))
    calls = []
    for step, event in enumerate(events):
        try:
            body = orjson.loads(event.content or "null")
        except orjson.JSONDecodeError:
            body = {"response": event.content}
        if not isinstance(body, dict):
            body = {"response": body}
        prompt = body.get("prompt")
        calls.append(
            RecordedCall(
                step=step,
                event_id=event.id,
                model=event.name,
                prompt=prompt,
                response=body.get("response"),
                input_tokens=event.input_tokens,
                output_tokens=event.output_tokens,
                request_hash=request_hash(prompt),
            )
        )
    return calls


def first_difference(recorded: Any, asked: list[Any]) -> str:
    """Where a replayed request first differs from the recorded one, in one short phrase."""
    before = recorded if isinstance(recorded, list) else [recorded]
    for index, (was, now) in enumerate(zip(before, asked, strict=False)):
        if was != now:
            return f"message {index + 1} was {_short(was)}, now {_short(now)}"
    return f"the recording sent {len(before)} message(s), the replay {len(asked)}"


def _short(value: Any) -> str:
    text = str(value.get("content") if isinstance(value, dict) else value)
    text = " ".join(text.split())
    return repr(text if len(text) <= 60 else text[:59] + "…")
