"""`agentlog admin …`: users, teams, API keys and signing keys of an AgentLog server.

Like Django's `createsuperuser`, these run on the server's machine straight
against its database (`--db`, default: the configured store), so the first
admin can be made before anyone can log in. With a server configured
(`--server`, AGENTLOG_SERVER, or `agentlog login`) and no `--db`, they call
that server's admin API instead, with your key. A running server sees
database changes within seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

from agentlog.cli.context import get_state
from agentlog.cli.options import JsonOpt, NdjsonOpt
from agentlog.cli.output import (
    Column,
    Format,
    message,
    output_format,
    print_json,
    print_object,
    print_rows,
    write_line,
)
from agentlog.errors import UsageError
from agentlog.storage.accounts import Role

if TYPE_CHECKING:
    from agentlog.server.admin_ops import Admin

admin_app = typer.Typer(
    help="Manage the server's users, teams and API keys.\n\n"
    "Example: agentlog admin create-user you@example.com --admin",
    no_args_is_help=True,
)
teams_app = typer.Typer(
    help="Create and list teams.\n\nExample: agentlog admin teams create research",
    no_args_is_help=True,
)
users_app = typer.Typer(
    help="List, change and disable users.\n\nExample: agentlog admin users list",
    no_args_is_help=True,
)
keys_app = typer.Typer(
    help="Create, list, rotate and revoke API keys.\n\nExample: agentlog admin keys create --label ci --json",
    no_args_is_help=True,
)
admin_app.add_typer(teams_app, name="teams")
admin_app.add_typer(users_app, name="users")
admin_app.add_typer(keys_app, name="keys")

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db", metavar="URL", help="The server's database (default: the configured store)."
    ),
]
TeamOpt = Annotated[str | None, typer.Option("--team", metavar="NAME", help="Team name.")]
PasswordStdinOpt = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input.")
]

USER_COLUMNS = [
    Column("id", lambda u: u["id"]),
    Column("email", lambda u: u["email"]),
    Column("role", lambda u: u["role"]),
    Column("team", lambda u: u["team"]),
    Column("disabled", lambda u: "yes" if u["disabled"] else ""),
    Column("created", lambda u: u["created_at"]),
]
KEY_COLUMNS = [
    Column("id", lambda k: k["id"]),
    Column("prefix", lambda k: k["prefix"]),
    Column("label", lambda k: k["label"], max_width=40),
    Column("team", lambda k: k["team"]),
    Column("owner", lambda k: k["owner"]),
    Column("created", lambda k: k["created_at"]),
    Column("last used", lambda k: k["last_used_at"]),
    Column("revoked", lambda k: k["revoked_at"]),
]
TEAM_COLUMNS = [
    Column("id", lambda t: t["id"]),
    Column("name", lambda t: t["name"]),
    Column("created", lambda t: t["created_at"]),
    Column("retention", lambda t: f"{t['retention_days']} days" if t.get("retention_days") else ""),
]


@contextmanager
def _admin(ctx: typer.Context, db: str | None) -> Iterator[Admin]:
    """The server's database (--db, else the server's default store) when no server is
    configured, else its API."""
    from agentlog.server.admin_ops import HttpAdmin, LocalAdmin

    state = get_state(ctx)
    settings = state.settings()
    backend: Any
    if db or state.db or not (state.server or settings.server):
        backend = LocalAdmin(db or state.db or settings.server_db)
    else:
        backend = HttpAdmin(state.server or settings.server or "", settings.api_key)
    try:
        yield backend
    finally:
        backend.close()


def _print_secret(row: dict[str, Any], json: bool) -> None:
    if json:
        print_json(row)
        return
    message(f"API key {row['id']} ({row['prefix']}…, label {row['label']!r}, team {row['team']}).")
    message("The secret, shown once (only a hash is kept):")
    write_line(row["secret"])


@admin_app.command("create-user")
def create_user(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(metavar="EMAIL", help="The new user's email.")],
    admin: Annotated[
        bool, typer.Option("--admin", help="Make the user their team's admin.")
    ] = False,
    owner: Annotated[
        bool, typer.Option("--owner", help="Make the user a server owner (every team).")
    ] = False,
    role: Annotated[
        Role,
        typer.Option("--role", case_sensitive=False, help="owner, admin, member or viewer."),
    ] = Role.MEMBER,
    team: TeamOpt = None,
    password_stdin: PasswordStdinOpt = False,
    json: JsonOpt = False,
    db: DbOpt = None,
) -> None:
    """Create a user (and their team if new); without --password-stdin a password is generated and printed once.

    Example: agentlog admin create-user you@example.com --admin --team platform
    """
    from agentlog.cli.login import read_password

    password = read_password(True) if password_stdin else None
    with _admin(ctx, db) as backend:
        chosen = Role.OWNER if owner else Role.ADMIN if admin else role
        row = backend.create_user(email, password, chosen, team)
    if json:
        print_json(row)
        return
    message(
        f"Created {row['role']} {row['email']} (id {row['id']}) in team {row['team']} "
        f"({backend.where})."
    )
    if row.get("generated_password"):
        message("Generated password (shown once):")
        write_line(row["generated_password"])


@teams_app.command("create")
def teams_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="Team name.")],
    json: JsonOpt = False,
    db: DbOpt = None,
) -> None:
    """Create a team.

    Example: agentlog admin teams create research
    """
    with _admin(ctx, db) as backend:
        team = backend.create_team(name)
    if json:
        print_json(team)
    else:
        message(f"Created team {team['name']} (id {team['id']}).")


@teams_app.command("list")
def teams_list(
    ctx: typer.Context, json: JsonOpt = False, ndjson: NdjsonOpt = False, db: DbOpt = None
) -> None:
    """Every team.

    Example: agentlog admin teams list --json
    """
    fmt = output_format(json, ndjson)
    with _admin(ctx, db) as backend:
        rows = backend.list_teams()
    print_rows(
        rows, TEAM_COLUMNS, fmt, empty="no teams yet; `agentlog admin teams create NAME` adds one"
    )


@teams_app.command("retention")
def teams_retention(
    ctx: typer.Context,
    team: Annotated[str, typer.Argument(metavar="TEAM", help="Team name or id.")],
    days: Annotated[
        int | None,
        typer.Option(
            "--days",
            min=1,
            max=36_500,
            help="Erase the team's sessions once idle this many days.",
        ),
    ] = None,
    forever: Annotated[
        bool, typer.Option("--forever", help="Keep the team's sessions for ever (the default).")
    ] = False,
    json: JsonOpt = False,
    db: DbOpt = None,
) -> None:
    """Set how long a team keeps its sessions; the server erases older ones on its own.

    Example: agentlog admin teams retention research --days 90
    """
    if (days is None) == (not forever):
        raise UsageError("give either --days N or --forever")
    with _admin(ctx, db) as backend:
        row = backend.set_retention(team, days)
    if json:
        print_json(row)
    elif row["retention_days"]:
        message(
            f"Team {row['name']} keeps sessions {row['retention_days']} days after their last activity."
        )
    else:
        message(f"Team {row['name']} keeps its sessions for ever.")


@admin_app.command("retention")
def retention(
    ctx: typer.Context,
    archive: Annotated[
        str | None,
        typer.Option(
            "--archive",
            metavar="DIR",
            help="Write what is erased to DIR/<team>-<time>.ndjson.gz first (--db only).",
        ),
    ] = None,
    json: JsonOpt = False,
    db: DbOpt = None,
) -> None:
    """Apply every team's retention now (the server also does it every hour).

    Example: agentlog admin retention --archive /backups/agentlog
    """
    with _admin(ctx, db) as backend:
        row = backend.apply_retention(archive)
    if json:
        print_json(row)
        return
    erased = sum(row["sessions_erased"].values())
    message(
        f"Erased {erased:,} sessions past their team's retention"
        + (f"; dropped months {', '.join(row['months_dropped'])}" if row["months_dropped"] else "")
        + (f"; archived to {', '.join(row['archives'].values())}" if row["archives"] else "")
        + "."
    )


@users_app.command("list")
def users_list(
    ctx: typer.Context,
    team: TeamOpt = None,
    json: JsonOpt = False,
    ndjson: NdjsonOpt = False,
    db: DbOpt = None,
) -> None:
    """Every user (or one team's).

    Example: agentlog admin users list --team platform
    """
    fmt = output_format(json, ndjson)
    with _admin(ctx, db) as backend:
        rows = backend.list_users(team)
    print_rows(
        rows,
        USER_COLUMNS,
        fmt,
        empty="no users yet; `agentlog admin create-user EMAIL --admin` adds one",
    )


@users_app.command("update")
def users_update(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(metavar="USER", help="Email or id.")],
    role: Annotated[
        Role | None, typer.Option("--role", case_sensitive=False, help="New role.")
    ] = None,
    team: TeamOpt = None,
    enable: Annotated[bool, typer.Option("--enable", help="Re-enable a disabled user.")] = False,
    password_stdin: PasswordStdinOpt = False,
    json: JsonOpt = False,
    db: DbOpt = None,
) -> None:
    """Change a user's role, team or password, or re-enable them.

    Example: agentlog admin users update ana@example.com --role viewer
    """
    from agentlog.cli.login import read_password

    if role is None and team is None and not enable and not password_stdin:
        raise UsageError("nothing to change: give --role, --team, --enable or --password-stdin")
    password = read_password(True) if password_stdin else None
    with _admin(ctx, db) as backend:
        row = backend.update_user(user, role=role, team=team, enable=enable, password=password)
    if json:
        print_object(row, Format.JSON)
        return
    message(
        f"Updated {row['email']}: role {row['role']}, team {row['team']}"
        + (", disabled" if row["disabled"] else "")
    )


@users_app.command("disable")
def users_disable(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(metavar="USER", help="Email or id.")],
    db: DbOpt = None,
) -> None:
    """Disable a user: they cannot log in and their API keys are revoked.

    Example: agentlog admin users disable ana@example.com
    """
    with _admin(ctx, db) as backend:
        row = backend.disable_user(user)
    message(f"Disabled {row['email']}; their API keys are revoked.")


@users_app.command("erase")
def users_erase(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(metavar="USER", help="Email or id.")],
    sessions: Annotated[
        str,
        typer.Option(
            "--sessions",
            metavar="delete|transfer",
            help="Their sessions: delete them with their events, or transfer them to the team.",
        ),
    ],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    json: JsonOpt = False,
    db: DbOpt = None,
) -> None:
    """Erase a user (GDPR): sessions deleted or transferred, API keys deleted, audit entries pseudonymised.

    Example: agentlog admin users erase ana@example.com --sessions transfer --yes
    """
    import sys

    from agentlog.cli.output import is_terminal
    from agentlog.server.service import SESSION_CHOICES

    if sessions not in SESSION_CHOICES:
        raise UsageError(f"--sessions must be delete or transfer, not {sessions!r}")
    if not yes:
        if not is_terminal(sys.stdin):
            raise UsageError("refusing to erase a user without confirmation; add --yes")
        typer.confirm(f"Erase {user} for good ({sessions} their sessions)?", abort=True, err=True)
    with _admin(ctx, db) as backend:
        row = backend.erase_user(user, sessions)
    if json:
        print_json(row)
        return
    done = "deleted" if sessions == "delete" else "transferred to the team"
    message(
        f"Erased {row['email']}: {row['sessions_affected']:,} sessions {done}, "
        f"{row['keys_deleted']} API keys deleted, {row['audit_entries_pseudonymised']} audit "
        f"entries now say {row['pseudonym']}."
    )


@keys_app.command("create")
def keys_create(
    ctx: typer.Context,
    label: Annotated[str, typer.Option("--label", help="What the key is for, e.g. ci or laptop.")],
    team: TeamOpt = None,
    user: Annotated[
        str | None,
        typer.Option("--user", metavar="EMAIL", help="Owner (default: the first admin, or you)."),
    ] = None,
    json: JsonOpt = False,
    db: DbOpt = None,
) -> None:
    """Create an API key and print its secret once.

    Example: agentlog admin keys create --label ci --team platform --json
    """
    with _admin(ctx, db) as backend:
        row = backend.create_key(label, team, user)
    _print_secret(row, json)


@keys_app.command("list")
def keys_list(
    ctx: typer.Context,
    team: TeamOpt = None,
    json: JsonOpt = False,
    ndjson: NdjsonOpt = False,
    db: DbOpt = None,
) -> None:
    """Every API key (prefixes only; secrets are never kept).

    Example: agentlog admin keys list --team platform
    """
    fmt = output_format(json, ndjson)
    with _admin(ctx, db) as backend:
        rows = backend.list_keys(team)
    print_rows(
        rows, KEY_COLUMNS, fmt, empty="no API keys yet; `agentlog admin keys create --label NAME`"
    )


@keys_app.command("rotate")
def keys_rotate(
    ctx: typer.Context,
    key_id: Annotated[str, typer.Argument(metavar="ID", help="The key's id.")],
    grace_seconds: Annotated[
        int, typer.Option("--grace-seconds", min=0, help="Keep the old secret working this long.")
    ] = 0,
    json: JsonOpt = False,
    db: DbOpt = None,
) -> None:
    """Replace a key's secret (same owner, team and label); the old one stops working.

    Example: agentlog admin keys rotate 0190c3a4-... --grace-seconds 3600
    """
    with _admin(ctx, db) as backend:
        row = backend.rotate_key(key_id.strip(), grace_seconds)
    _print_secret(row, json)


@keys_app.command("revoke")
def keys_revoke(
    ctx: typer.Context,
    key_id: Annotated[str, typer.Argument(metavar="ID", help="The key's id.")],
    db: DbOpt = None,
) -> None:
    """Revoke a key at once.

    Example: agentlog admin keys revoke 0190c3a4-...
    """
    with _admin(ctx, db) as backend:
        row = backend.revoke_key(key_id.strip())
    message(f"Revoked API key {row['id']} ({row['prefix']}…).")


@admin_app.command("rotate-signing-key")
def rotate_signing_key(ctx: typer.Context) -> None:
    """Add a new JWT signing key; tokens signed by the previous keys stay valid until they expire.

    Example: agentlog admin rotate-signing-key
    """
    from agentlog.config import data_dir
    from agentlog.server.tokens import KeyRing

    kid = KeyRing(data_dir()).rotate()
    message(f"New signing key {kid}; running servers pick it up on its first token.")


@admin_app.command("audit")
def audit(
    ctx: typer.Context,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=1000, help="How many entries.")
    ] = 50,
    json: JsonOpt = False,
    ndjson: NdjsonOpt = False,
    db: DbOpt = None,
) -> None:
    """The newest audit entries: erasures, key and user changes, logins.

    Example: agentlog admin audit --limit 20
    """
    fmt = output_format(json, ndjson)
    with _admin(ctx, db) as backend:
        rows = backend.audit(limit)
    columns = [
        Column("at", lambda e: e["at"]),
        Column("action", lambda e: e["action"]),
        Column("target", lambda e: e["target"]),
        Column("actor", lambda e: e["actor_user_id"]),
        Column("details", lambda e: e["details"], max_width=60),
    ]
    print_rows(rows, columns, fmt, empty="no audit entries")


def register(app: typer.Typer) -> None:
    app.add_typer(admin_app, name="admin")
