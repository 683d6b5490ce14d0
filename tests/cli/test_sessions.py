"""`agentlog sessions list|show|new|update|end|delete`."""

from __future__ import annotations

import re

import orjson
import pytest

from agentlog.cli.output import cell, fit_columns
from agentlog.cli.render import session_columns
from agentlog.model import SessionStatus, SessionSummary


def test_list_table_by_default(cli, demo):
    result = cli.ok("sessions", "list")
    assert "Why did the deploy fail?" in result.stdout
    assert result.stdout.splitlines()[0].split()[:2] == ["ID", "TITLE"]
    # Short ids, as git shows hashes: a prefix every command accepts.
    short = demo.sessions["triage"][:8]
    assert short in result.stdout and demo.sessions["triage"] not in result.stdout
    assert cli.json("sessions", "show", short)["id"] == demo.sessions["triage"]
    assert " ago" in result.stdout  # last activity, relative


def test_list_columns_give_way_by_priority_at_80_columns(cli, demo):
    rows = [
        SessionSummary.model_validate({k: v for k, v in s.items() if k != "tree"})
        for s in cli.json("sessions", "list", "--limit", "30")["items"]
    ]
    columns = session_columns(rows)
    cells = [[" ".join(cell(c.get(r)).splitlines()) for c in columns] for r in rows]
    kept = [columns[i].header for i in fit_columns(cells, columns, 80)]
    assert kept == ["ID", "", "TITLE", "EVENTS", "ERR", "DURATION", "LAST ACTIVITY"]
    wide = [columns[i].header for i in fit_columns(cells, columns, 160)]
    assert wide == [c.header for c in columns]


def test_list_marks_a_quiet_active_session_stale(cli, demo, monkeypatch):
    monkeypatch.setenv("AGENTLOG_DISPLAY_STALE_AFTER_MINUTES", "1")
    out = cli.ok("sessions", "list", "--status", "active").stdout
    assert "◌" in out  # the demo's active session has been quiet for minutes
    shown = cli.ok("sessions", "show", demo.sessions["triage"]).stdout
    assert "stale" not in shown  # a completed session is never stale
    monkeypatch.setenv("AGENTLOG_DISPLAY_STALE_AFTER_MINUTES", "0")
    assert "◌" not in cli.ok("sessions", "list", "--status", "active").stdout


def test_colours_follow_the_shared_vocabulary_and_no_color(cli, monkeypatch):
    monkeypatch.setattr("agentlog.cli.output.is_terminal", lambda stream=None: True)
    monkeypatch.setenv("FORCE_COLOR", "1")
    coloured = cli.ok("sessions", "list").stdout
    colour = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-8]|9[0-7])[;m]")
    assert colour.search(coloured)
    monkeypatch.setenv("NO_COLOR", "1")
    plain = cli.ok("sessions", "list").stdout
    # NO_COLOR drops colours (bold and dim may stay); the glyphs keep the meaning.
    assert not colour.search(plain) and "✔" in plain and "✖" in plain


def test_list_json_shape_and_sort(cli, demo):
    doc = cli.json("sessions", "list", "--limit", "100")
    assert set(doc) == {"items", "next_cursor"} and doc["next_cursor"] is None
    assert len(doc["items"]) == demo.session_count
    first = doc["items"][0]
    assert {"id", "title", "status", "event_count", "agents", "cost_usd"} <= set(first)
    stamps = [s["last_event_at"] for s in doc["items"]]
    assert stamps == sorted(stamps, reverse=True)


def test_list_ndjson_is_one_object_per_line(cli, demo):
    rows = cli.ndjson("sessions", "list", "--limit", "5")
    assert len(rows) == 5 and all("id" in r for r in rows)


def test_cursor_paging_visits_every_session_once(cli, demo):
    seen: list[str] = []
    cursor = None
    while True:
        args = ["sessions", "list", "--limit", "7", "--sort", "created_at"]
        if cursor:
            args += ["--cursor", cursor]
        doc = cli.json(*args)
        seen += [s["id"] for s in doc["items"]]
        cursor = doc["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == demo.session_count


def test_table_prints_next_cursor_on_stderr(cli):
    result = cli.ok("sessions", "list", "--limit", "3")
    assert "--cursor " in result.stderr
    assert "--cursor" not in result.stdout
    cursor = result.stderr.split("--cursor ")[1].split()[0]
    again = cli.ok("sessions", "list", "--limit", "3", "--cursor", cursor)
    assert again.stdout != result.stdout


def test_bad_cursor_is_one_line(cli):
    assert "cursor" in cli.fails(1, "sessions", "list", "--cursor", "garbage!")


def test_filters(cli, demo):
    failed = cli.json("sessions", "list", "--status", "failed")["items"]
    assert failed and all(s["status"] == "failed" for s in failed)
    assert demo.sessions["eval_fail"] in {s["id"] for s in failed}
    evals = cli.json("sessions", "list", "--tag", "eval,nightly")["items"]
    assert {s["id"] for s in evals} == {demo.sessions["eval_pass"], demo.sessions["eval_fail"]}
    coder = cli.json("sessions", "list", "--agent", "coder")["items"]
    assert [s["id"] for s in coder] == [demo.sessions["triage"]]
    found = cli.json("sessions", "list", "--search", "deploy")["items"]
    assert demo.sessions["triage"] in {s["id"] for s in found}
    recent = cli.json("sessions", "list", "--since", "3h")["items"]
    old = cli.json("sessions", "list", "--until", "3d")["items"]
    assert recent and old and not {s["id"] for s in recent} & {s["id"] for s in old}
    children = cli.json("sessions", "list", "--parent", demo.sessions["triage"][:18])["items"]
    assert [s["id"] for s in children] == [demo.sessions["child"]]


def test_bad_since_is_one_line_exit_2(cli):
    line = cli.fails(2, "sessions", "list", "--since", "last tuesday")
    assert "--since" in line


def test_show(cli, demo):
    result = cli.ok("sessions", "show", demo.sessions["triage"])
    assert "planner, researcher, coder" in result.stdout
    assert demo.sessions["child"] in result.stdout
    doc = cli.json("sessions", "show", demo.sessions["triage"])
    assert doc["event_count"] > 10 and doc["children"] == [demo.sessions["child"]]


def test_show_adds_the_trees_totals_when_there_are_sub_sessions(cli, demo, store):
    triage, child = (store.get_session(demo.sessions[k]) for k in ("triage", "child"))
    doc = cli.json("sessions", "show", triage.id)
    # the session's own keys are as they were; the tree is one more key
    assert set(doc) == set(triage.to_json_dict()) | {"children", "tree"}
    assert doc["input_tokens"] == triage.input_tokens
    tree = doc["tree"]
    assert (tree["sessions"], tree["sub_sessions"], tree["complete"]) == (2, 1, True)
    for key in ("input_tokens", "output_tokens", "cache_read_tokens", "reasoning_tokens"):
        assert tree[key] == getattr(triage, key) + getattr(child, key)
    assert tree["events"] == triage.event_count + child.event_count
    assert tree["cost_usd"] == pytest.approx(triage.cost_usd + child.cost_usd)
    text = cli.ok("sessions", "show", triage.id).stdout
    assert "this session and 1 sub-session:" in text
    tokens = triage.input_tokens + child.input_tokens
    assert re.search(rf"tree tokens +{tokens:,} in", text)
    # a session without sub-sessions shows and answers as before
    assert "tree" not in cli.json("sessions", "show", child.id)
    assert "tree tokens" not in cli.ok("sessions", "show", child.id).stdout


def test_show_latest_and_unknown(cli):
    latest = cli.json("sessions", "show", "latest")
    assert latest["status"] == "active"
    line = cli.fails(1, "sessions", "show", "00000000-0000-7000-8000-000000000000")
    assert "00000000-0000-7000-8000-000000000000" in line or "not" in line


def test_new_prints_only_the_id(cli, store):
    result = cli.ok("sessions", "new", "nightly", "--tag", "ci", "--metadata", '{"run": 7}')
    sid = result.stdout.strip()
    assert result.stdout == sid + "\n"
    session = store.get_session(sid)
    assert session.title == "nightly" and session.tags == ["ci"]
    assert session.metadata == {"run": 7}


def test_new_with_bad_metadata_and_too_long_title(cli):
    assert "--metadata" in cli.fails(2, "sessions", "new", "x", "--metadata", "{oops")
    line = cli.fails(1, "sessions", "new", "t" * 1001)
    assert "title" in line


def test_update_end_and_delete(cli, store):
    sid = cli.ok("sessions", "new", "to change").stdout.strip()
    doc = cli.json("sessions", "update", sid, "--title", "changed", "--tag", "a,b")
    assert doc["title"] == "changed" and doc["tags"] == ["a", "b"]
    assert "nothing to change" in cli.fails(2, "sessions", "update", sid)
    cli.ok("sessions", "end", sid, "--status", "failed")
    ended = store.get_session(sid)
    assert ended.status is SessionStatus.FAILED and ended.ended_at is not None
    assert "--yes" in cli.fails(2, "sessions", "delete", sid)
    result = cli.ok("sessions", "delete", sid, "--yes")
    assert "deleted" in result.stderr and result.stdout == ""
    assert (
        orjson.loads(cli.ok("sessions", "list", "--search", "changed", "--json").stdout)["items"]
        == []
    )


def test_bad_session_ids(cli):
    assert "not a session id" in cli.fails(2, "sessions", "show", "zzz")
    assert "ambiguous" in cli.fails(2, "sessions", "show", "019c")
    assert "no session" in cli.fails(1, "sessions", "show", "ffff")


def test_empty_store_suggests_the_demo(empty_cli):
    result = empty_cli.ok("sessions", "list")
    assert result.stdout == "" and "agentlog demo" in result.stderr
    filtered = empty_cli.ok("sessions", "list", "--status", "failed")
    assert filtered.stderr.strip() == "no sessions match"
    assert empty_cli.json("sessions", "list") == {"items": [], "next_cursor": None}


def test_delete_asks_on_a_terminal(cli, store, monkeypatch):
    import agentlog.cli.sessions as sessions_cmd

    monkeypatch.setattr(sessions_cmd, "is_terminal", lambda stream=None: True)
    sid = cli.ok("sessions", "new", "keep me?").stdout.strip()
    refused = cli("sessions", "delete", sid, input="n\n")
    assert refused.exit_code == 1 and "agentlog: error: aborted" in refused.stderr
    assert store.get_session(sid).title == "keep me?"
    accepted = cli("sessions", "delete", sid, input="y\n")
    assert accepted.exit_code == 0 and "deleted session" in accepted.stderr
    # The question goes to stderr; stdout holds only the runner's echo of the answer.
    assert "Delete session" in accepted.stderr and "Delete" not in accepted.stdout


def test_delete_erases_the_child_sessions_and_says_how_many(cli, store, monkeypatch):
    import agentlog.cli.sessions as sessions_cmd

    monkeypatch.setattr(sessions_cmd, "is_terminal", lambda stream=None: True)
    root = cli.ok("sessions", "new", "supervisor").stdout.strip()
    worker = cli.ok("sessions", "new", "worker", "--parent", root).stdout.strip()
    helper = cli.ok("sessions", "new", "helper", "--parent", worker).stdout.strip()
    cli.ok("log", "LOG", "step", "-S", helper)
    refused = cli("sessions", "delete", root, input="n\n")
    assert (
        f"Delete session {root} 'supervisor', its 2 child sessions (sub-agents, workers)"
        " and their 1 event?"
    ) in refused.stderr
    accepted = cli.ok("sessions", "delete", root, "--yes")
    assert accepted.stderr.strip() == f"deleted session {root}, 2 child sessions (1 event)"
    for sid in (root, worker, helper):
        assert "not found" in cli.fails(1, "sessions", "show", sid)


def _supervisor_run(path) -> tuple[str, str]:
    """A LangGraph-like run: the supervisor's own session made no model calls, its workers did."""
    from agentlog.model import Event, EventType, Session
    from agentlog.storage import open_store

    root = Session(title="supervisor run")
    workers = [Session(title=f"worker {i}", parent_session_id=root.id) for i in range(2)]
    calls = [
        Event(
            session_id=w.id,
            type=EventType.LLM_CALL,
            input_tokens=1000 * (i + 1),
            output_tokens=100,
            cost_usd=0.01,
        )
        for i, w in enumerate(workers)
    ]
    with open_store(str(path)) as store:
        store.write(sessions=[root, *workers], events=[Event(session_id=root.id, type="HANDOFF")])
        store.write(events=calls)
    return root.id, workers[0].id


def test_list_shows_a_runs_tokens_and_cost_with_its_child_sessions(empty_cli):
    root, worker = _supervisor_run(empty_cli.db)
    result = empty_cli.ok("sessions", "list", env={"COLUMNS": "200"})
    line = next(row for row in result.stdout.splitlines() if "supervisor run" in row)
    assert "Σ 3,200" in line and "Σ $0.0200" in line
    worker_line = next(row for row in result.stdout.splitlines() if "worker 0" in row)
    assert "1,100" in worker_line and "Σ" not in worker_line
    assert "Σ: a run with its child sessions (sub-agents, workers) added up" in result.stderr
    doc = {s["id"]: s for s in empty_cli.json("sessions", "list")["items"]}
    assert doc[root]["input_tokens"] == 0  # its own, as before
    assert (doc[root]["tree"]["sub_sessions"], doc[root]["tree"]["input_tokens"]) == (2, 3000)
    assert "tree" not in doc[worker]
    rows = empty_cli.ndjson("sessions", "list", "--all")
    assert [r["tree"]["output_tokens"] for r in rows if r["id"] == root] == [200]
    every = empty_cli.ok("sessions", "list", "--all", env={"COLUMNS": "200"}).stdout
    assert "Σ 3,200" in every
