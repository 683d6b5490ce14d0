"""Dialog: filter the sessions list by status, tag, agent and last activity."""

from __future__ import annotations

from dataclasses import replace

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, Static

from agentlog.errors import AgentLogError
from agentlog.model import SessionStatus
from agentlog.storage.base import SessionQuery
from agentlog.timeparse import parse_time
from agentlog.tui import render
from agentlog.tui.access import agentlog_app
from agentlog.tui.widgets.inputs import TextInput


class SessionFilterDialog(ModalScreen[SessionQuery | None]):
    """Status, tag, agent and "active since" filters; enter applies, escape cancels."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "apply", "Apply"),
        Binding("ctrl+r", "clear", "Clear all"),
    ]

    def __init__(self, query: SessionQuery) -> None:
        super().__init__()
        self.query_ = query

    def compose(self) -> ComposeResult:
        q = self.query_
        with Vertical(classes="dialog"):
            yield Static("Filter sessions", classes="dialog-title")
            yield Label("Status")
            yield Select(
                [(s.value, s.value) for s in SessionStatus],
                value=q.status if q.status else Select.NULL,
                prompt="any status",
                id="f-status",
            )
            yield Label("Tag (every tag, comma separated)")
            yield TextInput(",".join(q.tags or ()), id="f-tags")
            yield Label("Agent")
            yield TextInput(q.agent or "", id="f-agent")
            yield Label("Active since (30m, 2h, 7d or an ISO time)")
            yield TextInput(render.stamp(q.since) if q.since else "", id="f-since")
            yield Label("Created before (30m, 2h, 7d or an ISO time)")
            yield TextInput(render.stamp(q.until) if q.until else "", id="f-until")
            yield Static("", id="f-error", classes="dialog-error")
            yield Static("enter apply · ctrl+r clear · esc cancel", classes="dialog-help")

    def on_mount(self) -> None:
        self.query_one("#f-status", Select).focus()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_apply()

    def action_apply(self) -> None:
        status = self.query_one("#f-status", Select).value
        tags = [t.strip() for t in self.query_one("#f-tags", Input).value.split(",") if t.strip()]
        agent = self.query_one("#f-agent", Input).value.strip() or None
        since_text = self.query_one("#f-since", Input).value.strip()
        until_text = self.query_one("#f-until", Input).value.strip()
        now = agentlog_app(self).now()
        try:
            since = parse_time(since_text, "active since", now=now) if since_text else None
            until = parse_time(until_text, "created before", now=now) if until_text else None
        except AgentLogError as exc:
            self.query_one("#f-error", Static).update(exc.message)
            return
        self.dismiss(
            replace(
                self.query_,
                status=SessionStatus(status) if isinstance(status, str) else None,
                tags=tags or None,
                agent=agent,
                since=since,
                until=until,
                cursor=None,
            )
        )

    def action_clear(self) -> None:
        self.dismiss(SessionQuery(limit=self.query_.limit))

    def action_cancel(self) -> None:
        self.dismiss(None)
