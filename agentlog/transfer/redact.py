"""Redaction for `agentlog share`: mask text by regex and metadata values by key.

A regex masks every match in a session's title, description and tags, an
event's content, name and agent id, and every string inside metadata, keys
included (a key is only changed where a secret is in it, so the shape of the
data stays readable). A key masks the whole value of that key at any depth of
metadata; the @secrets key names also match as the end of a longer name
(`OPENAI_API_KEY`, `github-token`). Named presets cover the usual secrets.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from agentlog.errors import UsageError
from agentlog.model import Event, Session

MASK = "[REDACTED]"

# --redact @email, @secrets: patterns a user should not have to write by hand.
PRESETS: dict[str, str] = {
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
    "secrets": "|".join(
        (
            r"sk-[A-Za-z0-9_-]{16,}",  # OpenAI / Anthropic style keys
            r"gh[pousr]_[A-Za-z0-9]{20,}",  # GitHub tokens
            r"AKIA[0-9A-Z]{16}",  # AWS access key ids
            r"xox[abpr]-[A-Za-z0-9-]{10,}",  # Slack tokens
            r"(?i:bearer)\s+[A-Za-z0-9._~+/=-]{16,}",  # Authorization headers
            r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",  # JWTs
            r"AIza[0-9A-Za-z_-]{35}",  # Google API keys
            r"al_[0-9a-f]{8}_[A-Za-z0-9_-]{20,}",  # AgentLog's own API keys
            # PEM private keys, whole (an unterminated one to the end of the text)
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)",
            # .env / shell assignments to a secret-looking name: only the value is masked
            r"(?m:^)[ \t]*(?:export[ \t]+)?(?i:[a-z0-9_]*(?:key|token|secret|passw(?:or)?d|pwd"
            r"|credentials?|auth)[a-z0-9_]*)[ \t]*=[ \t]*(?P<env_value>[\"']?[^\s\"'#]{4,}[\"']?)",
            # credential-named key=value / key: value anywhere (query strings, logs, JSON, YAML),
            # as detect-secrets' keyword plugin reads them: only the value is masked, and a
            # name with no separator after it ("the password field") is prose, not a secret
            r"(?i:(?:passw(?:or)?d|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key"
            r"|credentials?)[\"']?[ \t]*[:=][ \t]*[\"']?)(?P<kv_value>[^\s\"'&,;]{3,})",
            # passwords in connection URLs: scheme://user:PASSWORD@host
            r"://[^/\s:@]+:(?P<url_password>[^@\s/]{3,})@",
        )
    ),
}
# Text without any of these cannot match the preset: a substring test skips the regex.
TRIGGERS: dict[str, tuple[str, ...]] = {
    "email": ("@",),
    "secrets": (
        "sk-",
        "ghp_",
        "gho_",
        "ghu_",
        "ghs_",
        "ghr_",
        "AKIA",
        "xox",
        "earer",
        "EARER",
        "eyJ",
        "AIza",
        "al_",
        "PRIVATE KEY",
        "=",
        ":",
    ),
}
# Groups whose span alone is masked (the name or URL around them stays readable).
VALUE_GROUPS = ("env_value", "kv_value", "url_password")
# --redact-key @secrets: metadata keys that usually hold credentials.
KEY_PRESETS: dict[str, tuple[str, ...]] = {
    "secrets": (
        "api_key",
        "apikey",
        "authorization",
        "password",
        "secret",
        "token",
        "access_token",
        "refresh_token",
        "cookie",
    ),
}


def expand_presets(values: Iterable[str]) -> list[str]:
    """`@email,@secrets` → `@email`, `@secrets`, as other list options take them.

    Only a value that starts with `@` is split: a regex of the user's own may hold a comma
    (`\\d{1,3}`), and a value starting with `@` was never a regex here.
    """
    out: list[str] = []
    for value in values:
        if value.strip().startswith("@"):
            out.extend(part.strip() for part in value.split(",") if part.strip())
        else:
            out.append(value)
    return out


class Redactor:
    """Masks matches of `patterns` and the values of `keys` in sessions and events."""

    def __init__(
        self,
        patterns: Iterable[str] = (),
        keys: Iterable[str] = (),
        mask: str = MASK,
        *,
        labels: tuple[str, str] = ("--redact", "--redact-key"),
    ) -> None:
        """`labels` name the two inputs in error messages (the CLI's options by default)."""
        label, key_label = labels
        compiled = []
        triggers: set[str] | None = set()
        for raw in expand_presets(patterns):
            if raw.startswith("@") and raw[1:] in TRIGGERS and triggers is not None:
                triggers.update(TRIGGERS[raw[1:]])
            else:
                triggers = None  # a pattern of the user's own: no shortcut
            text = PRESETS.get(raw[1:]) if raw.startswith("@") else raw
            if text is None:
                raise UsageError(
                    f"{label}: unknown preset {raw!r}; the presets are "
                    + ", ".join("@" + p for p in PRESETS)
                )
            try:
                compiled.append(re.compile(text))
            except re.error as exc:
                raise UsageError(
                    f"{label}: {raw!r} is not a valid regular expression ({exc})"
                ) from None
        unique = list(dict.fromkeys(p.pattern for p in compiled))  # a preset named twice
        self.pattern = re.compile("|".join(f"(?:{p})" for p in unique)) if unique else None
        self.triggers = tuple(sorted(triggers)) if triggers else None
        self.groups = tuple(
            g for g in VALUE_GROUPS if self.pattern and g in self.pattern.groupindex
        )
        names: set[str] = set()
        suffixes: set[str] = set()
        for key in expand_presets(keys):
            if key.startswith("@"):
                if key[1:] not in KEY_PRESETS:
                    raise UsageError(f"{key_label}: unknown preset {key!r}; use @secrets")
                names.update(KEY_PRESETS[key[1:]])
                suffixes.update("_" + name for name in KEY_PRESETS[key[1:]])
            else:
                names.add(key.lower())
        self.keys = frozenset(names)
        # A preset's names end longer ones (OPENAI_API_KEY, x-auth-token); a user's key is exact.
        self._key_suffixes = tuple(sorted(suffixes))
        self.mask = mask
        self.masked = 0  # how many strings or values were changed

    @property
    def active(self) -> bool:
        return bool(self.pattern or self.keys)

    def text(self, value: str | None) -> str | None:
        if value is None or self.pattern is None:
            return value
        # `map` over the bound `__contains__` keeps the scan in C (a generator was most of the cost).
        if self.triggers is not None and not any(map(value.__contains__, self.triggers)):
            return value
        out, n = self.pattern.subn(self._replace if self.groups else self.mask, value)
        self.masked += bool(n)
        return out

    def _replace(self, match: re.Match[str]) -> str:
        for group in self.groups:
            if match.group(group) is not None:
                start, end = match.span(group)
                base = match.start()
                text = match.group(0)
                return text[: start - base] + self.mask + text[end - base :]
        return self.mask

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return self.metadata(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value

    def _secret_key(self, key: str) -> bool:
        name = key.lower()
        if name in self.keys:
            return True
        return bool(self._key_suffixes) and name.replace("-", "_").endswith(self._key_suffixes)

    def metadata(self, data: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, val in data.items():
            name = self.text(str(key)) or ""
            while name != key and name in out:  # two keys masked alike stay two keys
                name += "'"
            if self._secret_key(str(key)):
                out[name] = self.mask
                self.masked += 1
            else:
                out[name] = self.value(val)
        return out

    def __call__(self, record: Session | Event) -> Session | Event:
        if not self.active:
            return record
        if isinstance(record, Event):
            before = self.masked
            content = self.text(record.content)
            name = self.text(record.name)
            agent_id = self.text(record.agent_id)
            metadata = self.metadata(record.metadata) if record.metadata else record.metadata
            if self.masked == before:  # nothing matched: the record as it was, no copy
                return record
            return record.model_copy(
                update={
                    "content": content,
                    "name": name,
                    "agent_id": agent_id,
                    "metadata": metadata,
                }
            )
        return record.model_copy(
            update={
                "title": self.text(record.title) or "",
                "description": self.text(record.description) or "",
                "tags": [self.text(tag) or "" for tag in record.tags],
                "metadata": self.metadata(record.metadata),
            }
        )


__all__ = ["KEY_PRESETS", "MASK", "PRESETS", "Redactor", "expand_presets"]
