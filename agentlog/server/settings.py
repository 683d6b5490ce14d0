"""The server's resolved settings: the shared `Settings` plus the knobs only the server has."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from agentlog.config import Settings, data_dir, parse_flag
from agentlog.errors import ConfigError, UsageError
from agentlog.model import MAX_BATCH_BYTES

DEV_ENV = "AGENTLOG_SERVE_DEV"
COOKIE_SECURE_ENV = (
    "AGENTLOG_SERVE_COOKIE_SECURE"  # 1: always Secure (TLS ends at a proxy), 0: never
)
MIN_JWT_SECRET_CHARS = 32  # RFC 7518 3.2: an HS256 key is at least as long as the hash (256 bits)


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


GOOGLE_ISSUER = "https://accounts.google.com"
DISCOVERY_PATH = "/.well-known/openid-configuration"


@dataclass(frozen=True)
class OIDCSettings:
    """OpenID Connect sign-in (the `oidc.*` settings); off while no issuer is set."""

    issuer: str = ""  # "google" or the issuer's URL
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    # (domain, team name): an unknown e-mail of this domain joins this team at first sign-in
    domain_teams: tuple[tuple[str, str], ...] = ()
    discovery_url: str = ""
    redirect_url: str = ""
    name: str = ""
    new_user_role: str = "member"

    def __post_init__(self) -> None:
        if not self.enabled:
            return
        if not self.client_id:
            raise ConfigError(
                "oidc.issuer is set but oidc.client_id is empty; set AGENTLOG_OIDC_CLIENT_ID "
                "(and AGENTLOG_OIDC_CLIENT_SECRET) to what the provider gave this server"
            )
        for name, url in (("oidc.issuer", self.issuer_url), ("oidc.discovery_url", self.discovery)):
            _check_https(name, url)

    @property
    def enabled(self) -> bool:
        return bool(self.issuer or self.discovery_url)

    @property
    def issuer_url(self) -> str:
        return GOOGLE_ISSUER if self.issuer.strip().lower() == "google" else self.issuer.rstrip("/")

    @property
    def discovery(self) -> str:
        return self.discovery_url or self.issuer_url + DISCOVERY_PATH

    @property
    def label(self) -> str:
        """The provider's name on the sign-in button."""
        if self.name:
            return self.name
        if self.issuer_url == GOOGLE_ISSUER:
            return "Google"
        from urllib.parse import urlsplit

        return urlsplit(self.issuer_url or self.discovery).hostname or "single sign-on"

    def team_of(self, email: str) -> str | None:
        """The team an unknown e-mail joins (by its domain), or None: refused."""
        domain = email.rpartition("@")[2].strip().lower()
        return dict(self.domain_teams).get(domain)

    @classmethod
    def from_settings(cls, settings: Settings) -> OIDCSettings:
        return cls(
            issuer=settings.get("oidc.issuer").strip(),
            client_id=settings.get("oidc.client_id").strip(),
            client_secret=settings.get("oidc.client_secret"),
            domain_teams=parse_domain_teams(settings.get("oidc.domain_teams")),
            discovery_url=settings.get("oidc.discovery_url").strip(),
            redirect_url=settings.get("oidc.redirect_url").strip(),
            name=settings.get("oidc.name").strip(),
            new_user_role=settings.get("oidc.new_user_role"),
        )


def parse_domain_teams(text: str) -> tuple[tuple[str, str], ...]:
    """ "example.com=acme, lab.example.org=research" -> (("example.com", "acme"), ...)."""
    pairs = []
    for item in str(text).split(","):
        if not item.strip():
            continue
        domain, eq, team = item.partition("=")
        domain, team = domain.strip().lower().lstrip("@"), team.strip()
        if not eq or not domain or not team or "@" in domain or " " in domain:
            raise ConfigError(
                f"oidc.domain_teams has {item.strip()!r}; write DOMAIN=TEAM pairs separated by "
                "commas, e.g. example.com=acme,lab.example.org=research"
            )
        pairs.append((domain, team))
    return tuple(pairs)


def _check_https(name: str, url: str) -> None:
    """The provider is reached over https (plain http only on loopback, for tests and dev)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and is_loopback(parts.hostname):
        return
    raise ConfigError(f"{name} is {url!r}; use the provider's https:// URL")


@dataclass(frozen=True)
class ServerSettings:
    """Everything `create_app` needs; build with `ServerSettings.load(...)` or directly in tests."""

    db: str
    host: str = "127.0.0.1"
    port: int = 8250
    cors_origins: tuple[str, ...] = ()
    jwt_secret: str = ""
    redis_url: str = ""
    # Connect and read timeout of every Redis command; a hung Redis costs this once, then is skipped.
    redis_timeout_seconds: float = 0.25
    dev: bool = False
    data_dir: Path = field(default_factory=data_dir)
    access_ttl_seconds: int = 15 * 60
    refresh_ttl_seconds: int = 30 * 24 * 3600
    rate_limit_per_minute: int = 6000  # per API key or user
    login_limit_per_minute: int = 10  # per client address, against password guessing
    max_body_bytes: int = MAX_BATCH_BYTES
    key_cache_seconds: float = 2.0  # how long a validated key is trusted before re-reading it
    usage_flush_seconds: float = 5.0
    # Retention per team and partitions ahead (server/retention.py); 0: the task never runs.
    retention_interval_seconds: float = 3600.0
    retention_archive_dir: str = ""
    access_log: bool = False  # JSON lines on stdout (on by default in `agentlog serve`)
    # The web view's cookies: Secure when the request came over https (None), or always / never.
    cookie_secure: bool | None = None
    # OpenID Connect sign-in on the web pages (the oidc.* settings)
    oidc: OIDCSettings = field(default_factory=OIDCSettings)

    def __post_init__(self) -> None:
        if self.jwt_secret and len(self.jwt_secret) < MIN_JWT_SECRET_CHARS:
            raise UsageError(
                f"serve.jwt_secret is {len(self.jwt_secret)} characters; use at least "
                f"{MIN_JWT_SECRET_CHARS} random characters (or leave it unset to use a generated key)"
            )

    @classmethod
    def load(cls, *, dev: bool | None = None, **flags: Any) -> ServerSettings:
        """From flags > env > config file > defaults (the same precedence as every command)."""
        settings = Settings.load(**flags)
        origins = tuple(
            o.strip() for o in settings.get("serve.cors_origins").split(",") if o.strip()
        )
        if dev is None:
            dev = bool(parse_flag(os.environ.get(DEV_ENV, ""), DEV_ENV))
        return cls(
            db=settings.server_db,
            host=settings.get("serve.host"),
            port=settings.get("serve.port"),
            cors_origins=origins,
            jwt_secret=settings.get("serve.jwt_secret"),
            redis_url=settings.get("serve.redis_url"),
            dev=dev,
            rate_limit_per_minute=settings.get("serve.rate_limit_per_minute"),
            login_limit_per_minute=settings.get("serve.login_limit_per_minute"),
            access_log=bool(settings.get("serve.access_log")),
            redis_timeout_seconds=settings.get("serve.redis_timeout_seconds"),
            access_ttl_seconds=settings.get("serve.access_ttl_seconds"),
            refresh_ttl_seconds=settings.get("serve.refresh_ttl_seconds"),
            max_body_bytes=settings.get("serve.max_body_bytes"),
            key_cache_seconds=settings.get("serve.key_cache_seconds"),
            usage_flush_seconds=settings.get("serve.usage_flush_seconds"),
            retention_interval_seconds=settings.get("serve.retention_interval_seconds"),
            retention_archive_dir=settings.get("serve.retention_archive_dir"),
            # auto, 1 or 0: the setting's check refused any other word
            cookie_secure={"1": True, "0": False}.get(settings.get("serve.cookie_secure")),
            oidc=OIDCSettings.from_settings(settings),
        )

    def with_(self, **changes: Any) -> ServerSettings:
        return replace(self, **changes)
