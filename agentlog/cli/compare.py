"""`agentlog compare BASELINE RUN`: the step-by-step difference, and the CI gate (`--fail-on`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from agentlog.cli.context import get_store
from agentlog.cli.options import JsonOpt
from agentlog.cli.output import one_line, print_json, write_line
from agentlog.errors import UsageError


def compare_cmd(
    ctx: typer.Context,
    baseline: Annotated[
        str,
        typer.Argument(
            metavar="BASELINE",
            help="Session id (or prefix, or 'latest'), an export file, or tag:NAME.",
        ),
    ],
    run: Annotated[
        str | None,
        typer.Argument(metavar="RUN", help="The run to judge: same forms as BASELINE."),
    ] = None,
    fail_on: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-on",
            metavar="RULES",
            help="Exit 1 when a rule breaks, e.g. divergence,errors,cost+10%,latency<30s,"
            "tool:search (comma-separated or repeated).",
        ),
    ] = None,
    tag: Annotated[
        str | None,
        typer.Option("--tag", help="Judge the sessions with this tag (instead of RUN)."),
    ] = None,
    junit: Annotated[
        str | None, typer.Option("--junit", metavar="FILE", help="Also write JUnit XML here.")
    ] = None,
    sarif: Annotated[
        str | None, typer.Option("--sarif", metavar="FILE", help="Also write SARIF 2.1.0 here.")
    ] = None,
    json: JsonOpt = False,
) -> None:
    """Compare a run with its baseline step by step; with --fail-on, a regression gate for CI.

    Without RUN, BASELINE is compared with its newest replay (agentlog replay llm … -- CMD).

    Example: agentlog compare baseline.ndjson latest --fail-on divergence,errors,cost+10%
    Example: agentlog compare tag:baseline --tag eval:nightly --fail-on status --junit gate.xml
    """
    from agentlog.gate.judge import judge, pair_by_title, repeated_titles, unpaired
    from agentlog.gate.reports import to_json, to_junit, to_sarif
    from agentlog.gate.rules import parse_rules
    from agentlog.gate.sides import TAG_PREFIX, load_side

    if run is not None and tag is not None:
        raise UsageError("give RUN or --tag, not both")
    rules = parse_rules(fail_on or [])
    store = get_store(ctx)
    if run is None and tag is None:
        run = _latest_replay(store, baseline)
    baselines = load_side(store, baseline)
    run_side = run if run is not None else TAG_PREFIX + str(tag)
    runs = load_side(store, run_side)
    if len(baselines) > 1 or len(runs) > 1:
        for side, label in ((baselines, baseline), (runs, run_side)):
            if titles := repeated_titles(side):
                _note_repeated(label, titles)
    verdicts = []
    for left, right in pair_by_title(baselines, runs):
        if left is None or right is None:
            verdicts.append(unpaired(left, right))
        else:
            if left.id == right.id:
                _note_same(left.id)
            verdicts.append(judge(left, right, rules))
    texts = [r.text for r in rules]
    if junit:
        _write(junit, to_junit(verdicts, texts))
    if sarif:
        from agentlog.cli.output import dumps

        _write(sarif, dumps(to_sarif(verdicts, texts), indent=True).encode() + b"\n")
    if json:
        print_json(to_json(verdicts, texts))
    else:
        for verdict in verdicts:
            _show(verdict)
        _summary(verdicts, texts)
    # Without rules only "pairing" can break: a set that does not pair up has failed too.
    if any(v.broken for v in verdicts):
        raise typer.Exit(1)


def _note_repeated(label: str, titles: list[str]) -> None:
    from agentlog.cli.output import message

    named = ", ".join(repr(one_line(t, 60)) for t in titles[:5])
    more = f" and {len(titles) - 5} more" if len(titles) > 5 else ""
    message(
        f"note: {one_line(label, 60)} has more than one session titled {named}{more}; "
        "only the newest of each is compared"
    )


def _note_same(session_id: str) -> None:
    from agentlog.cli.output import message

    # A gate that compares the baseline with itself passes whatever the agent does:
    # the run was not recorded, or the baseline was exported from this very run.
    message(
        f"note: the baseline and the run are the same session ({session_id}); "
        "every rule holds trivially"
    )


def _latest_replay(store: Any, baseline: str) -> str:
    """The newest recorded replay of the session `baseline` names (RUN left out)."""
    from agentlog.cli.resolve import resolve_session_id
    from agentlog.gate.sides import TAG_PREFIX
    from agentlog.storage.base import SessionQuery

    missing = "name the run to judge: RUN (a session, file or tag:NAME) or --tag"
    if baseline.startswith(TAG_PREFIX) or Path(baseline).is_file():
        raise UsageError(missing)
    original = resolve_session_id(store, baseline)
    replays = store.list_sessions(SessionQuery(replay_of=original, sort="created_at", limit=1))
    if not replays.items:
        raise UsageError(
            f"{missing}; session {original} has no recorded replay to compare with "
            f"(record one: agentlog replay llm {original} -- CMD)"
        )
    return str(replays.items[0].id)


def _write(path: str, data: bytes) -> None:
    from agentlog.transfer.fileio import open_output

    with open_output(path) as stream:
        stream.write(data)


def _line(label: str, run: object) -> str:
    from agentlog.gate.runs import Run
    from agentlog.present import duration

    assert isinstance(run, Run)
    return (
        f"  {label:<8} {run.id}  {run.session.status!s:<9} {len(run.events):>6,} events"
        f"  {run.errors:>3} errors  {run.tokens:>8,} tokens  ${run.cost_usd:.4f}"
        f"  {duration(run.duration_ms)}"
    )


def _step(event: object) -> str:
    if event is None:
        return "(no step)"
    from agentlog.model import Event

    assert isinstance(event, Event)
    name = one_line(event.name, 40)
    return f"{event.type} {name} {event.status}".replace("  ", " ")


def _show(verdict: object) -> None:
    from agentlog.compare import align
    from agentlog.gate.judge import Verdict

    assert isinstance(verdict, Verdict)
    write_line(one_line(verdict.title or "(untitled)", 100))
    if verdict.baseline is not None:
        write_line(_line("baseline", verdict.baseline))
    if verdict.run is not None:
        write_line(_line("run", verdict.run))
    if verdict.baseline is not None and verdict.run is not None:
        if verdict.first_divergence is None:
            write_line(f"  {_match(verdict.steps)}")
        else:
            rows, _ = align(verdict.baseline.events, verdict.run.events)
            row = rows[verdict.first_divergence]
            write_line(
                f"  first divergence at step {verdict.first_divergence + 1} of "
                f"{verdict.steps:,} ({_differ(verdict.divergent_steps)})"
            )
            write_line(f"    baseline: {_step(row.a)}")
            write_line(f"    run:      {_step(row.b)}")
    for rule, why in verdict.broken:
        write_line(f"  FAIL {rule}: {one_line(why, 200)}")
    for rule in verdict.passed:
        write_line(f"  ok   {rule}")


def _match(count: int) -> str:
    return "the 1 step matches" if count == 1 else f"the {count:,} steps match"


def _differ(count: int) -> str:
    return "1 step differs" if count == 1 else f"{count:,} steps differ"


def _summary(verdicts: list, rules: list[str]) -> None:
    from agentlog.cli.output import message

    broken = sum(len(v.broken) for v in verdicts)
    failing = sum(1 for v in verdicts if v.broken)
    if not rules:
        if failing:
            message(f"{failing} of {len(verdicts)} pair(s) have a title only one side has")
        return
    if broken:
        message(f"{broken} rule(s) broken in {failing} of {len(verdicts)} pair(s)")
    else:
        message(f"all {len(rules)} rule(s) hold for {len(verdicts)} pair(s)")


def register(app: typer.Typer) -> None:
    app.command("compare")(compare_cmd)
