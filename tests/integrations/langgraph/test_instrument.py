"""`instrument()` records runs that pass no callbacks; the handler never breaks the graph."""

from __future__ import annotations

import threading

import pytest
from langchain_core.messages import HumanMessage

from agentlog.integrations import langgraph as lg
from agentlog.model import EventType as T
from tests.integrations.langgraph.graphs import add, fan_out_graph, lookup, react_model


@pytest.fixture
def instrumented(recorder):
    handler = lg.instrument(log=recorder.log)
    yield handler
    lg.uninstrument()


def test_instrument_records_runs_without_callbacks_in_any_thread(recorder, instrumented):
    from langchain.agents import create_agent

    agent = create_agent(react_model(), [add, lookup])
    agent.invoke({"messages": [HumanMessage("hi")]})
    worker = threading.Thread(target=lambda: fan_out_graph().invoke({"n": 0, "trail": []}))
    worker.start()
    worker.join()
    rec = recorder.read()
    assert sorted(s.title for s in rec.sessions) == ["LangGraph", "LangGraph"]
    assert (
        len(rec.all(T.LLM_CALL)) == 2 and len(rec.all(T.STATE_UPDATE)) == 4 + 4
    )  # model, tools x2 (one per call), model


def test_an_explicit_callback_is_not_doubled(recorder, instrumented):
    fan_out_graph().invoke({"n": 0, "trail": []}, recorder.config())
    rec = recorder.read()
    assert len(rec.sessions) == 1 and len(rec.all(T.STATE_UPDATE)) == 4


def test_uninstrument_stops_recording(recorder):
    lg.instrument(log=recorder.log)
    assert lg.uninstrument() is True
    assert lg.uninstrument() is False
    fan_out_graph().invoke({"n": 0, "trail": []})
    assert recorder.read().sessions == []


def test_a_failing_recorder_never_reaches_the_graph(recorder, monkeypatch, caplog):
    from agentlog.sdk.handle import SessionHandle

    def refuse(*args, **kwargs):
        raise RuntimeError("recorder is broken")

    monkeypatch.setattr(SessionHandle, "event", refuse)
    monkeypatch.setattr(SessionHandle, "_emit", refuse)  # the handler's fast path
    monkeypatch.setattr(SessionHandle, "user_input", refuse)
    out = fan_out_graph().invoke({"n": 0, "trail": []}, recorder.config())
    assert sorted(out["trail"]) == ["a", "b", "c", "d"]
    assert "recorder is broken" in caplog.text
