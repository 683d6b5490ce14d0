"""AGENTLOG_AUTO_INSTRUMENT on `import agentlog`: the usual yes/no words, and a word it does not
know said on one line (an import cannot stop the program it is imported into)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

CODE = "import sys, agentlog; print('auto' if 'agentlog.integrations.auto' in sys.modules else '-')"


def _import(tmp_path, value: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, AGENTLOG_AUTO_INSTRUMENT=value, AGENTLOG_HOME=str(tmp_path))
    return subprocess.run(
        [sys.executable, "-c", CODE], env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(("value", "instrumented"), [("On", True), ("off", False), ("", False)])
def test_the_usual_words(tmp_path, value, instrumented) -> None:
    done = _import(tmp_path, value)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ("auto" if instrumented else "-")


def test_an_unknown_word_is_one_line_and_no_instrumenting(tmp_path) -> None:
    done = _import(tmp_path, "perhaps")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "-"
    assert done.stderr.splitlines() == [
        "agentlog: warning: AGENTLOG_AUTO_INSTRUMENT is 'perhaps'; use 1/0, true/false, "
        "yes/no or on/off (not instrumenting)"
    ]
