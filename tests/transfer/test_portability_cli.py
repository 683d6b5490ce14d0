"""The export, import, share, migrate and sync commands: output, reports and exit codes."""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import orjson

from agentlog.storage.base import EventQuery, SessionQuery
from agentlog.storage.sqlite.store import SQLiteStore
from tests.support.portability import Cli, fill, lines


def test_demo_export_import_export_is_identical(tmp_path) -> None:
    from agentlog.demo import generate_demo

    first = SQLiteStore(tmp_path / "demo.db")
    generate_demo(first, seed=0)
    first.close()
    a, b = Cli(tmp_path / "demo.db"), Cli(tmp_path / "empty.db")
    assert a("export", "--all", "-o", str(tmp_path / "demo.ndjson.gz")).exit_code == 0
    imported = b("import", str(tmp_path / "demo.ndjson.gz"))
    assert imported.exit_code == 0, imported.stderr
    assert "IMPORTED" in imported.stdout
    one, two = a("export", "--all"), b("export", "--all")
    assert one.exit_code == two.exit_code == 0
    assert one.stdout.splitlines()[1:] == two.stdout.splitlines()[1:]
    assert len(one.stdout.splitlines()) > 10_000


def test_export_to_stdout_is_ndjson_and_quiet(cli, store) -> None:
    fill(store, sessions=2, events=2)
    result = cli("export", "--all")
    assert result.exit_code == 0 and result.stderr == ""
    rows = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert rows[0]["format"] == "agentlog" and len(rows) == 1 + 2 + 4


def test_export_format_from_the_file_name_and_filters(cli, store, tmp_path) -> None:
    fill(store, sessions=2, events=4)
    out = tmp_path / "x.csv.gz"
    result = cli("export", "--type", "tool_call", "-o", str(out))
    assert result.exit_code == 0 and "exported 2 sessions, 4 events" in result.stderr
    text = gzip.decompress(out.read_bytes()).decode()
    assert text.startswith("id,session_id,timestamp,type,")


def test_export_without_a_choice_is_a_usage_error(cli, store) -> None:
    fill(store, sessions=1, events=1)
    result = cli("export")
    assert result.exit_code == 2 and "--all" in result.stderr and "Traceback" not in result.stderr


def test_import_reports_rejects_and_exits_1(cli, store, tmp_path) -> None:
    bad = tmp_path / "bad.ndjson"
    bad.write_bytes(
        b'{"kind":"event","id":"01900000-0001-7000-8000-000000000001","session_id":'
        b'"01900000-0000-7000-8000-000000000001","timestamp":"2026-03-01T12:00:00Z","type":"LOG"}\n'
        b'{"kind":"event","id":"x","session_id":"01900000-0000-7000-8000-000000000001","type":"LOG"}\n'
    )
    result = cli("import", str(bad), "--rejects", str(tmp_path / "r.ndjson"))
    assert result.exit_code == 1
    assert "rejected line 2: id: event id 'x' is not a valid UUID" in result.stderr
    assert [r["_reject"]["line"] for r in lines(tmp_path / "r.ndjson")[1:]] == [2]
    report = orjson.loads(cli("import", str(bad), "--json").stdout)
    assert report["events"] == {
        "imported": 0,
        "duplicates": 1,
        "conflicts": 0,
        "overwritten": 0,
        "rejected": 1,
    }


def test_import_stopped_by_a_usage_error_leaves_no_rejects_file(cli, store, tmp_path) -> None:
    """A missing, empty or OTLP input is refused before anything is written, --rejects too."""
    empty, otlp = tmp_path / "empty.ndjson", tmp_path / "spans.otlp.jsonl"
    empty.write_bytes(b"")
    otlp.write_bytes(b'{"resourceSpans":[]}\n')
    for args in (
        [str(tmp_path / "missing.ndjson")],
        [str(empty)],
        [str(otlp)],
        [str(otlp), "--strict"],
        [str(otlp), "--dry-run"],
    ):
        result = cli("import", *args, "--rejects", str(tmp_path / "r.ndjson"))
        assert result.exit_code == 2, (args, result.stderr)
        assert not (tmp_path / "r.ndjson").exists(), args
    result = cli("import", "-", "--rejects", str(tmp_path / "r.ndjson"), input="\n")
    assert result.exit_code == 2 and not (tmp_path / "r.ndjson").exists()


def test_rejects_into_the_file_being_imported_is_refused(cli, store, tmp_path) -> None:
    """--rejects is written while the input is read: naming the input would cut it short."""
    bad = tmp_path / "bad.ndjson"
    content = (
        b'{"kind":"event","id":"x","session_id":"01900000-0000-7000-8000-000000000001",'
        b'"type":"LOG"}\n' * 3
    )
    bad.write_bytes(content)
    (tmp_path / "link.ndjson").symlink_to(bad)
    for rejects in (str(bad), str(tmp_path / "link.ndjson"), f"{tmp_path}/./bad.ndjson"):
        result = cli("import", str(bad), "--rejects", rejects)
        assert result.exit_code == 2, result.stderr
        assert "is the file being imported" in result.stderr
        assert bad.read_bytes() == content  # the input untouched


def test_import_without_rejects_still_writes_the_rejects_header(cli, store, tmp_path) -> None:
    """A run that read its file writes --rejects, header only when nothing was rejected."""
    source = SQLiteStore(tmp_path / "src.db")
    fill(source, sessions=1, events=2)
    source.close()
    good = tmp_path / "good.ndjson"
    assert Cli(tmp_path / "src.db")("export", "--all", "-o", str(good)).exit_code == 0
    (tmp_path / "r.ndjson").write_bytes(b"an older run's rejects\n")
    result = cli("import", str(good), "--rejects", str(tmp_path / "r.ndjson"))
    assert result.exit_code == 0, result.stderr
    assert [row["format"] for row in lines(tmp_path / "r.ndjson")] == ["agentlog"]


def test_import_from_stdin_dry_run_and_strict(cli, store, tmp_path) -> None:
    source = SQLiteStore(tmp_path / "src.db")
    fill(source, sessions=1, events=3)
    export_text = Cli(tmp_path / "src.db")("export", "--all").stdout
    source.close()
    dry = cli("import", "-", "--dry-run", input=export_text)
    assert dry.exit_code == 0 and "dry run: nothing was written" in dry.stderr
    assert store.count_events(EventQuery()) == 0
    broken = export_text + '{"kind":"event","type":"LOG"}\n'
    strict = cli("import", "-", "--strict", input=broken)
    assert strict.exit_code == 1 and "nothing was imported" in strict.stderr
    assert "dry run" not in strict.stderr  # it was not one; the strict check stopped it
    assert "IMPORTED" in strict.stdout and "WOULD IMPORT" not in strict.stdout
    assert store.count_events(EventQuery()) == 0
    assert cli("import", "-", input=export_text).exit_code == 0
    assert store.count_events(EventQuery()) == 3


def test_import_of_a_missing_file_is_one_line(cli) -> None:
    result = cli("import", "/nonexistent/x.ndjson")
    assert result.exit_code == 2
    assert result.stderr.strip() == "agentlog: error: no such file: /nonexistent/x.ndjson"


def test_import_of_an_empty_file_is_a_usage_error(cli, store, tmp_path) -> None:
    """As `import --from langfuse` says it: one line, exit 2, whatever the format."""
    for name, body in [
        ("empty.ndjson", b""),
        ("blank.ndjson", b"\n  \n\r\n"),
        ("empty.json", b""),
        ("empty.csv", b"\n"),
        ("empty", b""),
    ]:
        (tmp_path / name).write_bytes(body)
        result = cli("import", str(tmp_path / name))
        assert result.exit_code == 2, (name, result.stdout, result.stderr)
        assert result.stdout == ""
        assert result.stderr.strip() == (
            "agentlog: error: the file is empty; expected an AgentLog export (NDJSON, JSON or CSV)"
        ), name
    assert cli("import", "-", input="\n\n").exit_code == 2
    strict = cli("import", str(tmp_path / "blank.ndjson"), "--strict")
    assert strict.exit_code == 2 and "the file is empty" in strict.stderr
    with gzip.open(tmp_path / "empty.ndjson.gz", "wb"):
        pass
    assert cli("import", str(tmp_path / "empty.ndjson.gz")).exit_code == 2
    assert store.count_sessions(SessionQuery()) == 0


def test_import_of_otlp_json_names_the_option_that_reads_it(cli, store, tmp_path) -> None:
    """`export --format otlp` output given to plain `import`: one line, not a reject per line."""
    source = SQLiteStore(tmp_path / "src.db")
    fill(source, sessions=2, events=2)
    source.close()
    out = tmp_path / "sessions.otlp.jsonl"
    assert (
        Cli(tmp_path / "src.db")("export", "--all", "--format", "otlp", "-o", str(out)).exit_code
        == 0
    )
    expected = (
        "agentlog: error: line 1 is OTLP JSON (as `export --format otlp` writes), "
        "not an AgentLog export; import it with: agentlog import --from otlp FILE"
    )
    for args in ([str(out)], [str(out), "--format", "ndjson"], [str(out), "--strict"]):
        result = cli("import", *args)
        assert result.exit_code == 2, (args, result.stdout, result.stderr)
        assert result.stderr.strip() == expected, args
    piped = cli("import", "-", input=out.read_text())
    assert piped.exit_code == 2 and piped.stderr.strip() == expected
    one = tmp_path / "one.json"
    one.write_bytes(out.read_bytes().splitlines()[0])
    result = cli("import", str(one))
    assert result.exit_code == 2 and "is OTLP JSON" in result.stderr, result.stderr
    assert store.count_sessions(SessionQuery()) == 0


def test_share_command(cli, store, tmp_path) -> None:
    sessions = fill(store, sessions=2, events=2)
    out = tmp_path / "bug.ndjson.gz"
    result = cli("share", sessions[0].id, "-o", str(out), "--redact", "session \\d")
    assert result.exit_code == 0, result.stderr
    assert "agentlog tui" in result.stderr and "values redacted" in result.stderr
    text = gzip.decompress(out.read_bytes()).decode()
    assert "session 1" not in text and "[REDACTED]" in text


def test_migrate_command_runs_previews_and_verifies(cli, store, tmp_path) -> None:
    fill(store, sessions=3, events=5)
    target = tmp_path / "team.db"
    preview = cli("migrate", "--to", str(target), "--dry-run", "--json")
    assert preview.exit_code == 0
    assert orjson.loads(preview.stdout)["events_sent"] == 15
    run = cli("migrate", "--to", str(target))
    assert run.exit_code == 0, run.stderr
    assert "sessions verified" in run.stdout and "events/s" in run.stdout
    check = cli("migrate", "--to", str(target), "--verify", "--json")
    report = orjson.loads(check.stdout)
    assert check.exit_code == 0 and report["verified"] == 3 and report["mismatches"] == []
    assert cli("migrate", "--to", str(store.path)).exit_code == 2


def test_migrate_to_postgresql_without_the_backend_says_so(cli, store, monkeypatch) -> None:
    # As in an install without the `team` extra: the backend cannot be imported.
    monkeypatch.setitem(sys.modules, "agentlog.storage.postgres.store", None)
    result = cli("migrate", "--to", "postgresql://postgres@127.0.0.1/test")
    assert result.exit_code == 2 and "PostgreSQL backend" in result.stderr
    assert "pip install 'agentlog[team]'" in result.stderr


def test_sync_status_and_sync_without_a_server(cli) -> None:
    status = cli("sync", "--status", "--json")
    assert status.exit_code == 0 and orjson.loads(status.stdout)["events"] == 0
    result = cli("sync")
    assert result.exit_code == 2 and "--server" in result.stderr


def test_every_portability_command_has_help_with_an_example(cli) -> None:
    for command in ("export", "import", "share", "migrate", "sync"):
        result = cli(command, "--help")
        assert result.exit_code == 0 and "Example: agentlog " in result.stdout


def test_docs_guide_exists_and_names_the_steps() -> None:
    guide = Path(__file__).resolve().parents[2] / "docs" / "migrate.md"
    text = guide.read_text(encoding="utf-8")
    for needle in (
        "agentlog serve",
        "agentlog migrate --to",
        "--verify",
        "--dry-run",
        "kill",
        "agentlog sync",
    ):
        assert needle in text, needle


def test_migrate_reads_the_local_store_even_with_a_server_configured(
    store, tmp_path, monkeypatch
) -> None:
    # The README exports AGENTLOG_SERVER before `agentlog migrate --to URL`: the
    # source must stay the laptop's store, not the server it points at.
    from typer.testing import CliRunner

    from agentlog.cli.app import app

    fill(store, sessions=2, events=3)
    monkeypatch.setenv("AGENTLOG_DB", str(store.path))
    monkeypatch.setenv("AGENTLOG_SERVER", "http://127.0.0.1:9")
    target = tmp_path / "team.db"
    run = CliRunner().invoke(app, ["migrate", "--to", str(target), "--json"])
    assert run.exit_code == 0, run.stderr
    assert orjson.loads(run.stdout)["events_sent"] == 6


def test_share_always_masks_secrets(cli, store, tmp_path) -> None:
    """share sends a session to someone else: @secrets (text and keys) is masked unasked."""
    from tests.support.portability import make_event, make_session

    key = "sk-abcdefghijklmnopqrstuvwxyz123456"
    session = make_session(1, metadata={"api_key": "k-123", "env": "prod"})
    store.write(
        [session],
        [
            make_event(session, 1, content=f"bob@example.com {key}"),
            make_event(session, 2, content="login with password=hunter2 then retry"),
        ],
    )
    for extra in ([], ["--redact", "@email"]):
        out = tmp_path / f"b{len(extra)}.ndjson.gz"
        result = cli("share", "latest", *extra, "-o", str(out))
        assert result.exit_code == 0, result.stderr
        text = gzip.decompress(out.read_bytes()).decode()
        assert key not in text and "hunter2" not in text and "k-123" not in text, extra
        assert "password=[REDACTED]" in text and '"env":"prod"' in text
        assert ("bob@example.com" in text) is (not extra)


def test_share_takes_comma_separated_presets_and_keys(cli, store, tmp_path) -> None:
    """As --tag and --fail-on do: `@email,@secrets` is two presets, `a,b` two keys."""
    from tests.support.portability import make_event, make_session

    session = make_session(1, metadata={"customer_id": "c-42", "phone": "555-0100"})
    store.write([session], [make_event(session, 1, content="mail bob@example.com ticket-7")])
    for args in (
        (
            "--redact",
            "@email,@secrets",
            "--redact",
            r"ticket-\d",
            "--redact-key",
            "customer_id,phone",
        ),
        (
            *("--redact", "@email", "--redact", "@secrets", "--redact", r"ticket-\d"),
            *("--redact-key", "customer_id", "--redact-key", " phone "),
        ),
    ):
        out = tmp_path / "b.ndjson.gz"
        out.unlink(missing_ok=True)
        result = cli("share", "latest", *args, "-o", str(out))
        assert result.exit_code == 0, (args, result.stderr)
        text = gzip.decompress(out.read_bytes()).decode()
        for secret in ("bob@example.com", "ticket-7", "c-42", "555-0100"):
            assert secret not in text, (args, secret)
    bad = cli("share", "latest", "--redact", "@email,@nope", "-o", str(tmp_path / "x.gz"))
    assert bad.exit_code == 2 and "unknown preset '@nope'" in bad.stderr, bad.stderr
    # a comma inside a regex of your own stays part of it
    out = tmp_path / "c.ndjson.gz"
    assert cli("share", "latest", "--redact", r"ticket-\d{1,3}", "-o", str(out)).exit_code == 0
    assert "ticket-7" not in gzip.decompress(out.read_bytes()).decode()


def test_share_and_export_refuse_to_overwrite_a_file_without_force(cli, store, tmp_path) -> None:
    """As `db backup` does: a redacted file must not be replaced unasked (exit 2, one line)."""
    fill(store, sessions=1, events=2)
    for command, name in [
        (["share", "latest"], "bug.ndjson.gz"),
        (["share", "latest"], "bug.ndjson"),  # share writes bug.ndjson.gz: that one is checked
        (["export", "--all"], "all.ndjson"),
        (["export", "--all", "--format", "otlp"], "all.otlp.jsonl"),
    ]:
        target = tmp_path / (name + ".gz" if name == "bug.ndjson" else name)
        target.write_bytes(b"keep me\n")
        result = cli(*command, "-o", str(tmp_path / name))
        assert result.exit_code == 2, (command, result.stdout, result.stderr)
        assert result.stderr.strip() == (
            f"agentlog: error: {target} already exists; choose another path or add --force"
        ), command
        assert target.read_bytes() == b"keep me\n", command
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".part")) == []
        forced = cli(*command, "-o", str(tmp_path / name), "--force")
        assert forced.exit_code == 0, (command, forced.stderr)
        assert target.read_bytes() != b"keep me\n", command
        target.unlink()
    # stdout and devices are not files to protect
    assert cli("export", "--all", "-o", "-").exit_code == 0
    assert cli("export", "--all", "-o", "/dev/null").exit_code == 0


def test_import_of_a_binary_file_says_it_is_not_an_export(cli, store, tmp_path) -> None:
    """Not 'truncated', 'not valid UTF-8' or a table of zeros: one line, exit 2, whatever the name."""
    import random

    noise = random.Random(0).randbytes(5000)
    expected = (
        "agentlog: error: the file is not an AgentLog export: it is binary, not text "
        "(an export is NDJSON, JSON or CSV, optionally gzipped)"
    )
    for name, body in [
        ("x.bin", noise),
        ("x.ndjson", noise),
        ("x.json", b"{" + noise),
        ("x.csv", noise),
        ("x.ndjson.gz", gzip.compress(noise)),
        ("x", b"id,session_id\x00\x01\x02" + noise),
    ]:
        (tmp_path / name).write_bytes(body)
        for extra in ([], ["--format", "ndjson"]):
            result = cli("import", str(tmp_path / name), *extra)
            assert result.exit_code == 2, (name, extra, result.stdout, result.stderr)
            assert result.stdout == "" and result.stderr.strip() == expected, (name, extra)
    piped = cli("import", "-", input=noise)
    assert piped.exit_code == 2 and piped.stderr.strip() == expected
    assert store.count_sessions(SessionQuery()) == 0
    # text in another encoding is still told to re-save as UTF-8, not called binary
    latin = tmp_path / "latin.ndjson"
    latin.write_bytes('{"kind": "session", "title": "caf\xe9"}\n'.encode("latin-1"))
    assert "UTF-8" in cli("import", str(latin)).stderr
