"""`python -m bench`: the generated RESULTS.md section is replaced in place and the history kept."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load_runner():
    spec = importlib.util.spec_from_file_location("bench_runner", ROOT / "bench" / "__main__.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_runner"] = module
    spec.loader.exec_module(module)
    return module


def test_generated_section_is_replaced_and_history_kept(tmp_path, monkeypatch):
    runner = load_runner()
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\n## CLI\n\nhand-written history\n", encoding="utf-8")
    monkeypatch.setattr(runner, "RESULTS", results)
    otel = next(b for b in runner.BENCHES if b.name == "otel")
    first = runner.Outcome(otel, "ok", 1.0, "receiver: 9,000 spans/s (90%)\nnoise\n")
    runner.rewrite_results(runner.section([first], "python -m bench --only otel"))
    second = runner.Outcome(otel, "ok", 2.0, "receiver: 8,000 spans/s (80%)\n")
    runner.rewrite_results(runner.section([second], "python -m bench --only otel"))
    text = results.read_text(encoding="utf-8")
    assert "hand-written history" in text
    assert text.count(runner.BEGIN) == 1 and text.count(runner.END) == 1
    assert "8,000 spans/s (80%)" in text and "9,000" not in text
    assert "| otel | ok | 2.0 | receiver: 8,000 spans/s (80%) |" in text


def test_a_failing_script_is_reported_not_raised(tmp_path):
    runner = load_runner()
    script = tmp_path / "bench_boom.py"
    script.write_text("import sys\nprint('half a figure')\nsys.exit('no database here')\n")
    bench = runner.Bench("boom", str(script), (), ())
    outcome = runner.run(bench, quick=True, timeout=60)
    assert outcome.status == "failed: no database here"
    assert "half a figure" in outcome.output


def test_postgres_benchmarks_skip_with_a_reason_without_a_url(monkeypatch):
    runner = load_runner()
    monkeypatch.delenv("AGENTLOG_TEST_POSTGRES_URL", raising=False)
    postgres = next(b for b in runner.BENCHES if b.needs_postgres)
    assert runner.run(postgres, quick=True, timeout=1).status.startswith("skipped: ")


def test_peer_benchmarks_skip_with_a_reason_without_the_peer(monkeypatch):
    runner = load_runner()
    monkeypatch.delenv("AGENTLOG_PEER_PHOENIX", raising=False)
    phoenix = next(b for b in runner.BENCHES if b.name == "phoenix")
    status = runner.run(phoenix, quick=True, timeout=1).status
    assert status.startswith("skipped: AGENTLOG_PEER_PHOENIX is not set")
    assert "requirements-peers.txt" in status


def test_the_phoenix_benchmark_without_phoenix_says_how_to_get_it(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "bench" / "bench_phoenix.py"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, str(script), "--phoenix", str(tmp_path / "absent")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 1
    assert "bench/requirements-peers.txt" in done.stderr and "Traceback" not in done.stderr
