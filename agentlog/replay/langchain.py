"""`ReplayChatModel`: a LangChain chat model that answers with a session's recorded replies.

    model = ReplayChatModel.from_session(session_id)     # the local store, or store=...
    graph = build_graph(model)                           # the same agent, offline
    graph.invoke(inputs)

Each call is matched to the next recorded LLM_CALL by a hash of its messages (as the
LangGraph callback records them). A request that differs from the recording raises
`ReplayDivergence` naming the step and both requests' first difference (or, with
`strict=False`, is answered anyway and kept in `divergences`), so a changed prompt
is reported, never silently answered. Needs the `langgraph` extra.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import ConfigDict, Field

from agentlog.integrations.langgraph.mapping import message as message_dict
from agentlog.replay.recorded import (
    RecordedCall,
    ReplayDivergence,
    ReplayExhausted,
    first_difference,
    recorded_calls,
    request_hash,
)
from agentlog.storage.base import Store


class ReplayChatModel(BaseChatModel):
    """Plays back a recorded run's model answers, checking each request against the record."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    calls: list[RecordedCall]
    strict: bool = True
    position: int = 0
    divergences: list[str] = Field(default_factory=list)
    model_name: str = "agentlog-replay"

    @classmethod
    def from_session(
        cls, session_id: str, store: Store | None = None, *, strict: bool = True
    ) -> ReplayChatModel:
        """The recorded LLM calls of `session_id` (and its sub-sessions) from `store`."""
        from agentlog.storage import open_store

        owned = store is None
        source = open_store() if store is None else store
        try:
            from agentlog.cli.resolve import resolve_session_id

            sid = resolve_session_id(source, session_id)
            calls = recorded_calls(source, sid)
        finally:
            if owned:
                source.close()
        model = calls[0].model or "agentlog-replay"
        return cls(calls=calls, strict=strict, model_name=model)

    @property
    def _llm_type(self) -> str:
        return "agentlog-replay"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ReplayChatModel:
        return self  # the recorded answers already carry their tool calls

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> Any:
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_model_name"] = self.model_name
        return params

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.position >= len(self.calls):
            raise ReplayExhausted(
                f"the replayed run made model call {self.position + 1}, the recording has "
                f"{len(self.calls)}: the run went further than the recorded one"
            )
        recorded = self.calls[self.position]
        asked = [message_dict(m) for m in messages]
        if request_hash(asked) != recorded.request_hash:
            why = first_difference(recorded.prompt, asked)
            note = f"step {recorded.step + 1} (model call {self.position + 1}): {why}"
            if self.strict:
                raise ReplayDivergence(f"the replay diverges from the recording at {note}")
            self.divergences.append(note)
        self.position += 1
        return ChatResult(generations=[ChatGeneration(message=_answer(recorded))])


def _answer(recorded: RecordedCall) -> AIMessage:
    response = recorded.response
    if isinstance(response, dict):
        content = response.get("content") or ""
        calls = [
            {"name": c.get("name"), "args": c.get("args") or {}, "id": c.get("id")}
            for c in response.get("tool_calls") or []
        ]
    else:
        content, calls = ("" if response is None else str(response)), []
    usage = None
    if recorded.input_tokens is not None or recorded.output_tokens is not None:
        i, o = recorded.input_tokens or 0, recorded.output_tokens or 0
        usage = {"input_tokens": i, "output_tokens": o, "total_tokens": i + o}
    return AIMessage(content, tool_calls=calls, usage_metadata=usage)
