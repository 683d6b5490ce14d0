"""Every docs block marked `<!-- runnable -->` runs, in page order, against a temporary home."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
BLOCK = re.compile(r"<!-- runnable -->\n```(python|sh)\n(.*?)\n```", re.S)
PAGES = sorted(p for p in DOCS.glob("*.md") if BLOCK.search(p.read_text(encoding="utf-8")))


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_runnable_samples_run(page: Path, tmp_path: Path) -> None:
    env = {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        "HOME": str(tmp_path),
        "AGENTLOG_HOME": str(tmp_path / "agentlog"),
        "PYTHONPATH": str(DOCS.parent),
        "NO_COLOR": "1",
    }
    for index, (language, code) in enumerate(BLOCK.findall(page.read_text(encoding="utf-8"))):
        command = [sys.executable, "-c", code] if language == "python" else ["bash", "-ec", code]
        result = subprocess.run(
            command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, (
            f"{page.name} runnable block {index + 1} ({language}) failed:\n"
            f"{code}\n--- stderr ---\n{result.stderr}"
        )


def test_the_sdk_page_has_runnable_samples() -> None:
    assert DOCS / "sdk.md" in PAGES
