"""`agentlog stats` and `agentlog agents`."""

from __future__ import annotations

import pytest


def test_stats_over_everything(cli, demo):
    doc = cli.json("stats")
    assert doc["sessions"] == demo.session_count and doc["events"] == demo.event_count
    assert sum(doc["by_type"].values()) == doc["events"]
    assert sum(doc["by_agent"].values()) == doc["events"]
    assert 0 < doc["error_rate"] < 1 and doc["errors"] > 0
    assert doc["input_tokens"] > 0 and doc["cost_usd"] > 0
    tools = {t["name"]: t for t in doc["tools"]}
    fetch = tools["fetch_url"]
    assert fetch["count"] > 2000 and fetch["p50_ms"] <= fetch["p95_ms"] <= fetch["max_ms"]
    assert {"gpt-4o", "claude-3-5-sonnet"} <= {m["name"] for m in doc["models"]}
    durations = [e["duration_ms"] for e in doc["slowest"]]
    assert durations == sorted(durations, reverse=True)
    assert doc["slowest"][0]["name"] == "fetch_tickets"


def test_stats_of_one_session_by_prefix(cli, demo):
    sid = demo.sessions["eval_fail"]
    doc = cli.json("stats", sid[:18])
    assert doc["sessions"] == 1 and doc["errors"] == 3
    assert doc["by_agent"] == {"summarizer": doc["events"]}


def test_stats_filters(cli):
    doc = cli.json("stats", "--type", "LLM_CALL")
    assert set(doc["by_type"]) == {"LLM_CALL"} and doc["tools"] == []
    assert cli.json("stats", "--since", "1s")["events"] == 0


def test_stats_table(cli, demo):
    result = cli.ok("stats", demo.sessions["triage"])
    for heading in ("Events by type", "Events by agent", "Tools", "Models", "Slowest steps"):
        assert heading in result.stdout
    assert "run_tests" in result.stdout


def test_stats_summary_fits_80_columns(cli):
    result = cli.ok("stats", env={"COLUMNS": "80"})
    head = result.stdout.splitlines()[:2]
    assert head[0].endswith("errors (0.8%)") and head[1].startswith("tokens ")
    assert "cost $" in head[1] and all(len(line) <= 80 for line in head)


def test_stats_nothing_matches(empty_cli):
    result = empty_cli.ok("stats")
    assert result.stdout == "" and "no events" in result.stderr


def test_agents(cli):
    rows = {a["agent_id"]: a for a in cli.json("agents")["items"]}
    assert {"planner", "researcher", "coder", "summarizer", "fetcher"} <= set(rows)
    summarizer = rows["summarizer"]
    assert summarizer["sessions"] == 2 and summarizer["errors"] == 3
    assert summarizer["error_rate"] == summarizer["errors"] / summarizer["events"]
    recent = {a["agent_id"] for a in cli.ndjson("agents", "--since", "1h")}
    assert recent and recent < set(rows)
    table = cli.ok("agents").stdout
    assert "ERROR RATE" in table and "summarizer" in table


def test_stats_table_counts_one_in_the_singular(empty_cli):
    from agentlog import AgentLog

    with AgentLog(str(empty_cli.db)) as log, log.session(title="one") as session:
        session.error("it broke")
    first = empty_cli.ok("stats", "latest").stdout.splitlines()[0]
    assert first.startswith("1 session  1 event  1 error (100.0%)"), first


def test_stats_tokens_and_cost_per_model(cli):
    """The cli-recipes.md recipe `stats --json | jq '.by_model'`: tokens and cost per model."""
    doc = cli.json("stats")
    by_model = doc["by_model"]
    assert {"gpt-4o", "claude-3-5-sonnet"} <= set(by_model)
    assert sum(m["input_tokens"] for m in by_model.values()) <= doc["input_tokens"]
    assert sum(m["cost_usd"] for m in by_model.values()) == pytest.approx(doc["cost_usd"])
    assert all(m["calls"] > 0 for m in by_model.values())
    table = cli.ok("stats").stdout
    assert "Tokens and cost by model" in table
