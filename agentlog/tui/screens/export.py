"""Dialog: export the session or the filtered view to NDJSON, JSON or CSV (through agentlog.transfer.export)."""

from __future__ import annotations

import re
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioSet, Static

from agentlog.errors import AgentLogError, UsageError
from agentlog.model import SessionSummary
from agentlog.present import plural, safe_text
from agentlog.storage.base import EventQuery
from agentlog.transfer.export import Selection, export
from agentlog.transfer.fileio import refuse_overwrite
from agentlog.tui.access import agentlog_app
from agentlog.tui.widgets.inputs import TextInput
from agentlog.tui.widgets.radio import MarkedRadioButton

FORMATS = ("ndjson", "json", "csv")


def default_name(session: SessionSummary | None, session_id: str, fmt: str) -> str:
    title = session.title if session and session.title else session_id[:8]
    slug = re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-").lower()[:40] or session_id[:8]
    return f"{slug}.{fmt}"


class ExportDialog(ModalScreen[str | None]):
    """Choose format, scope and file; enter writes it in a worker and reports where."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "export", "Export")]

    def __init__(
        self,
        session_id: str,
        session: SessionSummary | None,
        filtered: EventQuery,
        has_filter: bool,
    ) -> None:
        super().__init__()
        self.session_id = session_id
        self.session = session
        self.filtered = filtered
        self.has_filter = has_filter
        # The file the user was told exists: a second ctrl+s (or enter) for the same
        # name replaces it, as `agentlog export -o` does only with --force.
        self._replace: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Static("Export", classes="dialog-title")
            with Horizontal(classes="radios"):
                with Vertical(classes="radio-group"):
                    yield Label("Format", classes="group-label")
                    with RadioSet(id="x-format"):
                        for i, fmt in enumerate(FORMATS):
                            yield MarkedRadioButton(fmt.upper(), value=i == 0, id=f"x-{fmt}")
                with Vertical(classes="radio-group"):
                    yield Label("Events", classes="group-label")
                    with RadioSet(id="x-scope"):
                        yield MarkedRadioButton(
                            "Filtered view",
                            value=self.has_filter,
                            id="x-view",
                            disabled=not self.has_filter,
                        )
                        yield MarkedRadioButton(
                            "Whole session", value=not self.has_filter, id="x-all"
                        )
            yield Label("File")
            # Relative to the directory the TUI was started in, like any shell path.
            yield TextInput(default_name(self.session, self.session_id, "ndjson"), id="x-path")
            yield Static(id="x-where", classes="dialog-help")
            yield Static("", id="x-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Export", variant="primary", id="x-go")
                yield Button("Cancel", id="x-cancel")
            yield Static(
                "tab next · arrows choose · enter or ctrl+s exports · esc cancels",
                classes="dialog-help",
            )

    def on_mount(self) -> None:
        self.query_one("#x-path", Input).focus()
        self._where()

    @on(Input.Changed, "#x-path")
    def _where(self) -> None:
        """Say the full path the file goes to: relative names land where the TUI started."""
        raw = self.query_one("#x-path", Input).value.strip()
        where = Path(raw).expanduser().absolute() if raw else Path.cwd()
        self.query_one("#x-where", Static).update(f"→ {safe_text(str(where))}")

    @on(Button.Pressed, "#x-go")
    def _go(self) -> None:
        self.action_export()

    @on(Button.Pressed, "#x-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def _format(self) -> str:
        pressed = self.query_one("#x-format", RadioSet).pressed_button
        return pressed.id.removeprefix("x-") if pressed and pressed.id else "ndjson"

    @on(RadioSet.Changed, "#x-format")
    def _format_changed(self) -> None:
        box = self.query_one("#x-path", Input)
        fmt = self._format()
        path = Path(box.value)
        stem = path.name.removesuffix(".gz")
        for ext in FORMATS:
            stem = stem.removesuffix(f".{ext}")
        box.value = str(path.with_name(f"{stem}.{fmt}"))

    @on(Input.Submitted, "#x-path")
    def _submitted(self) -> None:
        self.action_export()

    def action_export(self) -> None:
        path = self.query_one("#x-path", Input).value.strip()
        if not path:
            self.query_one("#x-error", Static).update("give a file name")
            return
        scope = self.query_one("#x-scope", RadioSet).pressed_button
        view = scope is not None and scope.id == "x-view"
        selection = Selection(
            session_ids=(self.session_id,), event_filter=self.filtered if view else None
        )
        self.query_one("#x-error", Static).update("exporting…")
        target = str(Path(path).expanduser())
        self._write(selection, self._format(), target, replace=self._replace == target)

    @work(thread=True, exclusive=True)
    def _write(self, selection: Selection, fmt: str, path: str, replace: bool) -> None:
        try:
            refuse_overwrite(path, force=replace)
        except UsageError:
            self.app.call_from_thread(self._exists, path)
            return
        try:
            n = export(agentlog_app(self).store, selection, fmt, path).events
        except AgentLogError as exc:
            self.app.call_from_thread(self.query_one("#x-error", Static).update, exc.message)
            return
        except OSError as exc:
            self.app.call_from_thread(
                self.query_one("#x-error", Static).update, f"cannot write {path}: {exc.strerror}"
            )
            return
        self.app.call_from_thread(self._done, n, path)

    def _exists(self, path: str) -> None:
        self._replace = path
        self.query_one("#x-error", Static).update(
            f"{safe_text(path)} exists; press ctrl+s again to replace it, or change the name"
        )

    def _done(self, n: int, path: str) -> None:
        self.app.notify(f"Exported {plural(n, 'event')} to {path}", title="Export")
        self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)
