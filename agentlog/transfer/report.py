"""What an import did: counts per kind, the problems (where and why), and how it ended."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KEEP_PROBLEMS = 200  # problems kept in the report; all of them go to --rejects


@dataclass(slots=True)
class Problem:
    """A rejected record or a conflict: where it is in the file and why."""

    where: str
    reason: str
    kind: str | None = None
    id: str | None = None
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "where": self.where,
            "line": self.line,
            "kind": self.kind,
            "id": self.id,
            "reason": self.reason,
        }


@dataclass(slots=True)
class Counts:
    imported: int = 0
    duplicates: int = 0
    conflicts: int = 0
    overwritten: int = 0
    rejected: int = 0

    def to_dict(self) -> dict[str, int]:
        return {
            "imported": self.imported,
            "duplicates": self.duplicates,
            "conflicts": self.conflicts,
            "overwritten": self.overwritten,
            "rejected": self.rejected,
        }


@dataclass
class ImportReport:
    """What an import did (or, with dry_run, would do)."""

    format: str = ""
    dry_run: bool = False
    strict: bool = False
    sessions: Counts = field(default_factory=Counts)
    events: Counts = field(default_factory=Counts)
    rejects: list[Problem] = field(default_factory=list)
    conflicts: list[Problem] = field(default_factory=list)
    aborted: str | None = None  # the file could not be read to its end: why
    rolled_back: bool = False

    @property
    def rejected(self) -> int:
        return self.sessions.rejected + self.events.rejected

    @property
    def conflicted(self) -> int:
        return self.sessions.conflicts + self.events.conflicts

    @property
    def ok(self) -> bool:
        return not self.aborted and not self.rejected and not self.conflicted

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "dry_run": self.dry_run,
            "strict": self.strict,
            "ok": self.ok,
            "sessions": self.sessions.to_dict(),
            "events": self.events.to_dict(),
            "rejected": [p.to_dict() for p in self.rejects],
            "conflicts": [p.to_dict() for p in self.conflicts],
            "aborted": self.aborted,
            "rolled_back": self.rolled_back,
        }


__all__ = ["KEEP_PROBLEMS", "Counts", "ImportReport", "Problem"]
