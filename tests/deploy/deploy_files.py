"""Readers for deploy/: the Dockerfile's instructions, the compose file, .env.example and `${VAR}` interpolation."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
VAR = re.compile(r"\$\{([A-Z0-9_]+)(?:(:?[-?])([^}]*))?\}")


@dataclass
class Stage:
    image: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, op: str) -> list[str]:
        return [arg for name, arg in self.instructions if name == op]

    def last(self, op: str) -> str | None:
        found = self.all(op)
        return found[-1] if found else None


def dockerfile(path: Path = DEPLOY / "Dockerfile") -> tuple[dict[str, str], list[Stage]]:
    """(global ARG defaults, stages) with continuation lines joined and comments dropped."""
    lines: list[str] = []
    pending = ""
    for raw in path.read_text().splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in lines:
        op, _, rest = line.partition(" ")
        op = op.upper()
        if op == "FROM":
            words = rest.split()
            image = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), ""), words[0])
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(image, name))
        elif not stages and op == "ARG":
            key, _, default = rest.partition("=")
            args[key] = default
        elif stages:
            stages[-1].instructions.append((op, rest.strip()))
    return args, stages


def exec_form(arg: str) -> list[str]:
    """A JSON-array instruction argument (exec form); shell form is refused by the tests."""
    value = orjson.loads(arg)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), arg
    return value


def env_instructions(stage: Stage) -> dict[str, str]:
    env: dict[str, str] = {}
    for arg in stage.all("ENV"):
        for word in shlex.split(arg):
            key, _, value = word.partition("=")
            env[key] = value
    return env


def compose(path: Path = DEPLOY / "docker-compose.yml") -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def env_example(path: Path = DEPLOY / ".env.example") -> dict[str, tuple[str, list[str]]]:
    """{VAR: (value, the comment block above it)}; consecutive variables share one block."""
    out: dict[str, tuple[str, list[str]]] = {}
    comments: list[str] = []
    after_var = False
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line.startswith("#"):
            if after_var:
                comments, after_var = [], False
            comments.append(line.lstrip("# "))
        elif "=" in line:
            key, _, value = line.partition("=")
            out[key.strip()] = (value, comments)
            after_var = True
        else:
            comments, after_var = [], False
    return out


def variables(text: str) -> set[str]:
    return {m.group(1) for m in VAR.finditer(text)}


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?message}` rules."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3)
        current = env.get(name, "")
        if op in (":-", "-"):
            return current or arg
        if op in (":?", "?"):
            if not current:
                raise ValueError(f"{name}: {arg}")
            return current
        return current

    return VAR.sub(one, value)
