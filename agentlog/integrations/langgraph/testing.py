"""An offline chat model that plays a script of replies (tool calls included): for tests and examples.

LangChain's fake chat models refuse `bind_tools`, so an agent cannot use them;
this one accepts the tools and returns its scripted `AIMessage`s in order,
usage metadata and all, so a real graph runs with no API key and no network.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage


class ScriptedChatModel(FakeMessagesListChatModel):
    """Replies with `responses` in turn (cycling); `bind_tools` is accepted and ignored."""

    model_name: str = "scripted"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedChatModel:
        return self

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> Any:
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_model_name"] = self.model_name
        return params


def reply(
    text: str = "",
    *,
    tools: Sequence[tuple[str, dict[str, Any]]] = (),
    tokens: tuple[int, int] | None = None,
    call_ids: Sequence[str] | None = None,
) -> AIMessage:
    """A scripted model reply: text, tool calls `(name, args)`, and `(input, output)` token usage."""
    calls = [
        {"name": name, "args": args, "id": (call_ids[i] if call_ids else f"call_{name}_{i}")}
        for i, (name, args) in enumerate(tools)
    ]
    usage = None
    if tokens is not None:
        usage = {"input_tokens": tokens[0], "output_tokens": tokens[1], "total_tokens": sum(tokens)}
    return AIMessage(text, tool_calls=calls, usage_metadata=usage)
