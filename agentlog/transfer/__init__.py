"""Data portability: export and import files, share, store-to-store migrate, file viewing.

`export` / `import_file` speak three formats (NDJSON, JSON, CSV; gzip by
name) that round-trip losslessly; `share_session` writes one session tree as
NDJSON.gz with optional redaction; `Migration` streams one Store into another
with checkpoints and verification; `open_file_as_store` gives a read-only
Store over an export file (for `agentlog tui FILE`).
"""

from __future__ import annotations

from agentlog.transfer.export import ExportStats, Selection, export
from agentlog.transfer.importer import ImportReport, import_file
from agentlog.transfer.migrate import MigrateReport, Migration, verify_only
from agentlog.transfer.redact import Redactor
from agentlog.transfer.share import share_session
from agentlog.transfer.viewer import open_file_as_store

__all__ = [
    "ExportStats",
    "ImportReport",
    "MigrateReport",
    "Migration",
    "Redactor",
    "Selection",
    "export",
    "import_file",
    "open_file_as_store",
    "share_session",
    "verify_only",
]
