"""`agentlog replay llm`: the real openai and anthropic clients get the recorded answers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from agentlog import AgentLog
from agentlog.compare import align
from agentlog.replay.llm_server import Replay, ReplayServer
from agentlog.replay.recorded import recorded_calls
from agentlog.storage import open_store
from agentlog.storage.base import EventQuery, SessionQuery

openai = pytest.importorskip("openai")

QUESTION = [{"role": "user", "content": "Is order 1042 refundable?"}]
TOOL_REPLY = {
    "role": "assistant",
    "content": None,
    "tool_calls": [
        {
            "id": "call_1",
            "type": "function",
            "function": {"name": "lookup_order", "arguments": '{"order": 1042}'},
        }
    ],
}
FINAL = {"role": "assistant", "content": "Yes, it is refundable."}


def lookup_order(order: int) -> str:
    return f"order {order}: delivered, refundable"


def agent(client, log: AgentLog, question: list[dict]) -> str:
    """A plain-Python agent on the openai client, recording its own calls with the SDK."""
    messages = list(question)
    with log.session("refund agent") as s:
        for _ in range(4):
            sent = list(messages)
            answer = client.chat.completions.create(model="gpt-4o", messages=sent)
            reply = answer.choices[0].message.model_dump(exclude_none=True)
            usage = answer.usage
            s.llm_call(
                model="gpt-4o",
                prompt=sent,
                response=reply,
                input_tokens=usage.prompt_tokens,
                output_tokens=usage.completion_tokens,
            )
            messages.append(reply)
            calls = answer.choices[0].message.tool_calls or []
            if not calls:
                return answer.choices[0].message.content or ""
            for call in calls:
                with s.tool_call(call.function.name, call.function.arguments) as tool:
                    result = lookup_order(**orjson.loads(call.function.arguments))
                    tool.result(result)
                messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
    return ""


def record_original(db: Path) -> str:
    """The run as it happened against the real model (its answers written by the SDK)."""
    log = AgentLog(str(db))
    with log.session("refund agent") as s:
        s.llm_call(
            model="gpt-4o", prompt=QUESTION, response=TOOL_REPLY, input_tokens=40, output_tokens=9
        )
        with s.tool_call("lookup_order", '{"order": 1042}') as tool:
            tool.result(lookup_order(1042))
        second = [
            *QUESTION,
            TOOL_REPLY,
            {"role": "tool", "tool_call_id": "call_1", "content": lookup_order(1042)},
        ]
        s.llm_call(model="gpt-4o", prompt=second, response=FINAL, input_tokens=70, output_tokens=7)
        sid = s.id
    log.close()
    return sid


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[ReplayServer, Path, str]]:
    db = tmp_path / "a.db"
    sid = record_original(db)
    with open_store(str(db)) as store:
        replay = Replay(recorded_calls(store, sid))
    server = ReplayServer(replay, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, db, sid
    server.shutdown()
    server.server_close()


def _events(db: Path, sid: str):
    with open_store(str(db)) as store:
        return store.list_events(EventQuery(session_id=sid, limit=100)).items


def test_the_openai_client_reproduces_the_recorded_session(served) -> None:
    server, db, original = served
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="replay", max_retries=0)
    log = AgentLog(str(db))
    assert agent(client, log, QUESTION) == "Yes, it is refundable."
    log.close()
    with open_store(str(db)) as store:
        replayed = next(s for s in store.list_sessions(SessionQuery()).items if s.id != original)
    rows, first = align(_events(db, original), _events(db, replayed.id))
    assert first is None, [(r.a and r.a.name, r.b and r.b.name) for r in rows if not r.same]
    assert server.replay.position == 2 and server.replay.divergences == []


def test_a_changed_prompt_is_refused_at_its_step(served) -> None:
    server, db, _ = served
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="replay", max_retries=0)
    log = AgentLog(str(db))
    with pytest.raises(openai.BadRequestError) as info:
        agent(client, log, [{"role": "user", "content": "Is order 7 refundable?"}])
    log.close()
    text = str(info.value)
    assert "diverges from the recording at step 1 (model call 1)" in text
    assert "'Is order 1042 refundable?', now 'Is order 7 refundable?'" in text


def test_streaming_answers_arrive_as_chunks(served) -> None:
    server = served[0]
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="replay", max_retries=0)
    stream = client.chat.completions.create(model="gpt-4o", messages=QUESTION, stream=True)
    calls = [
        c.choices[0].delta.tool_calls for c in stream if c.choices and c.choices[0].delta.tool_calls
    ]
    assert calls[0][0].function.name == "lookup_order"
    assert orjson.loads(calls[0][0].function.arguments) == {"order": 1042}


def test_the_anthropic_client_gets_the_same_answers(served) -> None:
    anthropic = pytest.importorskip("anthropic")
    server, _, _ = served
    client = anthropic.Anthropic(base_url=server.url, api_key="replay", max_retries=0)
    first = client.messages.create(model="claude", max_tokens=100, messages=QUESTION)
    (block,) = first.content
    assert (block.type, block.name, block.input) == ("tool_use", "lookup_order", {"order": 1042})
    assert first.stop_reason == "tool_use" and first.usage.input_tokens == 40
    second = [
        *QUESTION,
        TOOL_REPLY,
        {"role": "tool", "tool_call_id": "call_1", "content": lookup_order(1042)},
    ]
    with client.messages.stream(model="claude", max_tokens=100, messages=second) as stream:
        text = "".join(stream.text_stream)
    assert text == "Yes, it is refundable."


def test_a_run_past_the_recording_is_refused_as_exhausted_not_divergent(served) -> None:
    server, db, _ = served
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="replay", max_retries=0)
    log = AgentLog(str(db))
    assert agent(client, log, QUESTION) == "Yes, it is refundable."
    log.close()
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="gpt-4o", messages=QUESTION)
    assert info.value.code == "replay_exhausted"
    assert "model call 3 was asked, the recording has 2" in str(info.value)
    # the CLI reports it when the run ends, as it does a divergence
    assert server.replay.divergences == [
        "model call 3 was asked, the recording has 2: the run went further than the recorded one"
    ]
