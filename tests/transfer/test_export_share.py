"""Export selection and files, share with redaction, and viewing an export without importing it."""

from __future__ import annotations

import errno
import gzip
import io
from pathlib import Path
from typing import Any

import orjson
import pytest

from agentlog.errors import DiskFull, NotFound, ReadOnlyStore, UsageError
from agentlog.model import EventType, SessionStatus, SessionUpdate
from agentlog.storage.base import EventQuery, SessionQuery, Store
from agentlog.transfer import fileio
from agentlog.transfer.export import Selection, estimate_events, export
from agentlog.transfer.importer import import_file
from agentlog.transfer.redact import MASK, Redactor
from agentlog.transfer.share import share_session
from agentlog.transfer.viewer import open_file_as_store
from tests.support.portability import T0, fill, lines, make_event, make_session


def kinds(path: Path) -> list[str]:
    return [r.get("kind", "header") for r in lines(path)]


def test_event_filters_pick_events_and_drop_sessions_without_matches(store, tmp_path) -> None:
    sessions = fill(store, sessions=3, events=6)
    store.write([], [make_event(sessions[2], 40, content="a needle here", type=EventType.ERROR)])
    out = tmp_path / "x.ndjson"
    stats = export(store, Selection(types=[EventType.ERROR]), "ndjson", out)
    assert (stats.sessions, stats.events) == (1, 1)
    stats = export(store, Selection(text="needle"), "ndjson", out)
    assert stats.events == 1 and lines(out)[2]["content"] == "a needle here"
    stats = export(store, Selection(agents=["coder"]), "ndjson", out)
    assert stats.events == 6 and {
        r["agent_id"] for r in lines(out)[1:] if r["kind"] == "event"
    } == {"coder"}
    stats = export(store, Selection(since=T0.replace(second=4)), "ndjson", out)
    assert stats.events == 3 * 2 + 1


def test_session_filters_and_explicit_ids(store, tmp_path) -> None:
    sessions = fill(store, sessions=3, events=2)
    store.update_session(sessions[1].id, SessionUpdate(status=SessionStatus.FAILED))
    out = tmp_path / "x.ndjson"
    assert export(store, Selection(status=SessionStatus.FAILED), "ndjson", out).sessions == 1
    assert export(store, Selection(tags=["t"]), "ndjson", out).sessions == 2
    stats = export(store, Selection(session_ids=(sessions[2].id, sessions[0].id)), "ndjson", out)
    assert [r["id"] for r in lines(out)[1:] if r["kind"] == "session"] == [
        sessions[2].id,
        sessions[0].id,
    ]
    assert stats.events == 4
    assert estimate_events(store, Selection(all=True)) == 6
    assert estimate_events(store, Selection(session_ids=(sessions[0].id,))) == 2
    with pytest.raises(NotFound, match="sessions list"):
        export(
            store, Selection(session_ids=("01900000-0000-7000-8000-999999999999",)), "ndjson", out
        )
    with pytest.raises(UsageError, match="--all"):
        export(store, Selection(), "ndjson", out)


def test_json_export_is_one_valid_document(store, tmp_path) -> None:
    fill(store, sessions=2, events=3)
    fill_empty = make_session(9)
    store.write([fill_empty], [])
    export(store, Selection(all=True), "json", tmp_path / "x.json.gz")
    doc = orjson.loads(gzip.decompress((tmp_path / "x.json.gz").read_bytes()))
    assert doc["format"] == "agentlog" and doc["version"] == 1
    assert [len(s["events"]) for s in doc["sessions"]] == [3, 3, 0]


def test_a_full_disk_leaves_no_file_behind(store, tmp_path, monkeypatch) -> None:
    fill(store, sessions=2, events=3000)
    target = tmp_path / "x.ndjson"
    target.write_bytes(b"the previous export\n")
    calls = {"n": 0}

    class FullDisk(io.FileIO):
        """The file fills up on its second write, wherever the writer's buffering puts it."""

        def write(self, data: Any) -> int:
            calls["n"] += 1
            if calls["n"] == 2:
                raise OSError(errno.ENOSPC, "No space left on device")
            return super().write(data)

    def fdopen(fd: int, mode: str = "wb", buffering: int = -1) -> io.BufferedWriter:
        return io.BufferedWriter(FullDisk(fd, mode), buffer_size=1 << 16)

    monkeypatch.setattr(fileio.os, "fdopen", fdopen)
    with pytest.raises(DiskFull, match="disk is full"):
        export(store, Selection(all=True), "ndjson", target)
    assert calls["n"] >= 2  # the failed write (and the close that retries it)
    assert target.read_bytes() == b"the previous export\n"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_share_writes_the_session_tree_redacted(store, tmp_path) -> None:
    root = make_session(1, metadata={"api_key": "sk-abcdefghijklmnopqrstuvwx", "env": "prod"})
    child = make_session(2, parent_session_id=root.id)
    grandchild = make_session(3, parent_session_id=child.id)
    unrelated = make_session(4)
    store.write(
        [root, child, grandchild, unrelated],
        [
            make_event(
                root, 1, content="mail bob@example.com now", metadata={"auth": {"token": "t0k3n"}}
            ),
            make_event(grandchild, 2, content="key sk-abcdefghijklmnopqrstuvwx leaked"),
            make_event(unrelated, 3),
        ],
    )
    redactor = Redactor(["@email", "@secrets"], ["token", "api_key"])
    stats = share_session(store, root.id, tmp_path / "share.ndjson", redactor=redactor)
    assert stats.path.endswith("share.ndjson.gz") and (stats.sessions, stats.events) == (3, 2)
    text = gzip.decompress(Path(stats.path).read_bytes()).decode()
    assert "bob@example.com" not in text and "sk-abc" not in text and "t0k3n" not in text
    rows = [orjson.loads(line) for line in text.splitlines()]
    assert rows[1]["metadata"] == {"api_key": MASK, "env": "prod"}
    assert rows[2]["content"] == f"mail {MASK} now" and rows[2]["metadata"] == {
        "auth": {"token": MASK}
    }
    assert {r["id"] for r in rows if r.get("kind") == "session"} == {
        root.id,
        child.id,
        grandchild.id,
    }
    assert (
        store.get_event(rows[2]["id"]).content == "mail bob@example.com now"
    )  # the store is untouched


def test_redactor_refuses_bad_patterns() -> None:
    with pytest.raises(UsageError, match="not a valid regular expression"):
        Redactor(["(unclosed"])
    with pytest.raises(UsageError, match="unknown preset"):
        Redactor(["@nothing"])


def test_open_file_as_store_is_read_only_and_cleans_up(store, tmp_path) -> None:
    sessions = fill(store, sessions=2, events=4)
    path = share_session(store, sessions[0].id, tmp_path / "s.ndjson.gz").path
    viewed = open_file_as_store(path)
    assert isinstance(viewed, Store)
    assert viewed.count_sessions(SessionQuery()) == 2  # session 2 is a child of session 1
    assert viewed.count_events(EventQuery(session_id=sessions[0].id)) == 4
    assert viewed.get_session(sessions[1].id).parent_session_id == sessions[0].id
    with pytest.raises(ReadOnlyStore, match="read-only"):
        viewed.write([], [make_event(sessions[0], 77)])
    folder = Path(viewed._folder)  # type: ignore[attr-defined]
    assert folder.exists()
    viewed.close()
    assert not folder.exists()


def test_open_file_as_store_refuses_a_file_that_is_not_an_export(tmp_path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("just some notes\n")
    from agentlog.errors import InvalidInput

    with pytest.raises(InvalidInput, match="cannot open"):
        open_file_as_store(path)


def test_shared_file_imports_into_another_home(store, other, tmp_path) -> None:
    sessions = fill(store, sessions=2, events=3)
    path = share_session(store, sessions[0].id, tmp_path / "s").path
    report = import_file(other, path)
    assert report.ok and (report.sessions.imported, report.events.imported) == (2, 6)


@pytest.mark.parametrize("fmt", ["ndjson", "json", "csv"])
def test_export_chunks_stream_the_same_bytes_as_the_file_a_page_at_a_time(
    store, tmp_path, fmt
) -> None:
    """The server's download and `agentlog export` are one path: same bytes, after the header."""
    from agentlog.transfer.export import export_chunks

    session = make_session(7)
    store.write([session], [make_event(session, n) for n in range(2500)])
    sel = Selection(session_ids=(session.id,))
    out = tmp_path / f"x.{fmt}"
    export(store, sel, fmt, out)
    chunks = list(export_chunks(store, sel, fmt))
    assert len(chunks) >= 3  # one per page of 1,000 events, not one blob at the end
    streamed, written = b"".join(chunks), out.read_bytes()
    header_end = written.index(b"\n") if fmt != "json" else written.index(b'"sessions"')
    assert streamed[header_end:] == written[header_end:]  # only the export time differs


def test_event_filter_carries_any_query_into_each_session(store, tmp_path) -> None:
    """The TUI's view (names, statuses, metadata...) exports through the same Selection."""
    sessions = fill(store, sessions=2, events=6)
    store.write([], [make_event(sessions[0], 40, status="error", name="fetch")])
    out = tmp_path / "x.ndjson"
    view = EventQuery(status="error", names=["fetch"])
    stats = export(
        store, Selection(session_ids=(sessions[0].id,), event_filter=view), "ndjson", out
    )
    assert (stats.sessions, stats.events) == (1, 1)
    assert lines(out)[2]["name"] == "fetch" and lines(out)[2]["status"] == "error"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("login with password=hunter2 then retry", "login with password=[REDACTED] then retry"),
        ("db passwd: s3cr3t!", "db passwd: [REDACTED]"),
        ('{"client_secret": "abc123xyz"}', '{"client_secret": "[REDACTED]"}'),
        ("GET /x?api_key=abcd1234&page=2", "GET /x?api_key=[REDACTED]&page=2"),
        ("mysql -u root --PWD = 'pa55word'", "mysql -u root --PWD = '[REDACTED]'"),
        ("auth token=eyabc.def", "auth token=[REDACTED]"),
        # prose and counters are not secrets
        ("the password field is required", None),
        ("Enter your password: ", None),
        ("limits: max_tokens=1024 input_tokens: 17", None),
        ("keep the secret safe; token budget exceeded", None),
    ],
)
def test_secrets_preset_masks_inline_credential_assignments(text, masked) -> None:
    assert Redactor(["@secrets"]).text(text) == (text if masked is None else masked)


def test_share_masks_secrets_in_agent_ids_tags_keys_and_agentlog_keys(store, tmp_path) -> None:
    """A shared file leaked a token in an agent id, a tag or a metadata key, AgentLog's own
    API keys (al_…), and the value of OPENAI_API_KEY (only exact key names were masked)."""
    gh = "ghp_1234567890abcdefghijklmnopqrstuvwxyz12"
    al = "al_a4a0ebcb_e9fUFpTx2pVuDNzaeshRSf0rEhBMvrsf"
    slack = "xoxb-123456789012-1234567890123-AbCdEfGhIjKl"
    anthropic = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123"
    root = make_session(
        1,
        tags=["ok", "tag-" + slack],
        metadata={
            anthropic: "a key as a name",
            "env": [{"OPENAI_API_KEY": "plain-value-1"}, {"x-auth-token": "plain-value-2"}],
            "usage": {"max_tokens": 1024, "input_tokens": 17},
        },
    )
    store.write(
        [root],
        [make_event(root, 1, agent_id="agent-" + gh, content="key is " + al)],
    )
    stats = share_session(
        store, root.id, tmp_path / "share.ndjson", redactor=Redactor(["@secrets"], ["@secrets"])
    )
    text = gzip.decompress(Path(stats.path).read_bytes()).decode()
    for secret in (gh, al, slack, anthropic, "plain-value-1", "plain-value-2"):
        assert secret[:12] not in text, secret
    rows = [orjson.loads(line) for line in text.splitlines()]
    session, event = rows[1], rows[2]
    assert session["tags"] == ["ok", f"tag-{MASK}"]
    assert session["metadata"]["usage"] == {"max_tokens": 1024, "input_tokens": 17}
    assert session["metadata"][MASK] == "a key as a name"
    assert session["metadata"]["env"] == [{"OPENAI_API_KEY": MASK}, {"x-auth-token": MASK}]
    assert event["agent_id"] == f"agent-{MASK}" and event["content"] == f"key is {MASK}"
