"""Messages the TUI's workers and widgets post upwards ("attributes down, messages up")."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from agentlog.model import Event


@dataclass
class StoreFailed(Message):
    """A store call failed; the app shows a banner and retries until the store answers."""

    error: BaseException


class StoreRecovered(Message):
    """The store answers again after a failure; screens reload what they show."""


@dataclass
class KeysLoaded(Message):
    """The ordering keys of a timeline query arrived (with the page around the anchor row)."""

    generation: int
    keys: list[tuple[int, str]]
    anchor_row: int
    page: int
    events: list[Event]
    partial: bool = False  # only the first page's keys; the full list follows


@dataclass
class KeysAdded(Message):
    """Live follow found newly stored events (their keys may fall anywhere in time order)."""

    generation: int
    keys: list[tuple[int, str]]


@dataclass
class PageLoaded(Message):
    """A page of event bodies for rows [page * PAGE, (page + 1) * PAGE)."""

    generation: int
    page: int
    events: list[Event]


@dataclass
class SearchDone(Message):
    """Rows (in the current view) whose events match `term`."""

    generation: int
    term: str
    rows: list[int]


@dataclass
class EventSelected(Message):
    """The timeline cursor is on `event` (None while its body is still loading)."""

    row: int
    event: Event | None


@dataclass
class TimelineCounts(Message):
    """How many events the timeline shows now (after filters)."""

    total: int
