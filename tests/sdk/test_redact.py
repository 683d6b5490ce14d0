"""`AgentLog(redact=…)` and the `sdk.redact*` settings: secrets masked before anything is written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from agentlog.errors import ConfigError, UsageError
from agentlog.model import EventType
from agentlog.storage import open_store
from agentlog.storage.base import EventQuery, SessionQuery

KEY = "sk-abcdefghijklmnopqrstuvwx"
ROOT = Path(__file__).resolve().parents[2]


def test_patterns_and_keys_mask_every_text_before_the_store_sees_it(make_log, fake) -> None:
    log = make_log(store=fake, redact=["@secrets", r"order-\d+"], redact_keys=["password"])
    with log.session(f"run with {KEY}", description="order-7") as s:
        s.llm_call(
            model="gpt-4o",
            prompt=f"use {KEY} for order-42",
            response="done",
            metadata={"password": "hunter2", "nested": {"note": f"Bearer {KEY}"}, "n": 3},
        )
        s.event(EventType.TOOL_CALL, "order-9", name="lookup order-9")
    assert log.flush(timeout=10)
    written = repr(list(fake.sessions.values())) + repr(list(fake.events.values()))
    assert KEY not in written and "hunter2" not in written
    assert "order-42" not in written and "order-9" not in written
    (session,) = fake.sessions.values()
    assert session.title == "run with [REDACTED]" and session.description == "[REDACTED]"
    call = next(e for e in fake.events.values() if e.type is EventType.LLM_CALL)
    assert call.metadata["password"] == "[REDACTED]" and call.metadata["n"] == 3
    assert "[REDACTED]" in call.metadata["nested"]["note"]
    assert "done" in (call.content or "")  # what matches nothing is kept as it was


def test_the_settings_add_presets_and_keys(make_log, fake, monkeypatch) -> None:
    monkeypatch.setenv("AGENTLOG_SDK_REDACT", "@email")
    monkeypatch.setenv("AGENTLOG_SDK_REDACT_KEYS", "@secrets, session_cookie")
    log = make_log(store=fake, redact=[r"ticket-\d+"])
    with log.session() as s:
        s.log(
            "mail ana@example.com about ticket-12",
            metadata={"token": "t0ps3cret", "session_cookie": "c"},
        )
    assert log.flush(timeout=10)
    (event,) = [e for e in fake.events.values() if e.type is EventType.LOG]
    assert event.content == "mail [REDACTED] about [REDACTED]"
    assert event.metadata == {"token": "[REDACTED]", "session_cookie": "[REDACTED]"}


def test_a_local_store_never_holds_the_secret(tmp_path: Path, make_log) -> None:
    db = tmp_path / "masked.db"
    log = make_log(db=str(db), redact=["@secrets"])
    with log.session() as s:
        s.user_input(f"my key is {KEY}")
    log.close(timeout=10)
    assert KEY.encode() not in db.read_bytes()
    store = open_store(str(db))
    try:
        (session,) = store.list_sessions(SessionQuery()).items
        (event,) = store.list_events(EventQuery(session_id=session.id)).items
        assert event.content == "my key is [REDACTED]"
    finally:
        store.close()


def test_a_bad_pattern_fails_at_set_up_not_open(fake) -> None:
    from agentlog import AgentLog

    with pytest.raises(UsageError, match=r"redact: '\(unclosed' is not a valid regular"):
        AgentLog(store=fake, redact=["(unclosed"])
    with pytest.raises(UsageError, match="unknown preset '@passwords'"):
        AgentLog(store=fake, redact=["@passwords"])
    with pytest.raises(UsageError, match="take lists"):
        AgentLog(store=fake, redact="@secrets")  # type: ignore[arg-type]


def test_a_redaction_setting_that_cannot_be_read_stops_the_sdk(fake, monkeypatch) -> None:
    """Other broken settings fall back to defaults; one asking for masking must not."""
    from agentlog import AgentLog

    monkeypatch.setenv("AGENTLOG_SDK_REDACT", "@secrets,@passwords")
    with pytest.raises(ConfigError, match="takes the presets @secrets, @email"):
        AgentLog(store=fake)


def test_a_bad_redaction_setting_says_one_thing(tmp_path) -> None:
    """The set-up error is the only message: no 'using the defaults' line before it."""
    env = dict(os.environ, AGENTLOG_SDK_REDACT="@nope", PYTHONPATH=str(ROOT))
    code = f"from agentlog import AgentLog; AgentLog(db={str(tmp_path / 'a.db')!r})"
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode != 0
    assert "ConfigError" in proc.stderr and "@nope" in proc.stderr
    assert "using the defaults" not in proc.stderr
    assert not (tmp_path / "a.db").exists()


def test_no_redaction_asked_costs_nothing(make_log, fake) -> None:
    assert make_log(store=fake)._sink.redactor is None
