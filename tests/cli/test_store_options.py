"""--server/--api-key/--db work after the command as well as before it."""

from __future__ import annotations

import orjson
import pytest
from typer.testing import CliRunner

from agentlog.cli.app import app


def test_db_after_the_subcommand_reads_that_store(demo_db) -> None:
    result = CliRunner().invoke(
        app, ["sessions", "list", "--limit", "3", "--json", "--db", str(demo_db)]
    )
    assert result.exit_code == 0, result.stderr
    assert len(orjson.loads(result.stdout)["items"]) == 3


def test_db_after_a_command_in_a_group_and_a_plain_command(demo_db, demo) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["search", "timeout", "--json", "--db", str(demo_db)])
    assert result.exit_code == 0, result.stderr
    assert orjson.loads(result.stdout)["items"]
    result = runner.invoke(app, ["db", "info", "--json", "--db", str(demo_db)])
    assert result.exit_code == 0, result.stderr
    assert orjson.loads(result.stdout)["events"] == demo.event_count


def test_server_after_the_subcommand_is_used(demo_db) -> None:
    result = CliRunner().invoke(
        app, ["sessions", "list", "--server", "http://127.0.0.1:9", "--api-key", "k"]
    )
    assert result.exit_code == 1
    assert "127.0.0.1:9" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_command_keeps_its_own_option_of_the_same_name() -> None:
    import typer

    group = typer.main.get_group(app)
    migrate = group.get_command(None, "migrate")
    owners = [p for p in migrate.params if "--api-key" in getattr(p, "opts", ())]
    assert len(owners) == 1
    assert owners[0].expose_value  # migrate's own target key, not the global one


def test_a_server_without_a_scheme_is_an_error_not_a_new_database(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["sessions", "list", "--server", "127.0.0.1:8250"])
    assert result.exit_code != 0
    assert result.stderr.strip().splitlines() == [
        "agentlog: error: --server is '127.0.0.1:8250', which has no scheme; use "
        "http://127.0.0.1:8250 (or https://127.0.0.1:8250 for a server behind TLS)"
    ]
    monkeypatch.setenv("AGENTLOG_SERVER", "agentlog.example.com")
    result = runner.invoke(app, ["sessions", "list"])
    assert result.exit_code != 0
    assert "AGENTLOG_SERVER is 'agentlog.example.com', which has no scheme" in result.stderr
    assert list(tmp_path.iterdir()) == []  # no SQLite file named after the host


@pytest.mark.parametrize(
    "args",
    [
        ["--db", "htp://nowhere", "sessions", "list"],
        ["--db", "postgress://user:secret@host/db", "stats"],
        ["--db", "sqlite://x.db", "sessions", "list"],
        ["migrate", "--to", "htps://nowhere"],
    ],
)
def test_a_store_url_of_no_known_kind_is_an_error_not_a_new_database(
    tmp_path, monkeypatch, demo_db, args
) -> None:
    """A mistyped scheme once became a folder named after it with a database inside (a
    `migrate --to htp://...` copied every session there and reported success)."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("AGENTLOG_DB", str(demo_db))
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    scheme = args[1].split("://")[0] if args[0] == "--db" else "htps"
    assert result.stderr.strip().splitlines() == [
        f"agentlog: error: {scheme}:// is not a kind of store; give a file path,"
        " sqlite:///PATH, postgresql://HOST/DB or http(s)://SERVER"
    ]
    assert "secret" not in result.output
    assert list(cwd.iterdir()) == []


def test_sqlite_urls_and_paths_still_open(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    for db in ("plain.db", "sqlite:///url.db", str(tmp_path / "absolute.db")):
        result = CliRunner().invoke(app, ["--db", db, "sessions", "new", "x"])
        assert result.exit_code == 0, result.stderr
        result = CliRunner().invoke(app, ["--db", db, "sessions", "list", "--json"])
        assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in tmp_path.glob("*.db")) == ["absolute.db", "plain.db", "url.db"]


@pytest.mark.parametrize("how", ["env", "db", "sqlite-url", "migrate"])
def test_a_store_path_that_is_a_directory_says_so(tmp_path, monkeypatch, demo_db, how) -> None:
    """An existing folder given as the database was 'missing or not writable', which it is not."""
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setenv("AGENTLOG_DB", str(folder) if how == "env" else str(demo_db))
    args = {
        "env": ["sessions", "list"],
        "db": ["--db", str(folder), "sessions", "list"],
        "sqlite-url": ["--db", f"sqlite:///{folder}", "sessions", "list"],
        "migrate": ["migrate", "--to", str(folder)],
    }[how]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines() == [
        f"agentlog: error: {folder} is a directory; give a file name for the database,"
        f" e.g. {folder / 'agentlog.db'}"
    ]
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize(
    "args",
    [
        ["migrate", "--to", "127.0.0.1:18650", "--dry-run"],
        ["migrate", "--to", "agentlog.example.com:443"],
        ["--db", "localhost:8250", "sessions", "list"],
    ],
)
def test_a_host_and_port_is_a_server_address_not_a_file(
    tmp_path, monkeypatch, demo_db, args
) -> None:
    """`migrate --to 127.0.0.1:18650` (the scheme forgotten) made a SQLite file of that name
    beside you, and a real run would have 'migrated' every session into it."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("AGENTLOG_DB", str(demo_db))
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    target = args[args.index("--to") + 1] if "--to" in args else args[1]
    assert result.stderr.strip().splitlines() == [
        f"agentlog: error: {target} looks like a server address; give http://{target}"
        f" (or ./{target} for a file of that name)"
    ]
    assert list(cwd.iterdir()) == []


def test_a_file_of_such_a_name_still_opens_with_a_path(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["--db", "./notes:2026", "sessions", "new", "x"])
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "notes:2026").exists()
    result = CliRunner().invoke(app, ["--db", "./notes:2026", "sessions", "list", "--json"])
    assert result.exit_code == 0, result.stderr


def test_a_dry_run_or_a_verify_creates_no_target(tmp_path, demo_db) -> None:
    """A preview changes nothing: it used to create the target file and its folders."""
    target = tmp_path / "nodir" / "x.db"
    runner = CliRunner()
    result = runner.invoke(app, ["--db", str(demo_db), "migrate", "--to", str(target), "--dry-run"])
    assert result.exit_code == 0, result.stderr
    assert "nothing was sent" in result.stderr + result.stdout
    result = runner.invoke(app, ["--db", str(demo_db), "migrate", "--to", str(target), "--verify"])
    assert result.exit_code == 2
    assert f"there is no store at {target}; nothing to verify" in result.stderr
    assert not (tmp_path / "nodir").exists()


# -- a read never creates a store (issue: a mistyped --db read "no sessions yet")
READS = [
    ("sessions", "list"),
    ("sessions", "show", "latest"),
    ("sessions", "delete", "latest", "--yes"),
    ("search", "timeout"),
    ("events", "latest"),
    ("stats",),
    ("agents",),
    ("export", "--all", "-o", "OUT"),
    ("share", "latest", "-o", "OUT"),
    ("compare", "latest", "latest"),
    ("replay", "llm", "latest"),
    ("db", "info"),
]


@pytest.mark.parametrize("args", READS, ids=lambda a: " ".join(a))
def test_a_read_of_a_mistyped_db_says_so_and_creates_nothing(tmp_path, monkeypatch, args) -> None:
    monkeypatch.chdir(tmp_path)
    typo = tmp_path / "nope" / "typo.db"
    args = tuple(str(tmp_path / "out.ndjson") if a == "OUT" else a for a in args)
    result = CliRunner().invoke(app, [*args, "--db", str(typo)])
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stderr.strip().splitlines() == [
        f"agentlog: error: no AgentLog store at {typo}: check the path, or record something"
        f" first (agentlog demo --db {typo})"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no folder, no file


def test_a_mistyped_agentlog_db_is_named_with_where_it_came_from(tmp_path, monkeypatch) -> None:
    typo = tmp_path / "typo.db"
    monkeypatch.setenv("AGENTLOG_DB", str(typo))
    result = CliRunner().invoke(app, ["sessions", "list"])
    assert result.exit_code == 2
    assert f"no AgentLog store at {typo} (from AGENTLOG_DB): check the path" in result.stderr
    assert not typo.exists()


def test_the_tui_and_tail_refuse_a_mistyped_db_too(tmp_path) -> None:
    typo = tmp_path / "typo.db"
    for args in (["tail"], ["sessions", "list"]):
        result = CliRunner().invoke(app, [*args, "--db", str(typo)])
        assert result.exit_code == 2 and "no AgentLog store at" in result.stderr
    from agentlog.cli.context import CLIState

    with pytest.raises(Exception, match="no AgentLog store at"):
        CLIState(db=str(typo)).store(access="follow")  # what `agentlog tui` opens
    assert not typo.exists()


def test_recording_commands_still_create_the_store(tmp_path) -> None:
    db = tmp_path / "new" / "agentlog.db"
    result = CliRunner().invoke(app, ["sessions", "new", "first", "--db", str(db)])
    assert result.exit_code == 0, result.stderr
    assert db.exists()
    result = CliRunner().invoke(app, ["log", "LOG", "hi", "-S", "latest", "--db", str(db)])
    assert result.exit_code == 0, result.stderr
    result = CliRunner().invoke(app, ["sessions", "list", "--json", "--db", str(db)])
    assert result.exit_code == 0 and len(orjson.loads(result.stdout)["items"]) == 1


def test_a_new_users_first_list_says_no_sessions_yet_and_creates_nothing(tmp_path) -> None:
    home = tmp_path / "home"  # AGENTLOG_HOME: the default store would be made in here
    env = {"AGENTLOG_HOME": str(home), "AGENTLOG_DB": None}
    result = CliRunner().invoke(app, ["sessions", "list"], env=env)
    assert result.exit_code == 0, result.stderr
    assert "no sessions yet: record some" in result.stderr + result.stdout
    result = CliRunner().invoke(app, ["stats", "--json"], env=env)
    assert result.exit_code == 0, result.stderr
    assert not home.exists() or not any(home.rglob("*.db"))
