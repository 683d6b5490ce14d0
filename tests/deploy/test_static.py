"""deploy/ checked without a Docker engine: Dockerfile, compose file, .env.example and monitoring agree with the app."""

from __future__ import annotations

import re
import tomllib

import orjson
import pytest
import yaml
from deploy_files import (
    DEPLOY,
    ROOT,
    compose,
    dockerfile,
    env_example,
    env_instructions,
    exec_form,
    interpolate,
    variables,
)

from agentlog.config import SETTINGS
from agentlog.server.metrics import Metrics

PINNED = re.compile(r"^[\w./-]+:v?\d+(\.\d+)+[\w.-]*$")  # name:1.2[.3][-variant], never :latest
SECRETISH = re.compile(r"PASSWORD|SECRET|TOKEN|API_KEY")
# Variables the app reads that are not `agentlog config` settings.
APP_ENV_EXTRA = {"AGENTLOG_HOME"}
CORE = ("agentlog", "postgres", "redis")


@pytest.fixture(scope="module")
def stack() -> dict:
    return compose()


def app_env_names() -> set[str]:
    return {s.env for s in SETTINGS.values()} | APP_ENV_EXTRA


# ------------------------------------------------------------------ Dockerfile


def test_dockerfile_is_multi_stage_slim_and_pinned():
    _, stages = dockerfile()
    assert len(stages) >= 2, "a build stage and a runtime stage"
    for stage in stages:
        assert PINNED.match(stage.image), f"unpinned base image {stage.image!r}"
        assert "slim" in stage.image or "alpine" in stage.image
    build, final = stages[0], stages[-1]
    install = " ".join(build.all("RUN"))
    assert '".[team]"' in install or "'.[team]'" in install, "installs the team extra"
    # The runtime stage takes the built venv, not the compilers.
    assert any("--from=build" in c for c in final.all("COPY"))
    assert not any("pip install" in r for r in final.all("RUN"))


def test_dockerfile_copies_what_exists():
    _, stages = dockerfile()
    for stage in stages:
        for arg in stage.all("COPY"):
            if arg.startswith("--from"):
                continue
            *sources, _dest = arg.split()
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: not in the repository"


def test_dockerfile_runs_as_non_root_with_healthcheck_on_readyz():
    _, stages = dockerfile()
    final = stages[-1]
    user = final.last("USER")
    assert user and user.split(":")[0] not in ("root", "0")
    # The user is created in the image before it is used.
    assert any("useradd" in r and user.split(":")[0] in r for r in final.all("RUN"))
    health = final.last("HEALTHCHECK")
    assert health is not None
    options, _, command = health.partition("CMD")
    assert "--interval" in options and "--timeout" in options
    argv = exec_form(command.strip())
    assert "/readyz" in " ".join(argv)
    assert final.last("STOPSIGNAL") == "SIGTERM"


def test_dockerfile_entry_is_agentlog_serve_on_every_address():
    _, stages = dockerfile()
    final = stages[-1]
    argv = exec_form(final.last("ENTRYPOINT") or "[]") + exec_form(final.last("CMD") or "[]")
    assert argv == ["agentlog", "serve", "--host", "0.0.0.0"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert "agentlog" in scripts  # the entry point the image calls exists
    env = env_instructions(final)
    assert env["AGENTLOG_HOME"] == "/data" and "/data" in (final.last("VOLUME") or "")
    assert final.last("EXPOSE") == env["AGENTLOG_SERVE_PORT"] == "8250"
    for name in env:
        if name.startswith("AGENTLOG_"):
            assert name in app_env_names(), f"the image sets {name}, which the app never reads"


def test_dockerfile_ignore_keeps_secrets_and_venvs_out():
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    assert {".venv", ".git", "deploy/.env"} <= set(ignored)


# ------------------------------------------------------------------ compose


def test_compose_has_the_three_services_pinned_with_healthchecks_and_restarts(stack):
    services = stack["services"]
    assert set(CORE) <= set(services)
    for name, svc in services.items():
        image = svc.get("image", "")
        if name != "agentlog":
            assert PINNED.match(image), f"{name}: image {image!r} is not pinned to a version"
        assert svc.get("restart") in ("unless-stopped", "always"), name
        check = svc.get("healthcheck", {})
        assert check.get("test") and check.get("interval") and check.get("retries"), name
    major = int(services["postgres"]["image"].split(":")[1].split(".")[0])
    assert major >= 16


def test_compose_starts_the_app_only_when_its_backends_are_healthy(stack):
    app = stack["services"]["agentlog"]
    assert app["build"]["dockerfile"] == "deploy/Dockerfile"
    assert (DEPLOY / app["build"]["context"] / app["build"]["dockerfile"]).is_file()
    assert app["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    assert app.get("init") is True  # reaps children; signals reach uvicorn
    assert "/readyz" in " ".join(app["healthcheck"]["test"])


def test_compose_volumes_are_named_and_declared(stack):
    declared = set(stack["volumes"])
    used = set()
    for name, svc in stack["services"].items():
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith(("./", "${")):
                continue  # config files mounted read-only
            used.add(source)
            assert source in declared, f"{name} mounts undeclared volume {source}"
    for data in ("agentlog-data", "postgres-data"):
        assert data in used


def test_compose_ports_match_the_image(stack):
    _, stages = dockerfile()
    port = env_instructions(stages[-1])["AGENTLOG_SERVE_PORT"]
    (mapping,) = stack["services"]["agentlog"]["ports"]
    assert mapping.rsplit(":", 1)[1] == port
    # Monitoring UIs are published on loopback only.
    for name in ("prometheus", "grafana"):
        for mapping in stack["services"][name]["ports"]:
            assert mapping.startswith("127.0.0.1:")


def test_compose_holds_no_secret(stack):
    text = (DEPLOY / "docker-compose.yml").read_text()
    for name, svc in stack["services"].items():
        for key, value in (svc.get("environment") or {}).items():
            if SECRETISH.search(key):
                assert re.fullmatch(r"\$\{[A-Z0-9_]+(:[-?][^}]*)?\}", str(value)), (
                    f"{name}.{key} must come from deploy/.env"
                )
    # The database password is only ever a reference.
    assert "postgresql://agentlog:${POSTGRES_PASSWORD" in text


def test_required_secrets_are_required(stack):
    app_env = stack["services"]["agentlog"]["environment"]
    with pytest.raises(ValueError, match="AGENTLOG_SERVE_JWT_SECRET"):
        interpolate(app_env["AGENTLOG_SERVE_JWT_SECRET"], {})
    with pytest.raises(ValueError, match="POSTGRES_PASSWORD"):
        interpolate(app_env["AGENTLOG_DB"], {})


def test_every_compose_variable_is_documented_and_every_documented_one_used():
    used = variables((DEPLOY / "docker-compose.yml").read_text())
    documented = env_example()
    assert used == set(documented), (
        f"undocumented: {sorted(used - set(documented))}; unused: {sorted(set(documented) - used)}"
    )
    for name, (_value, comments) in documented.items():
        assert comments, f"{name} in .env.example has no comment explaining it"


def test_env_example_ships_no_secret_value():
    for name, (value, _) in env_example().items():
        if SECRETISH.search(name) and name != "AGENTLOG_METRICS_TOKEN_FILE":
            assert value == "", f"{name} must be empty in .env.example"


def test_every_app_variable_in_compose_is_read_by_the_app(stack):
    for name in stack["services"]["agentlog"]["environment"]:
        if name.startswith("AGENTLOG_"):
            assert name in app_env_names(), f"compose sets {name}, which the app never reads"


def test_database_url_points_at_the_postgres_service(stack):
    pg = stack["services"]["postgres"]["environment"]
    url = interpolate(
        stack["services"]["agentlog"]["environment"]["AGENTLOG_DB"], {"POSTGRES_PASSWORD": "pw"}
    )
    assert url == f"postgresql://{pg['POSTGRES_USER']}:pw@postgres:5432/{pg['POSTGRES_DB']}"
    redis_url = stack["services"]["agentlog"]["environment"]["AGENTLOG_SERVE_REDIS_URL"]
    assert redis_url.startswith("redis://redis:6379/")


# ------------------------------------------------------------------ monitoring


def test_monitoring_is_an_opt_in_profile_with_its_files_present(stack):
    for name in ("prometheus", "grafana"):
        svc = stack["services"][name]
        assert svc["profiles"] == ["monitoring"]
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (DEPLOY / source).exists(), f"{name} mounts missing {source}"
    for name in CORE:
        assert "profiles" not in stack["services"][name]


def _known_metrics() -> set[str]:
    text = Metrics().render().decode()
    names = set(re.findall(r"^# TYPE (\w+) ", text, re.M))
    out = set(names)
    for name in names:
        out |= {f"{name}_bucket", f"{name}_count", f"{name}_sum", f"{name}_total"}
    # Pool families only appear with a PostgreSQL store; their names are fixed.
    out |= {f"agentlog_db_pool_{n}" for n in ("in_use", "size", "max", "waiting")}
    out |= {"agentlog_db_pool_timeouts_total"}
    return out


def test_prometheus_scrapes_the_app_with_a_token_and_loads_the_rules():
    config = yaml.safe_load((DEPLOY / "monitoring/prometheus.yml").read_text())
    (job,) = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert job["static_configs"][0]["targets"] == ["agentlog:8250"]
    assert job["authorization"]["credentials_file"] == "/etc/prometheus/agentlog.token"
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]


def test_alert_rules_cover_latency_errors_db_and_pool_with_real_metrics():
    rules = yaml.safe_load((DEPLOY / "monitoring/alerts.yml").read_text())["groups"][0]["rules"]
    exprs = " ".join(r["expr"] for r in rules)
    for needle in (
        "histogram_quantile(0.95",
        'status=~"5..',
        "agentlog_db_errors_total",
        "agentlog_db_pool_",
    ):
        assert needle in exprs
    known = _known_metrics() | {"up"}
    for rule in rules:
        assert rule["annotations"]["summary"] and rule["labels"]["severity"]
        for name in re.findall(r"\b(agentlog_\w+|up)\b", rule["expr"]):
            assert name in known, f"alert {rule['alert']} uses unknown metric {name}"


def test_grafana_dashboard_queries_real_metrics_through_the_provisioned_source():
    dash = orjson.loads((DEPLOY / "monitoring/grafana/dashboards/agentlog.json").read_bytes())
    source = yaml.safe_load(
        (DEPLOY / "monitoring/grafana/provisioning/datasources/prometheus.yml").read_text()
    )["datasources"][0]
    known = _known_metrics()
    assert dash["panels"]
    for panel in dash["panels"]:
        assert panel["datasource"]["uid"] == source["uid"]
        for target in panel["targets"]:
            for name in re.findall(r"\bagentlog_\w+", target["expr"]):
                assert name in known, f"panel {panel['title']!r} uses unknown metric {name}"


# Every setting is either passed through to the container by the compose file (and explained
# in .env.example) or named here with the reason it makes no sense there: a new setting fails
# test_every_deployment_setting_reaches_the_container until someone decides which it is.
NOT_FROM_ENV_FILE = {
    "db": "compose builds AGENTLOG_DB from POSTGRES_PASSWORD for its own postgres service",
    "serve.redis_url": "compose points it at its own redis service",
    "serve.host": "the image's command binds 0.0.0.0; AGENTLOG_BIND picks the host's address",
    "serve.port": "the image listens on 8250 (its ENV, EXPOSE, healthcheck and the ports "
    "mapping); AGENTLOG_PORT publishes it elsewhere",
    "server": "set on the machines whose agents log to the server, not on the server",
    "api_key": "set on the machines whose agents log to the server, not on the server",
    "agent_id": "the SDK's default agent id, in the agent's process",
    "limits.max_db_mb": "a warning about a local SQLite store; compose runs PostgreSQL",
    "limits.max_sessions": "a warning about a local store, printed by the CLI",
    "limits.retention_days": "the default of `agentlog db prune` on a local store; the "
    "server's retention is per team (`admin teams retention`)",
    "sqlite.synchronous": "SQLite only; compose runs PostgreSQL",
    "display.stale_after_minutes": "how the CLI shows sessions",
    "sdk.batch_size": "the SDK, in the agent's process",
    "sdk.flush_interval": "the SDK, in the agent's process",
    "sdk.redact": "the SDK, in the agent's process",
    "sdk.redact_keys": "the SDK, in the agent's process",
}
# Where the compose default differs from the setting's default, and why.
CONTAINER_DEFAULTS = {
    "serve.workers": "a team server has more than one core",
    "serve.db_wait_seconds": "the app may start before PostgreSQL accepts connections",
}
DOCS_FOR_DOCKER_USERS = ("self-hosting.md", "web.md")


def test_every_deployment_setting_reaches_the_container(stack):
    """AGENTLOG_SERVE_COOKIE_SECURE, AGENTLOG_OIDC_NAME and others the docs tell Docker users
    to set never reached the container: compose lists its environment explicitly."""
    from agentlog.config import coerce_setting

    app_env = stack["services"]["agentlog"]["environment"]
    documented = env_example()
    assert set(NOT_FROM_ENV_FILE) <= set(SETTINGS), "an exclusion names no setting"
    for key, setting in SETTINGS.items():
        if key in NOT_FROM_ENV_FILE:
            continue
        name = setting.env
        assert name in app_env, f"compose does not pass {name} to the container"
        match = re.fullmatch(r"\$\{" + name + r":([-?])([^}]*)\}", str(app_env[name]))
        assert match, f"compose sets {name} to {app_env[name]!r}; use ${{{name}:-default}}"
        assert name in documented, f"{name} is not explained in deploy/.env.example"
        if match.group(1) == "?":
            continue  # a required secret: no default
        default = match.group(2)
        assert documented[name][0] == default, (
            f".env.example sets {name}={documented[name][0]}, compose defaults it to {default!r}"
        )
        if key not in CONTAINER_DEFAULTS:
            assert coerce_setting(setting, default, "compose") == coerce_setting(
                setting, setting.default, "default"
            ), f"compose defaults {name} to {default!r}, the setting to {setting.default!r}"


def test_every_variable_the_docs_name_reaches_the_container(stack):
    app_env = stack["services"]["agentlog"]["environment"]
    documented = env_example()
    excluded = {SETTINGS[key].env for key in NOT_FROM_ENV_FILE}
    for doc in DOCS_FOR_DOCKER_USERS:
        text = (ROOT / "docs" / doc).read_text()
        # AGENTLOG_ADMIN_* (a family) is covered by its members.
        for name in set(re.findall(r"\bAGENTLOG_[A-Z0-9_]*[A-Z0-9]\b", text)):
            assert name in app_env or name in documented or name in excluded, (
                f"docs/{doc} names {name}, which neither reaches the container nor is in "
                "deploy/.env.example"
            )
            if name in app_env:
                assert name in documented, f"{name} is not explained in deploy/.env.example"
