"""Session metadata over the limits costs that metadata only, never the session's title or end."""

from __future__ import annotations

import logging

import pytest

from agentlog.model import MAX_METADATA_BYTES


def _big() -> dict[str, int]:
    keys = MAX_METADATA_BYTES // 8
    return {f"key{i:05d}": i for i in range(keys)}


def test_an_oversized_metadata_update_keeps_the_session(make_log, fake, caplog) -> None:
    """update_metadata past 64 KiB made every later write of the session fail: it stayed
    '(untitled)' and active forever, its first row dropped with the update."""
    log = make_log(store=fake)
    with caplog.at_level(logging.WARNING), log.session("kept", tags=["t"]) as s:
        s.update_metadata({"step": 1})
        s.update_metadata(_big())
        s.log("after")
        sid = s.id
    assert log.flush(10)
    session = fake.sessions[sid]
    assert session.title == "kept" and session.tags == ["t"]
    assert str(session.status) == "completed" and session.ended_at is not None
    assert session.metadata["step"] == 1 and "key00000" not in session.metadata
    assert "metadata not updated" in caplog.text and "65,536 bytes" in caplog.text


def test_oversized_metadata_at_the_start_keeps_the_session(make_log, fake, caplog) -> None:
    log = make_log(store=fake)
    deep: dict = {}
    for _ in range(40):
        deep = {"d": deep}
    with caplog.at_level(logging.WARNING), log.session("titled", metadata={"x": deep}) as s:
        s.log("event")
        sid = s.id
    assert log.flush(10)
    session = fake.sessions[sid]
    assert session.title == "titled" and str(session.status) == "completed"
    assert "x" not in session.metadata and "agentlog" in session.metadata
    assert "nested deeper than 32" in caplog.text


@pytest.mark.parametrize(
    ("tags", "kept"),
    [
        (5, []),  # TypeError into the agent before
        (["ok", 7, "x" * 101], ["ok"]),  # the whole session was dropped before
        ([f"t{i}" for i in range(150)], [f"t{i}" for i in range(100)]),
        ("one", ["one"]),
    ],
)
def test_tags_the_row_cannot_hold_cost_the_tags_not_the_session(
    make_log, fake, caplog, tags, kept
) -> None:
    log = make_log(store=fake)
    with caplog.at_level(logging.WARNING), log.session("tagged", tags=tags) as s:
        s.log("event")
        sid = s.id
    assert log.flush(10)
    session = fake.sessions[sid]
    assert session.title == "tagged" and session.tags == kept
    assert str(session.status) == "completed"
    assert ("session tags" in caplog.text) == (tags != "one")


def test_a_long_title_description_or_agent_id_is_cut_not_the_session(make_log, fake, caplog):
    """A title over 1,000 characters (a user's first message, say) dropped the session row,
    and an agent id over 200 characters dropped every event of the session."""
    log = make_log(store=fake)
    with caplog.at_level(logging.WARNING):
        with log.session("T" * 5_000, description="D" * 20_000, agent_id="a" * 500) as s:
            s.log("event")
            sid = s.id
        with log.session(title=42) as numbered:  # not text: its str() is the title
            pass
    assert log.flush(10)
    session = fake.sessions[sid]
    assert session.title == "T" * 1_000 and session.description == "D" * 10_000
    assert str(session.status) == "completed"
    (event,) = [e for e in fake.events.values() if e.session_id == sid]
    assert event.agent_id == "a" * 200
    assert fake.sessions[numbered.id].title == "42"
    assert "session title is 5,000 characters; the limit is 1,000" in caplog.text
