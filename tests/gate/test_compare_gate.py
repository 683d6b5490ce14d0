"""`agentlog compare --fail-on`: every rule passes on a good run and fails on a bad one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

import orjson
import pytest
from typer.testing import CliRunner

from agentlog.cli.app import app
from agentlog.model import Event, Session, SessionStatus
from agentlog.storage import open_store

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def steps(
    *,
    tool_status: str = "ok",
    tools: tuple[str, ...] = ("search", "fetch"),
    cost: float = 0.01,
    tokens: int = 100,
    seconds: float = 2.0,
    handoff: str = "writer",
    errors: int = 0,
    drift: bool = False,
) -> list[dict]:
    out: list[dict] = [{"type": "USER_INPUT", "content": "q"}]
    out.append(
        {
            "type": "LLM_CALL",
            "name": "gpt-4o",
            "input_tokens": tokens,
            "output_tokens": 0,
            "cost_usd": cost,
            "duration_ms": 100,
        }
    )
    for name in tools:
        out.append({"type": "TOOL_CALL", "name": name, "status": tool_status, "duration_ms": 50})
    out.append({"type": "HANDOFF", "name": handoff})
    out.extend({"type": "ERROR", "name": "Boom", "status": "error"} for _ in range(errors))
    if drift:
        out.append({"type": "LOG", "name": "mcp.tools_changed", "content": "tools changed"})
    out.append({"type": "AGENT_OUTPUT", "content": "done", "duration_ms": seconds * 1000})
    return out


def record(
    db: Path,
    title: str,
    events: list[dict],
    *,
    status: str = "completed",
    tags: list[str] | None = None,
    start: datetime = T0,
) -> str:
    session = Session(title=title, status=SessionStatus(status), tags=tags or [], created_at=start)
    built = [
        Event(session_id=session.id, timestamp=start + timedelta(milliseconds=i), **e)
        for i, e in enumerate(events)
    ]
    with open_store(str(db)) as store:
        store.write([session], built)
    return session.id


def gate(db: Path, *args: str):
    return CliRunner().invoke(app, ["--db", str(db), "compare", *args])


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "gate.db"


@pytest.mark.parametrize(
    ("rule", "bad", "bad_status", "message"),
    [
        (
            "divergence",
            {"tools": ("search", "browse")},
            "completed",
            "FAIL divergence: the runs diverge at step 4 (1 step differs)",
        ),
        ("errors", {"errors": 2}, "completed", "FAIL errors: 2 error(s), the baseline had 0"),
        ("status", {}, "failed", "FAIL status: the run ended failed, the baseline completed"),
        (
            "tools",
            {"tool_status": "error"},
            "completed",
            "FAIL tools: newly failing tool(s): fetch, search",
        ),
        (
            "tool:fetch",
            {"tool_status": "error"},
            "completed",
            "FAIL tool:fetch: newly failing tool(s): fetch",
        ),
        (
            "sequence",
            {"tools": ("fetch", "search")},
            "completed",
            "FAIL sequence: the tool-call sequence changed at #1: search -> fetch",
        ),
        (
            "handoffs",
            {"handoff": "critic"},
            "completed",
            "FAIL handoffs: the hand-off sequence changed at #1: writer -> critic",
        ),
        ("drift", {"drift": True}, "completed", "FAIL drift: an MCP server's tool definitions"),
        (
            "cost+10%",
            {"cost": 0.0115},
            "completed",
            "FAIL cost+10%: cost rose 15% ($0.0100 -> $0.0115), over the 10% allowed",
        ),
        (
            "tokens+10%",
            {"tokens": 150},
            "completed",
            "FAIL tokens+10%: tokens rose 50% (100 -> 150), over the 10% allowed",
        ),
        ("latency+20%", {"seconds": 4.0}, "completed", "FAIL latency+20%: latency rose"),
        (
            "cost<0.05",
            {"cost": 0.06},
            "completed",
            "FAIL cost<0.05: cost is $0.0600, the budget is under $0.0500",
        ),
        (
            "tokens<20000",
            {"tokens": 25_000},
            "completed",
            "FAIL tokens<20000: tokens is 25,000, the budget is under 20,000",
        ),
        (
            "latency<30s",
            {"seconds": 31},
            "completed",
            "FAIL latency<30s: latency is 31.0",
        ),
        (
            "errors<1",
            {"errors": 1},
            "completed",
            "FAIL errors<1: errors is 1, the budget is under 1",
        ),
    ],
)
def test_each_rule_passes_on_a_good_run_and_fails_on_a_bad_one(
    db: Path, rule: str, bad: dict, bad_status: str, message: str
) -> None:
    base = record(db, "triage", steps())
    good = record(db, "triage", steps(cost=0.0105, tokens=105, seconds=2.1))
    worse = record(db, "triage", steps(**bad), status=bad_status)
    ok = gate(db, base, good, "--fail-on", rule)
    assert ok.exit_code == 0, ok.output
    assert f"  ok   {rule}" in ok.stdout and "all 1 rule(s) hold" in ok.stderr
    failed = gate(db, base, worse, "--fail-on", rule)
    assert failed.exit_code == 1, failed.output
    assert message in failed.stdout
    assert "1 rule(s) broken in 1 of 1 pair(s)" in failed.stderr


def test_without_rules_it_shows_the_difference_and_exits_0(db: Path) -> None:
    base = record(db, "triage", steps())
    run = record(db, "triage", steps(tools=("search", "browse")), status="failed")
    result = gate(db, base, run)
    assert result.exit_code == 0
    assert "first divergence at step 4 of 6 (1 step differs)" in result.stdout
    assert "baseline: TOOL_CALL fetch ok" in result.stdout
    assert "run:      TOOL_CALL browse ok" in result.stdout


def test_a_committed_export_file_is_a_baseline(db: Path, tmp_path: Path) -> None:
    base = record(db, "triage", steps())
    export = tmp_path / "baseline.ndjson"
    assert (
        CliRunner().invoke(app, ["--db", str(db), "export", base, "-o", str(export)]).exit_code == 0
    )
    run = record(db, "triage", steps(errors=1))
    result = gate(db, str(export), run, "--fail-on", "errors,divergence", "--json")
    assert result.exit_code == 1
    doc = orjson.loads(result.stdout)
    assert doc["ok"] is False and doc["broken"] == 2
    (pair,) = doc["pairs"]
    assert pair["baseline"]["id"] == base and pair["run"]["id"] == run
    assert {b["rule"] for b in pair["broken"]} == {"errors", "divergence"}
    assert pair["first_divergence"] == {"step": 6}


def test_sets_pair_by_title_and_a_missing_title_breaks_the_gate(db: Path, tmp_path: Path) -> None:
    for title in ("eval: refunds", "eval: search"):
        record(db, title, steps(), tags=["baseline"])
    record(db, "eval: refunds", steps(), tags=["nightly"], start=T0 + timedelta(days=1))
    record(db, "eval: search", steps(errors=1), tags=["nightly"], start=T0 + timedelta(days=1))
    result = gate(
        db,
        "tag:baseline",
        "--tag",
        "nightly",
        "--fail-on",
        "errors",
        "--junit",
        str(tmp_path / "gate.xml"),
        "--sarif",
        str(tmp_path / "gate.sarif"),
    )
    assert result.exit_code == 1
    assert "1 rule(s) broken in 1 of 2 pair(s)" in result.stderr
    suites = ET.parse(tmp_path / "gate.xml").getroot()
    assert (suites.get("tests"), suites.get("failures")) == ("2", "1")
    failure = suites.find(".//testsuite[@name='eval: search']/testcase/failure")
    assert failure is not None and failure.get("message") == "1 error(s), the baseline had 0"
    sarif = orjson.loads((tmp_path / "gate.sarif").read_bytes())
    assert sarif["version"] == "2.1.0"
    (finding,) = sarif["runs"][0]["results"]
    assert finding["ruleId"] == "errors" and finding["message"]["text"].startswith("eval: search")
    record(db, "eval: extra", steps(), tags=["nightly"])
    result = gate(db, "tag:baseline", "--tag", "nightly", "--fail-on", "status")
    assert result.exit_code == 1
    assert "FAIL pairing: no baseline session titled 'eval: extra'" in result.stdout


def test_sets_that_do_not_pair_fail_without_fail_on(db: Path) -> None:
    """A title only one side has is a failed comparison, exit 1, --fail-on or not."""
    record(db, "eval: refunds", steps(), tags=["a"])
    record(db, "eval: search", steps(), tags=["a"])
    record(db, "eval: other", steps(), tags=["b"])
    result = gate(db, "tag:a", "tag:b")
    assert result.exit_code == 1, result.output
    assert "FAIL pairing: no run session titled 'eval: refunds'" in result.stdout
    assert "3 pair(s)" in result.stderr
    as_json = gate(db, "tag:a", "tag:b", "--json")
    assert as_json.exit_code == 1
    doc = orjson.loads(as_json.stdout)
    assert doc["ok"] is False and doc["broken"] == 3


def test_a_title_twice_in_one_set_compares_the_newest_and_says_so(db: Path) -> None:
    record(db, "eval: refunds", steps(), tags=["a"])
    record(db, "eval: refunds", steps(errors=1), tags=["a"], start=T0 + timedelta(hours=1))
    newest = record(db, "eval: refunds", steps(), tags=["a"], start=T0 + timedelta(hours=2))
    record(db, "eval: search", steps(), tags=["a"])
    for title in ("eval: refunds", "eval: search"):
        record(db, title, steps(), tags=["b"], start=T0 + timedelta(days=1))
    result = gate(db, "tag:a", "tag:b", "--fail-on", "errors")
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert len(notes) == 1, result.stderr
    assert "tag:a" in notes[0] and "'eval: refunds'" in notes[0] and "newest" in notes[0]
    assert newest in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fail-on", "bogus"], "unknown rule 'bogus'; use divergence"),
        (["--fail-on", "latency<soon"], "rule 'latency<soon': 'soon' is not a duration"),
        (["--fail-on", "cost<lots"], "rule 'cost<lots': 'lots' is not a number"),
        (["--fail-on", ""], "--fail-on names no rule; use divergence"),
        (["--fail-on", " , "], "--fail-on names no rule; use divergence"),
    ],
)
def test_mistakes_are_one_line_usage_errors(db: Path, args: list[str], message: str) -> None:
    base = record(db, "triage", steps())
    result = gate(db, base, base, *args)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr
    assert gate(db, base).exit_code == 2
    assert "not both" in gate(db, base, base, "--tag", "x").stderr
    missing = gate(db, "tag:nope", base)
    assert missing.exit_code == 1 and "no session has the tag 'nope'" in missing.stderr


@pytest.mark.parametrize("name", ["baseline.ndjson", "base.json.gz", "runs.csv", "ci/baseline"])
def test_a_missing_baseline_file_is_named_as_a_file(db: Path, tmp_path: Path, name: str) -> None:
    """A side that looks like a file (an export extension or a path) and does not exist is
    'no such file', with how to make one, not 'is not a session id'."""
    base = record(db, "triage", steps())
    path = str(tmp_path / name) if "/" in name else name
    result = gate(db, path, base)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert f"no such file: {path}" in result.stderr and "not a session id" not in result.stderr
    assert "agentlog export SESSION -o" in result.stderr
    assert "is not a session id" in gate(db, "triage", base).stderr  # a word is still a session


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("bad.ndjson", b"hello world\n"),
        ("bad2.ndjson", b"a,b\n1,2\n"),
        ("doc.ndjson", b'{"format": "agentlog", "sessions": []}\n'),
        ("lines.json", b'{"kind": "session"}\n{"kind": "event"}\n{"kind": "event"}\n'),
        ("bad.txt", b"hello world\n"),
    ],
)
def test_an_unreadable_file_gets_compare_advice_not_import_options(
    db: Path, tmp_path: Path, name: str, body: bytes
) -> None:
    """compare has no --format: a file it cannot read says how compare picks the format."""
    base = record(db, "triage", steps())
    bad = tmp_path / name
    bad.write_bytes(body)
    result = gate(db, str(bad), base)
    assert result.exit_code != 0 and result.stderr.count("\n") == 1, result.stderr
    assert "--format" not in result.stderr, result.stderr
    assert "compare reads" in result.stderr, result.stderr


def test_junit_stays_well_formed_xml_when_a_title_holds_controls(db: Path, tmp_path: Path) -> None:
    """An ESC, BEL or CR in a recorded title went into the JUnit file raw: no CI could parse it."""
    title = "eval \x1b]0;pwned\x07\x1b[2J\x9b1m\r end"
    record(db, title, steps(), tags=["baseline"])
    record(db, title, steps(errors=1), tags=["nightly"], start=T0 + timedelta(days=1))
    out = tmp_path / "gate.xml"
    result = gate(
        db, "tag:baseline", "--tag", "nightly", "--fail-on", "errors", "--junit", str(out)
    )
    assert result.exit_code == 1
    suites = ET.parse(out).getroot()
    suite = suites.find("testsuite")
    assert suite is not None and suite.get("name") == "eval ␛]0;pwned␇␛[2J\ufffd1m␍ end"
    assert suites.find(".//failure") is not None


def test_a_run_compared_with_itself_says_so(db: Path, tmp_path: Path) -> None:
    # A gate script that forgot to record the new run, or exported the baseline from
    # this very run, compared `latest` with itself and passed in silence.
    base = record(db, "triage", steps())
    export = tmp_path / "baseline.ndjson"
    assert (
        CliRunner().invoke(app, ["--db", str(db), "export", base, "-o", str(export)]).exit_code == 0
    )
    for baseline in (base, str(export)):
        result = gate(db, baseline, "latest", "--fail-on", "divergence")
        assert result.exit_code == 0
        assert f"note: the baseline and the run are the same session ({base})" in result.stderr
        assert "note:" not in result.stdout
    other = record(db, "triage", steps())
    assert "same session" not in gate(db, base, other).stderr


def test_one_matching_step_is_singular(db: Path) -> None:
    one = [{"type": "LOG", "content": "hi"}]
    base, run = record(db, "tiny", one), record(db, "tiny", one)
    assert "the 1 step matches" in gate(db, base, run).stdout
