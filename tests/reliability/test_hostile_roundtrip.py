"""Hostile text in every field — SQL and FTS syntax, terminal escapes, HTML, CSV formulas, bidi
overrides — goes in through the API, out through the server's export, into a local store by
import, and on to PostgreSQL by `migrate`, and arrives byte for byte as inert text that full-text
search still finds on every store."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agentlog.model import Event, Session
from agentlog.storage import open_store
from agentlog.storage.base import EventQuery
from agentlog.storage.sqlite.store import SQLiteStore
from agentlog.transfer.importer import import_file
from agentlog.transfer.migrate import Migration

HOSTILE = [
    "'; DROP TABLE events; -- quince",
    '"unterminated NEAR( OR * quince',
    "\x1b[2J\x1b]52;c;cHduZWQ=\x07\x1b]8;;http://evil\x1b\\quince\x1b]8;;\x1b\\",
    "<script>alert(1)</script><img src=x onerror=alert(1)> quince",
    '=HYPERLINK("http://evil","quince")',
    "+1+1 quince",
    "@SUM(A1) quince",
    "\u202equince txt.exe\u202c \u200b\ufeff",
    "🦜 quince 中文 العربية",
]


def _session_and_events() -> tuple[Session, list[Event]]:
    s = Session(
        title=HOSTILE[0],
        description=HOSTILE[3],
        tags=HOSTILE[4:7],
        metadata={h: h for h in HOSTILE},
    )
    events = [
        Event(session_id=s.id, type="TOOL_CALL", agent_id=h[:200], name=h[:200], content=h,
              metadata={h: [h, {h: h}]})
        for h in HOSTILE
    ]  # fmt: skip
    return s, events


def _same(store, session: Session, events: list[Event]) -> None:
    got = store.get_session(session.id)
    assert (got.title, got.description, got.tags, got.metadata) == (
        session.title,
        session.description,
        session.tags,
        session.metadata,
    )
    stored = {e.id: e for e in store.list_events(EventQuery(session_id=session.id)).items}
    for e in events:
        kept = stored[e.id]
        assert (kept.agent_id, kept.name, kept.content, kept.metadata) == (
            e.agent_id,
            e.name,
            e.content,
            e.metadata,
        )
    store.flush_index()
    assert store.count_events(EventQuery(text="quince")) == len(events)
    assert store.count_events(EventQuery(text="DROP TABLE events")) == 1


def test_hostile_text_round_trips_api_export_import_migrate(srv, world, tmp_path: Path) -> None:
    session, events = _session_and_events()
    body = {"sessions": [session.to_json_dict()], "events": [e.to_json_dict() for e in events]}
    assert (
        world.client.post("/v1/events:batch", json=body, headers=world.member.h).status_code == 200
    )
    _same(srv.app.state.agentlog.store.scoped(world.member.user.team_id), session, events)

    exported = world.client.post(f"/v1/sessions/{session.id}/export", headers=world.member.h)
    assert exported.status_code == 200
    file = tmp_path / "export.ndjson"
    file.write_bytes(exported.content)
    with SQLiteStore(tmp_path / "local.db") as local:
        report = import_file(local, file)
        assert report.ok and report.events.imported == len(events), report.to_dict()
        _same(local, session, events)

        pg = os.environ.get("AGENTLOG_TEST_POSTGRES_URL")
        if not pg:
            pytest.skip("needs AGENTLOG_TEST_POSTGRES_URL for the migrate leg")
        from agentlog.storage.postgres.testing import drop_schema, new_schema_url

        url, schema = new_schema_url("hostile")
        try:
            target = open_store(url)
            try:
                moved = Migration(local, target).run()
                assert moved.ok and not moved.mismatches
                _same(target, session, events)
            finally:
                target.close()
        finally:
            drop_schema(schema)
