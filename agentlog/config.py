"""Settings in one place: flag > environment (AGENTLOG_*) > config file > default.

Directories come from platformdirs; `AGENTLOG_HOME` puts data and config in
one folder (tests and CI use it). The config file is TOML (`config.toml` in
the config directory); `agentlog config show|get|set|path` edits it.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from agentlog.errors import ConfigError

APP_NAME = "agentlog"
CONFIG_FILE = "config.toml"
DB_FILE = "agentlog.db"
# The team server's own store: never the local store, which `migrate --to` moves from.
SERVER_DB_FILE = "server.db"


@dataclass(frozen=True, slots=True)
class Setting:
    """One documented setting: its key in the file, its env var, its type and default."""

    key: str
    type: type
    default: Any
    help: str
    secret: bool = False
    check: Any = None  # (value, source) -> value, or ConfigError

    @property
    def env(self) -> str:
        return "AGENTLOG_" + self.key.upper().replace(".", "_")


def server_url(value: str, source: str = "the server setting") -> str:
    """The one parser of a server URL: it needs a scheme, or ConfigError naming the fix.

    Without one, `127.0.0.1:8250` would silently become a SQLite file of that name.
    """
    text = str(value).strip()
    if not text or "://" in text:
        return text
    host = text.split("/")[0]
    raise ConfigError(
        f"{source} is {text!r}, which has no scheme; use http://{host} "
        f"(or https://{host} for a server behind TLS)"
    )


# A yes/no setting takes these words, in any case; anything else is refused, never read as yes.
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")
FLAG_WORDS = "1/0, true/false, yes/no or on/off"


def parse_flag(value: Any, source: str, default: bool | None = False) -> bool | None:
    """The one parser of a yes/no value (environment, config file, flag): empty is `default`,
    a word it does not know a ConfigError naming `source` and the words it takes."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text == "":
        return default
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ConfigError(f"{source} is {value!r}; use {FLAG_WORDS}")


def _flag_or_auto(value: Any, source: str) -> str:
    """A check: auto (or empty), or a yes/no word; kept as auto, 1 or 0."""
    if str(value).strip().lower() in ("", "auto"):
        return "auto"
    try:
        return "1" if parse_flag(value, source) else "0"
    except ConfigError:
        raise ConfigError(f"{source} is {value!r}; use auto, {FLAG_WORDS}") from None


def _presets(*choices: str) -> Any:
    """A check: a comma-separated list whose every item is one of `choices`."""

    def check(value: Any, source: str) -> str:
        items = [item.strip() for item in str(value).split(",") if item.strip()]
        for item in items:
            if item not in choices:
                raise ConfigError(
                    f"{source} holds {item!r}; it takes the presets {', '.join(choices)} "
                    "(give your own regular expressions to AgentLog(redact=[...]))"
                )
        return ",".join(items)

    return check


def _one_of(*choices: str) -> Any:
    def check(value: str, source: str) -> str:
        text = str(value).strip().lower()
        if text not in choices:
            raise ConfigError(f"{source} is {value!r}; use one of {', '.join(choices)}")
        return text

    return check


def _port(value: int, source: str) -> int:
    """A check: a TCP port number (1-65535)."""
    if not 1 <= value <= 65535:
        raise ConfigError(f"{source} is {value}; use a port number from 1 to 65535")
    return value


def _between(low: float, high: float | None, advice: str) -> Any:
    """A check: a number from `low` to `high` (None: no top), else one line with `advice`."""

    def check(value: float, source: str) -> float:
        if value < low or (high is not None and value > high):
            raise ConfigError(f"{source} is {value:g}; {advice}")
        return value

    return check


def _origins(value: str, source: str) -> str:
    """A check: comma-separated browser origins, each scheme://host[:port] or `*` (any).

    CORS compares a browser's Origin header with each item as text, and an Origin has no
    path and no trailing slash, so `https://app.example.com/` or `notanorigin` never matched.
    """
    from urllib.parse import urlsplit

    items = [item.strip() for item in str(value).split(",") if item.strip()]
    for item in items:
        if item == "*":
            continue
        try:
            parts = urlsplit(item)
            port_ok = parts.port is None or parts.port > 0
        except ValueError:
            port_ok = False
        if not (
            port_ok
            and parts.scheme
            and parts.hostname
            and item == f"{parts.scheme}://{parts.netloc}"
            and "@" not in parts.netloc
        ):
            raise ConfigError(
                f"{source} holds {item!r}; an origin is scheme://host[:port], such as "
                "https://app.example.com (or * for any)"
            )
    return ",".join(items)


REDIS_SCHEMES = ("redis", "rediss", "unix")


def _redis_url(value: str, source: str) -> str:
    """A check: empty (in-process limits) or a URL redis-py reads; anything else failed per request."""
    text = str(value).strip()
    scheme, sep, _ = text.partition("://")
    if text and (not sep or scheme.lower() not in REDIS_SCHEMES):
        raise ConfigError(
            f"{source} is {value!r}; use a redis://, rediss:// or unix:// URL "
            "(or nothing, for in-process limits)"
        )
    return text


SETTINGS: dict[str, Setting] = {
    s.key: s
    for s in [
        Setting("db", str, "", "Store URL or SQLite path (default: agentlog.db in the data dir)"),
        Setting(
            "server",
            str,
            "",
            "AgentLog server URL; when set, the SDK and CLI use it",
            check=server_url,
        ),
        Setting("api_key", str, "", "API key (or token) for the server", secret=True),
        Setting("agent_id", str, "", "Default agent id when the code gives none"),
        Setting("limits.max_db_mb", int, 2048, "Warn when the local database passes this size"),
        Setting(
            "limits.max_sessions",
            int,
            100_000,
            "Warn when the local store passes this many sessions",
        ),
        Setting("limits.retention_days", int, 0, "`db prune` default age in days (0 = keep all)"),
        Setting(
            "sqlite.synchronous",
            str,
            "normal",
            "normal: a commit survives a crash of the process; full: also a power loss "
            "(an fsync per commit)",
            check=_one_of("normal", "full"),
        ),
        Setting(
            "display.stale_after_minutes",
            int,
            30,
            "Show an active session with no activity for this long as stale (0 = never)",
        ),
        Setting("sdk.batch_size", int, 500, "Events per SDK write batch"),
        Setting("sdk.flush_interval", float, 0.5, "Seconds between SDK background flushes"),
        Setting(
            "sdk.redact",
            str,
            "",
            "Comma-separated presets (@secrets, @email) the SDK masks in every session and "
            "event before it is written (your own regexes: AgentLog(redact=[...]))",
            check=_presets("@secrets", "@email"),
        ),
        Setting(
            "sdk.redact_keys",
            str,
            "",
            "Comma-separated metadata keys (or @secrets) whose values the SDK masks before "
            "anything is written",
        ),
        Setting(
            "encryption.key",
            str,
            "",
            "Fernet keys (comma-separated, the sealing one first) that encrypt event content "
            "and metadata at rest; `agentlog db keygen` makes one",
            secret=True,
        ),
        Setting(
            "encryption.fields",
            str,
            "content,metadata",
            "What encryption.key seals: content, metadata or both (what is sealed is not "
            "searchable or filterable)",
        ),
        Setting("serve.host", str, "127.0.0.1", "Address `agentlog serve` binds"),
        Setting("serve.port", int, 8250, "Port `agentlog serve` listens on", check=_port),
        Setting(
            "serve.cors_origins",
            str,
            "",
            "Comma-separated origins allowed by CORS (off when empty)",
            check=_origins,
        ),
        Setting(
            "serve.jwt_secret",
            str,
            "",
            "JWT signing key (generated on first start when empty)",
            secret=True,
        ),
        Setting(
            "serve.redis_url",
            str,
            "",
            "Redis URL for rate limits and live streams (team deployments)",
            check=_redis_url,
        ),
        Setting(
            "serve.workers",
            int,
            1,
            "Worker processes `agentlog serve` starts",
            check=_between(1, 64, "use 1 to 64 worker processes"),
        ),
        Setting(
            "serve.redis_timeout_seconds",
            float,
            0.25,
            "Connect/read timeout of each Redis command (a hung Redis costs this once, then is skipped)",
        ),
        Setting("serve.access_ttl_seconds", int, 15 * 60, "Lifetime of a login's access token"),
        Setting(
            "serve.refresh_ttl_seconds", int, 30 * 24 * 3600, "Lifetime of a login's refresh token"
        ),
        Setting(
            "serve.max_body_bytes",
            int,
            10 * 1024 * 1024,
            "Largest request body the server reads (a batch is at most 10 MiB)",
        ),
        Setting(
            "serve.key_cache_seconds",
            float,
            2.0,
            "How long a checked API key is trusted before it is read again (revocation delay)",
        ),
        Setting("serve.usage_flush_seconds", float, 5.0, "How often per-team API usage is written"),
        Setting(
            "serve.retention_interval_seconds",
            float,
            3600.0,
            "How often the server applies each team's retention_days and makes the coming months'"
            " event partitions (PostgreSQL); 0: never",
        ),
        Setting(
            "serve.retention_archive_dir",
            str,
            "",
            "Write sessions to DIR/<team>-<time>.ndjson.gz before retention erases them"
            " (empty: no archive)",
        ),
        Setting(
            "serve.access_log",
            bool,
            True,
            "1: one JSON line per request on stdout (request id, route, status, duration, who); 0: none",
        ),
        Setting(
            "serve.rate_limit_per_minute",
            int,
            6000,
            "Requests per minute per API key or user (0 = no limit)",
            check=_between(0, None, "use 0 (no limit) or more"),
        ),
        Setting(
            "serve.login_limit_per_minute",
            int,
            10,
            "Login attempts per minute per client address (0 = no limit)",
            check=_between(0, None, "use 0 (no limit) or more"),
        ),
        Setting(
            "serve.cookie_secure",
            str,
            "auto",
            "Web sign-in cookies: auto = Secure over https; 1 = always (TLS ends at a proxy); 0 = never",
            check=_flag_or_auto,
        ),
        Setting(
            "serve.db_wait_seconds",
            float,
            0.0,
            "How long `serve` retries an unreachable database at start (containers: 60)",
            check=_between(0, None, "use 0 (no wait) or more seconds"),
        ),
        Setting(
            "oidc.issuer",
            str,
            "",
            "OpenID Connect sign-in on the web pages: `google`, or the issuer's URL (its "
            "discovery document is ISSUER/.well-known/openid-configuration); empty = off",
        ),
        Setting(
            "oidc.discovery_url",
            str,
            "",
            "The provider's discovery document, when it is not under the issuer",
        ),
        Setting("oidc.client_id", str, "", "The client id the provider gave this server"),
        Setting("oidc.client_secret", str, "", "The client secret that goes with it", secret=True),
        Setting(
            "oidc.domain_teams",
            str,
            "",
            "Which e-mail domains may join which team at their first sign-in: "
            "example.com=acme,lab.example.org=research (other unknown e-mails are refused)",
        ),
        Setting(
            "oidc.redirect_url",
            str,
            "",
            "The callback registered with the provider (default: this server's "
            "/login/oidc/callback as the browser reached it; set it behind a proxy)",
        ),
        Setting(
            "oidc.name",
            str,
            "",
            "The provider's name on the sign-in button (default: Google, or the issuer's host)",
        ),
        Setting(
            "oidc.new_user_role",
            str,
            "member",
            "The role of a person who joins a team through oidc.domain_teams",
            check=_one_of("member", "viewer"),
        ),
        Setting(
            "admin.email",
            str,
            "",
            "First admin that `serve` creates when the server has no user yet",
        ),
        Setting(
            "admin.password",
            str,
            "",
            "That first admin's password (8+ characters; used only while no user exists)",
            secret=True,
        ),
        Setting("admin.team", str, "default", "The first admin's team"),
    ]
}


def home_override() -> Path | None:
    home = os.environ.get("AGENTLOG_HOME")
    return Path(home).expanduser() if home else None


def data_dir() -> Path:
    return home_override() or Path(platformdirs.user_data_dir(APP_NAME))


def config_dir() -> Path:
    return home_override() or Path(platformdirs.user_config_dir(APP_NAME))


def config_path() -> Path:
    return config_dir() / CONFIG_FILE


def default_db_path() -> Path:
    return data_dir() / DB_FILE


def default_server_db_path() -> Path:
    return data_dir() / SERVER_DB_FILE


def coerce_setting(setting: Setting, value: Any, source: str) -> Any:
    if setting.type is bool:
        value = parse_flag(value, f"{setting.key} from {source}", setting.default)
    elif not (isinstance(value, setting.type) and not isinstance(value, bool)):
        try:
            if setting.type is int:
                value = int(str(value).replace("_", ""))
            elif setting.type is float:
                value = float(value)
            else:
                value = str(value)
        except ValueError:
            raise ConfigError(
                f"{setting.key} from {source} must be {setting.type.__name__}, got {value!r}"
            ) from None
    if setting.check is not None:
        value = setting.check(value, f"{setting.key} from {source}")
    return value


def read_file(path: Path | None = None) -> dict[str, Any]:
    """The config file as a flat {dotted.key: value} dict ({} when absent)."""
    path = path or config_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"config file {path} is not valid TOML ({exc}); fix it or delete it"
        ) from None
    flat: dict[str, Any] = {}

    def walk(prefix: str, node: dict[str, Any]) -> None:
        for key, val in node.items():
            dotted = f"{prefix}{key}"
            if isinstance(val, dict):
                walk(dotted + ".", val)
            else:
                flat[dotted] = val

    walk("", data)
    return flat


def write_value(key: str, value: str | None, path: Path | None = None) -> Path:
    """Set (or with None, remove) one key in the config file; keeps mode 0600."""
    import tomli_w

    if key not in SETTINGS:
        raise ConfigError(f"unknown setting {key!r}; `agentlog config show` lists them")
    path = path or config_path()
    flat = read_file(path)
    if value is None:
        flat.pop(key, None)
    else:
        flat[key] = coerce_setting(SETTINGS[key], value, "the command line")
    nested: dict[str, Any] = {}
    for dotted, val in sorted(flat.items()):
        node = nested
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = val
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(tomli_w.dumps(nested).encode())
    os.replace(tmp, path)
    return path


@dataclass(frozen=True)
class Settings:
    """Resolved settings. Build with `Settings.load(**flags)`."""

    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    # Set on the SDK's fallback defaults: why the file or environment could not be read.
    load_error: Exception | None = None

    @classmethod
    def load(cls, **flags: Any) -> Settings:
        """Resolve every setting: flag (non-None kwargs, `.`→`_`) > env > file > default."""
        return cls._resolve(read_file(), flags, None)

    @classmethod
    def inspect(cls) -> tuple[Settings, dict[str, str]]:
        """Every setting resolved as `load` does, but a bad one keeps its value as given and
        its error goes in the second dict (key "" for an unreadable config file): for
        `config show`/`get`, which must still show the setting that stops every command."""
        errors: dict[str, str] = {}
        try:
            file_values = read_file()
        except ConfigError as exc:
            errors[""] = str(exc)
            file_values = {}
        return cls._resolve(file_values, {}, errors), errors

    @classmethod
    def _resolve(
        cls, file_values: dict[str, Any], flags: dict[str, Any], errors: dict[str, str] | None
    ) -> Settings:
        values: dict[str, Any] = {}
        sources: dict[str, str] = {}
        for key, setting in SETTINGS.items():
            flag = flags.get(key.replace(".", "_"))
            env = os.environ.get(setting.env)
            if flag is not None:
                raw, sources[key], where = flag, "flag", "a flag"
            elif env not in (None, ""):
                raw, sources[key], where = env, "env", setting.env
            elif key in file_values:
                raw, sources[key], where = file_values[key], "file", str(config_path())
            else:
                values[key], sources[key] = setting.default, "default"
                continue
            try:
                values[key] = coerce_setting(setting, raw, where)
            except ConfigError as exc:
                if errors is None:
                    raise
                values[key], errors[key] = raw, str(exc)
        return cls(values, sources)

    def get(self, key: str) -> Any:
        if key not in SETTINGS:
            raise ConfigError(f"unknown setting {key!r}; `agentlog config show` lists them")
        return self.values.get(key, SETTINGS[key].default)

    @property
    def db(self) -> str:
        return self.get("db") or str(default_db_path())

    @property
    def server_db(self) -> str:
        """The team server's store: `db` when set explicitly (flag, env, file), else
        server.db beside the local store, so `serve` never serves the local store."""
        if self.sources.get("db", "default") != "default":
            return self.db
        return str(default_server_db_path())

    @property
    def server(self) -> str | None:
        return self.get("server") or None

    @property
    def api_key(self) -> str | None:
        return self.get("api_key") or None

    def uses_server(self) -> bool:
        """Whether reads and writes go to the server: one is set, and no store was given
        from a nearer source (`AGENTLOG_DB` in the environment beats a server saved in the
        config file by `agentlog login`, as every setting's environment beats the file)."""
        if not self.server:
            return False
        rank = {"default": 0, "file": 1, "env": 2, "flag": 3}
        return (
            rank[self.sources.get("db", "default")] <= rank[self.sources.get("server", "default")]
        )

    def store_url(self) -> str:
        """Where reads and writes go: the server when `uses_server`, else the local store."""
        return self.server if self.uses_server() and self.server else self.db


def setting_names() -> list[str]:
    return list(SETTINGS)


__all__ = [
    "SETTINGS",
    "Setting",
    "Settings",
    "coerce_setting",
    "config_dir",
    "config_path",
    "data_dir",
    "default_db_path",
    "default_server_db_path",
    "read_file",
    "server_url",
    "setting_names",
    "write_value",
]
