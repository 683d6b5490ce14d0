"""What the agent hands the SDK never makes it raise: odd exceptions and odd metadata."""

from __future__ import annotations

import pytest


class BrokenStr(Exception):
    def __str__(self) -> str:
        raise RuntimeError("str() of this exception fails")


def test_an_exception_whose_str_fails_is_recorded_and_stays_the_agents(make_log, fake) -> None:
    """str(error) ran unguarded: `with log.session()` and `tool_call` replaced the agent's
    exception with AgentLog's RuntimeError, and `s.error(exc)` raised it."""
    log = make_log(store=fake)
    with pytest.raises(BrokenStr), log.session("odd") as s:
        s.error(BrokenStr())
        with s.tool_call("fetch", {"u": 1}):
            raise BrokenStr()
    assert log.flush(10)
    errors = [e for e in fake.events.values() if str(e.type) == "ERROR"]
    assert len(errors) == 2  # s.error and the tool call's (the session sees it was logged)
    assert all(e.metadata["exception"] == "BrokenStr" for e in errors)
    assert all("str() failed" in e.metadata["message"] for e in errors)


def test_metadata_that_is_no_dict_never_raises_beside_a_level_or_an_error(make_log, fake) -> None:
    log = make_log(store=fake)
    with log.session("odd metadata") as s:
        s.log("a", level="warn", metadata=[1])
        s.error("b", metadata=5)
        s.error(ValueError("c"), metadata="text")
        s.log("kept", level="info")
    assert log.flush(10)
    assert [e.content for e in fake.events.values() if e.content == "kept"] == ["kept"]
