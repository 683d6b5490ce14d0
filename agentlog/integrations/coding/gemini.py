"""Gemini CLI saved chats (`~/.gemini/tmp/<project hash>/chats/session-*.json`) as sessions.

Checked against gemini-cli-core's `ChatRecordingService` (0.x, 2025): one JSON
document a session, rewritten whole after each change: `sessionId`,
`projectHash`, `startTime`, `lastUpdated` and `messages`, each with `id`
(a UUID), `timestamp`, `type` (user | gemini | info | error | warning) and
`content` (text, or Gemini API parts in newer versions); a `gemini` message
carries `model`, `tokens` (`input` including `cached`, `output`, `thoughts`,
`tool`, `total`) and `toolCalls` (`id`, `name`, `args`, `status`, `result` as
`functionResponse` parts), which the CLI fills in place as they complete.

The mapping: a user message is USER_INPUT; a gemini message one LLM_CALL with
its text, model, tokens and cost (thought tokens are billed as output); each
tool call a TOOL_CALL under it and, once it has finished, a TOOL_RESULT;
info/warning messages are LOG and error messages ERROR. Ids are the messages'
own, so re-reading a rewritten file adds only what is new.
"""

from __future__ import annotations

from typing import Any

from agentlog.fastcheck import event_of
from agentlog.integrations.coding.common import (
    EventBuffer,
    as_text,
    as_uuid,
    count,
    fit,
    stable_id,
    tool_metadata,
    tool_result,
    when,
)
from agentlog.integrations.pricing import usage_cost
from agentlog.model import EventStatus, EventType, Session, SessionStatus, format_ts

SOURCE = "gemini"
AGENT = "gemini-cli"
FINISHED = {"success": EventStatus.OK, "error": EventStatus.ERROR, "cancelled": EventStatus.ERROR}


def parts_text(value: Any) -> str:
    """Gemini API parts (or plain text) as text: text parts joined, function responses as JSON."""
    if value is None or isinstance(value, str):
        return value or ""
    items = value if isinstance(value, list) else [value]
    out = []
    for part in items:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, dict) and "text" in part:
            out.append(str(part["text"]))
        elif isinstance(part, dict) and isinstance(part.get("functionResponse"), dict):
            response = part["functionResponse"].get("response")
            if isinstance(response, dict) and set(response) <= {"output", "error"}:
                out.append(as_text(response.get("output", response.get("error"))))
            else:
                out.append(as_text(response))
        elif isinstance(part, dict) and ("inlineData" in part or "fileData" in part):
            out.append("[file]")
        else:
            out.append(as_text(part))
    return "\n".join(out)


class GeminiMapper(EventBuffer):
    """Maps one saved chat document; `state()` remembers how many messages are final."""

    def __init__(self, state: dict[str, Any] | None = None, links: Any = None) -> None:
        super().__init__()
        state = state or {}
        self.done: int = int(state.get("done", 0))
        self.done_id: str | None = state.get("done_id")
        self.session: Session | None = None
        self.skipped = 0
        self.problems: list[tuple[str, str]] = []  # (where, why) for messages that cannot map

    def state(self) -> dict[str, Any]:
        return {"done": self.done, "done_id": self.done_id}

    def feed_document(self, doc: Any) -> None:
        if not isinstance(doc, dict) or not isinstance(doc.get("messages"), list):
            raise ValueError("not a Gemini CLI chat: expected an object with a messages list")
        gemini_sid = str(doc.get("sessionId") or "")
        if not gemini_sid:
            raise ValueError("the chat has no sessionId")
        sid = as_uuid(gemini_sid, SOURCE, "session")
        messages = doc["messages"]
        start = self.done
        if not (0 < start <= len(messages)) or (
            isinstance(messages[start - 1], dict) and messages[start - 1].get("id") != self.done_id
        ):
            start = 0  # a different or rewritten history: read it all again (ids dedupe)
        title = ""
        model = None
        for index, msg in enumerate(messages):
            if not isinstance(msg, dict):
                continue
            if msg.get("type") == "user" and not title:
                title = " ".join(parts_text(msg.get("content")).split())[:120]
            model = msg.get("model") or model
            if index < start:
                continue
            try:
                self._message(sid, msg, last=index == len(messages) - 1)
            except ValueError as exc:
                self.problems.append((f"message {index + 1}", str(exc)))
        # The last message can still change in place (tool results, tokens): read it again.
        self.done = max(len(messages) - 1, 0)
        self.done_id = (
            str(messages[self.done - 1].get("id"))
            if self.done and isinstance(messages[self.done - 1], dict)
            else None
        )
        created = when(doc.get("startTime")) or when(
            messages[0].get("timestamp") if messages and isinstance(messages[0], dict) else None
        )
        updated = when(doc.get("lastUpdated")) or created
        if created is None or updated is None:
            raise ValueError("the chat has no startTime or lastUpdated time")
        project = str(doc.get("projectHash") or "")
        meta: dict[str, Any] = {"source": SOURCE, "gemini_session_id": gemini_sid}
        if project:
            meta["project_hash"] = project
        if model:
            meta["model"] = str(model)
        tags = [SOURCE] + ([f"project:{project[:12]}"] if project else [])
        self.session = Session(
            id=sid,
            title=title,
            status=SessionStatus.COMPLETED,
            tags=tags,
            metadata=meta,
            created_at=min(created, updated),
            updated_at=updated,
            ended_at=updated,
        )

    def _taken_sessions(self) -> list[Session]:
        sessions = [self.session] if self.session is not None else []
        self.session = None
        return sessions

    def _message(self, sid: str, msg: dict[str, Any], *, last: bool) -> None:
        ts = when(msg.get("timestamp"))
        if ts is None:
            raise ValueError("the message has no valid timestamp")
        kind = msg.get("type")
        mid = as_uuid(msg.get("id"), SOURCE, sid, "message", format_ts(ts))
        text, cut = fit(parts_text(msg.get("content")))
        meta: dict[str, Any] = {"cut_bytes": cut} if cut else {}
        if kind == "user":
            self._add(
                event_of(
                    id=mid,
                    session_id=sid,
                    timestamp=ts,
                    type=EventType.USER_INPUT,
                    agent_id=None,  # a person, not an agent
                    name="user",
                    content=text,
                    metadata=meta,
                )
            )
        elif kind == "gemini":
            self._gemini(sid, mid, msg, ts, text, meta, last=last)
        elif kind in ("info", "warning", "error"):
            self._add(
                event_of(
                    id=mid,
                    session_id=sid,
                    timestamp=ts,
                    type=EventType.ERROR if kind == "error" else EventType.LOG,
                    agent_id=AGENT,
                    name=str(kind),
                    content=text,
                    metadata=meta,
                    status=EventStatus.ERROR if kind == "error" else EventStatus.OK,
                )
            )
        else:
            self.skipped += 1

    def _gemini(
        self,
        sid: str,
        mid: str,
        msg: dict[str, Any],
        ts: Any,
        text: str,
        meta: dict[str, Any],
        *,
        last: bool,
    ) -> None:
        tokens = msg.get("tokens") if isinstance(msg.get("tokens"), dict) else None
        if tokens is None and last:
            return  # its token count is still to come: the next read records it whole
        model = str(msg.get("model") or "") or None
        thoughts = msg.get("thoughts") if isinstance(msg.get("thoughts"), list) else []
        if thoughts:
            meta["thoughts"] = len(thoughts)
        prompt = cached = output = thought = 0
        if tokens:
            prompt = count(tokens.get("input"))
            cached = min(count(tokens.get("cached")), prompt)
            output = count(tokens.get("output"))
            thought = count(tokens.get("thoughts"))
            if count(tokens.get("tool")):
                meta["tool_tokens"] = count(tokens.get("tool"))
        self._add(
            event_of(
                id=mid,
                session_id=sid,
                timestamp=ts,
                type=EventType.LLM_CALL,
                agent_id=AGENT,
                name=model,
                content=text or None,
                metadata=meta,
                input_tokens=prompt if tokens else None,
                output_tokens=output + thought if tokens else None,
                cache_read_tokens=cached if tokens else None,
                reasoning_tokens=thought if tokens else None,
                cost_usd=usage_cost(
                    model,
                    input_tokens=prompt - cached,
                    output_tokens=output + thought,
                    cache_read_tokens=cached,
                )
                if tokens
                else None,
            )
        )
        for call in msg.get("toolCalls") or []:
            if isinstance(call, dict):
                self._tool(sid, mid, call, ts)

    def _tool(self, sid: str, llm_id: str, call: dict[str, Any], default_ts: Any) -> None:
        call_id = str(call.get("id") or "")
        name = str(call.get("name") or "tool")
        if not call_id:
            raise ValueError(f"a tool call ({name}) has no id")
        ts = when(call.get("timestamp"), default_ts)
        call_event = stable_id(SOURCE, sid, "tool", call_id)
        args, cut = fit(as_text(call.get("args")))
        meta = tool_metadata(name, call_id)
        if cut:
            meta["cut_bytes"] = cut
        if call.get("displayName"):
            meta["display_name"] = str(call["displayName"])[:200]
        self._add(
            event_of(
                id=call_event,
                session_id=sid,
                timestamp=ts,
                type=EventType.TOOL_CALL,
                agent_id=AGENT,
                name=name[:200],
                content=args,
                metadata=meta,
                parent_id=llm_id,
            )
        )
        status = FINISHED.get(str(call.get("status")))
        if status is None:
            return  # still running or awaiting approval: its result comes in a later read
        result, cut = fit(parts_text(call.get("result")) or str(call.get("resultDisplay") or ""))
        rmeta: dict[str, Any] = {"tool_call_id": call_id, "status": str(call.get("status"))}
        if cut:
            rmeta["cut_bytes"] = cut
        self._add(
            tool_result(
                SOURCE,
                sid,
                call_id,
                at=ts,
                agent=AGENT,
                content=result,
                metadata=rmeta,
                parent_id=call_event,
                status=status,
            )
        )


__all__ = ["SOURCE", "GeminiMapper", "parts_text"]
