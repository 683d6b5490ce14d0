"""The server settings refuse a configured JWT secret that is too short to be a key."""

from __future__ import annotations

import pytest

from agentlog.errors import UsageError
from agentlog.server.settings import MIN_JWT_SECRET_CHARS, ServerSettings


@pytest.mark.parametrize("secret", ["secret", "s" * (MIN_JWT_SECRET_CHARS - 1)])
def test_short_jwt_secret_is_refused(tmp_path, secret):
    with pytest.raises(UsageError, match="at least 32"):
        ServerSettings(db=str(tmp_path / "a.db"), data_dir=tmp_path, jwt_secret=secret)


def test_unset_or_long_jwt_secret_is_accepted(tmp_path):
    assert ServerSettings(db=str(tmp_path / "a.db"), data_dir=tmp_path).jwt_secret == ""
    long = "s" * MIN_JWT_SECRET_CHARS
    assert ServerSettings(db=str(tmp_path / "a.db"), data_dir=tmp_path, jwt_secret=long).jwt_secret


def test_every_server_setting_comes_from_the_environment(monkeypatch):
    """Each ServerSettings knob is a documented `serve.*` setting (env and config file), none code-only."""
    import dataclasses

    from agentlog.config import SETTINGS
    from agentlog.server.settings import ServerSettings

    # --db/AGENTLOG_DB, --dev, AGENTLOG_HOME; oidc.* (test_web_oidc.py) fills `oidc`
    not_settings = {"db", "dev", "data_dir", "oidc"}
    values = {
        "host": "0.0.0.0",
        "port": "9000",
        "cors_origins": "https://a.example,https://b.example",
        "jwt_secret": "s" * 40,
        "redis_url": "redis://cache:6379/1",
        "redis_timeout_seconds": "0.5",
        "access_ttl_seconds": "60",
        "refresh_ttl_seconds": "3600",
        "rate_limit_per_minute": "120",
        "login_limit_per_minute": "3",
        "max_body_bytes": "1048576",
        "key_cache_seconds": "0",
        "usage_flush_seconds": "1",
        "retention_interval_seconds": "60",
        "retention_archive_dir": "/srv/agentlog-archive",
        "access_log": "1",
        "cookie_secure": "1",
    }
    fields = {f.name for f in dataclasses.fields(ServerSettings)} - not_settings
    assert fields == set(values), "a ServerSettings field needs a serve.* setting and a line here"
    for name, value in values.items():
        monkeypatch.setenv(SETTINGS[f"serve.{name}"].env, value)
    loaded = ServerSettings.load(db="x.db")
    default = ServerSettings(db="x.db")
    for name in values:
        assert getattr(loaded, name) != getattr(default, name), name
    assert loaded.cors_origins == ("https://a.example", "https://b.example")
    assert loaded.max_body_bytes == 1048576 and loaded.access_log is True


def test_every_oidc_setting_reaches_the_server(monkeypatch):
    """Each OIDCSettings field is an `oidc.*` setting."""
    import dataclasses

    from agentlog.config import SETTINGS
    from agentlog.server.settings import OIDCSettings, ServerSettings

    names = {f.name for f in dataclasses.fields(OIDCSettings)}
    assert names == {k.removeprefix("oidc.") for k in SETTINGS if k.startswith("oidc.")}
    values = {
        "issuer": "https://idp.example",
        "discovery_url": "https://idp.example/discovery",
        "client_id": "id",
        "client_secret": "secret",
        "domain_teams": "example.com=acme",
        "redirect_url": "https://agentlog.example/login/oidc/callback",
        "name": "Our IdP",
        "new_user_role": "viewer",
    }
    for name, value in values.items():
        monkeypatch.setenv(SETTINGS[f"oidc.{name}"].env, value)
    loaded = ServerSettings.load(db="x.db").oidc
    for name in names:
        assert getattr(loaded, name) != getattr(OIDCSettings(), name), name
    assert loaded.domain_teams == (("example.com", "acme"),)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        *[("1", True), ("YES", True), (" on ", True), ("True", True)],
        *[("0", False), ("no", False), ("OFF", False), ("false", False)],
        *[("auto", None), ("", None)],
    ],
)
def test_cookie_secure_takes_the_usual_yes_no_words(monkeypatch, value, expected):
    monkeypatch.setenv("AGENTLOG_SERVE_COOKIE_SECURE", value)
    assert ServerSettings.load(db="x.db").cookie_secure is expected


@pytest.mark.parametrize(
    ("env", "accepted"),
    [
        ("AGENTLOG_SERVE_COOKIE_SECURE", "auto, 1/0, true/false, yes/no or on/off"),
        ("AGENTLOG_SERVE_ACCESS_LOG", "1/0, true/false, yes/no or on/off"),
        ("AGENTLOG_SERVE_DEV", "1/0, true/false, yes/no or on/off"),
    ],
)
def test_a_yes_no_setting_refuses_other_words(monkeypatch, env, accepted):
    """`perhaps` was read as yes (Secure cookies, dev mode) instead of refused."""
    from agentlog.errors import ConfigError

    monkeypatch.setenv(env, "perhaps")
    with pytest.raises(ConfigError) as raised:
        ServerSettings.load(db="x.db")
    assert str(raised.value).endswith(f"{env} is 'perhaps'; use {accepted}")


@pytest.mark.parametrize(("value", "expected"), [("off", False), ("No", False), ("on", True)])
def test_access_log_and_dev_take_the_usual_yes_no_words(monkeypatch, value, expected):
    monkeypatch.setenv("AGENTLOG_SERVE_ACCESS_LOG", value)
    monkeypatch.setenv("AGENTLOG_SERVE_DEV", value)
    loaded = ServerSettings.load(db="x.db")
    assert (loaded.access_log, loaded.dev) == (expected, expected)


@pytest.mark.parametrize("url", ["garbage", "redis", "127.0.0.1:6379", "http://cache:6379/0"])
def test_a_malformed_redis_url_is_refused_in_one_line(monkeypatch, url):
    """`garbage` started the server and logged a ValueError traceback per request."""
    from agentlog.errors import ConfigError

    monkeypatch.setenv("AGENTLOG_SERVE_REDIS_URL", url)
    with pytest.raises(ConfigError) as raised:
        ServerSettings.load(db="x.db")
    assert str(raised.value) == (
        f"serve.redis_url from AGENTLOG_SERVE_REDIS_URL is {url!r}; "
        "use a redis://, rediss:// or unix:// URL (or nothing, for in-process limits)"
    )


@pytest.mark.parametrize(
    "url", ["", "redis://cache:6379/0", "rediss://u:p@cache:6380/1", "unix:///run/redis.sock"]
)
def test_a_redis_url_with_a_redis_scheme_or_none_is_accepted(monkeypatch, url):
    monkeypatch.setenv("AGENTLOG_SERVE_REDIS_URL", url)
    assert ServerSettings.load(db="x.db").redis_url == url


@pytest.mark.parametrize(
    ("env", "value", "advice"),
    [
        ("AGENTLOG_SERVE_WORKERS", "0", "use 1 to 64 worker processes"),
        ("AGENTLOG_SERVE_WORKERS", "500", "use 1 to 64 worker processes"),
        ("AGENTLOG_SERVE_RATE_LIMIT_PER_MINUTE", "-5", "use 0 (no limit) or more"),
        ("AGENTLOG_SERVE_LOGIN_LIMIT_PER_MINUTE", "-1", "use 0 (no limit) or more"),
        ("AGENTLOG_SERVE_DB_WAIT_SECONDS", "-3", "use 0 (no wait) or more seconds"),
        (
            "AGENTLOG_SERVE_CORS_ORIGINS",
            "notanorigin",
            "holds 'notanorigin'; an origin is scheme://host[:port], such as "
            "https://app.example.com (or * for any)",
        ),
    ],
)
def test_a_serve_setting_out_of_range_is_refused_in_one_line(monkeypatch, env, value, advice):
    """They were accepted: 0 workers became 1, 500 started 500, -5 meant no limit, and
    CORS compared every browser's Origin with 'notanorigin'."""
    from agentlog.config import Settings
    from agentlog.errors import ConfigError

    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError) as raised:
        Settings.load()
    text = str(raised.value)
    assert env in text and advice in text and "\n" not in text
    if "holds" not in advice:
        assert f"{env} is {value}; {advice}" in text


@pytest.mark.parametrize(
    "origin",
    ["https://app.example.com/", "https://app.example.com/ui", "app.example.com", "https://"],
)
def test_a_cors_origin_is_scheme_host_and_port_only(monkeypatch, origin):
    """A browser's Origin header never has a path or a trailing slash, so such an entry never matched."""
    from agentlog.errors import ConfigError

    monkeypatch.setenv("AGENTLOG_SERVE_CORS_ORIGINS", f"https://ok.example,{origin}")
    with pytest.raises(ConfigError, match="AGENTLOG_SERVE_CORS_ORIGINS holds"):
        ServerSettings.load(db="x.db")


def test_good_serve_values_are_accepted(monkeypatch):
    from agentlog.config import Settings

    for env, value in {
        "AGENTLOG_SERVE_WORKERS": "64",
        "AGENTLOG_SERVE_RATE_LIMIT_PER_MINUTE": "0",
        "AGENTLOG_SERVE_LOGIN_LIMIT_PER_MINUTE": "0",
        "AGENTLOG_SERVE_DB_WAIT_SECONDS": "0",
        "AGENTLOG_SERVE_CORS_ORIGINS": " https://a.example , http://localhost:5173,*",
    }.items():
        monkeypatch.setenv(env, value)
    settings = Settings.load()
    assert settings.get("serve.workers") == 64
    assert ServerSettings.load(db="x.db").cors_origins == (
        "https://a.example",
        "http://localhost:5173",
        "*",
    )
