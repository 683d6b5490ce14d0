"""The one sanitizer for recorded text shown to a human: control characters never reach a terminal raw.

Recorded agent output is hostile input. An ESC, OSC, CSI (C1 U+009B), bell
or carriage return in a title, agent id, name or content could change the
window title, clear the screen or fake a hyperlink if printed as is. Every
human-readable face (CLI tables, `tail`, messages and errors, the TUI)
passes text through `safe_text`/`one_line`; JSON output passes through
`escape_json_controls`, which keeps the value exact (a JSON parser reads the
same string back) but writes C1 controls and DEL as `\\u` escapes, as orjson
already does for C0.

The rule: C0 controls other than tab and newline become their Unicode
"control picture" (ESC → ␛, BEL → ␇, CR → ␍), DEL becomes ␡, C1 controls
(U+0080–U+009F) become U+FFFD, and bidi overrides/isolates (which could
reorder the rest of a line) become U+FFFD.
"""

from __future__ import annotations

import codecs
import re
from typing import Protocol

# C0 controls except tab/newline, DEL and C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Bidi embeddings/overrides/isolates.
_BIDI_CONTROL = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
# Characters orjson leaves raw in JSON strings that a terminal would still act on.
_JSON_RAW_CONTROL = re.compile(r"[\x7f-\x9f]")
# Whitespace runs a one-line cell collapses (str.split's set, which includes \x1c-\x1f, \x85).
_WHITESPACE = re.compile(r"\s+")


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    return "\ufffd"


def safe_text(value: object, limit: int | None = None) -> str:
    """`value` as text with control characters made visible, cut to `limit` characters.

    Tabs and newlines are kept (a multi-line detail view stays multi-line).
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if limit is not None and len(text) > limit:
        text = text[:limit]
    text = _CONTROL.sub(_picture, text)
    return _BIDI_CONTROL.sub("\ufffd", text)


def one_line(value: str | None, limit: int = 400, *, newline: str = " ⏎ ") -> str:
    """A single safe line: newlines shown as `newline`, tabs as spaces, cut to `limit` (… added)."""
    if not value:
        return ""
    cut = value[:limit]
    cut = cut.replace("\r\n", "\n").replace("\n", newline).replace("\t", " ")
    out = safe_text(cut)
    if len(value) > limit:
        out += "…"
    return out


def flat(value: str | None, width: int = 80) -> str:
    """A table cell: whitespace runs collapsed to one space, controls made visible, cut to `width`."""
    if not value:
        return ""
    # Collapse only real whitespace first, so an ESC or C1 is shown, not swallowed.
    text = _WHITESPACE.sub(" ", safe_text_keep_space(value)).strip()
    return text if len(text) <= width else text[: width - 1] + "…"


def safe_text_keep_space(value: str) -> str:
    """Like `safe_text`, but the whitespace controls (tab, LF, VT, FF, CR, FS–US, NEL) stay as spaces."""
    text = re.sub(r"[\t\n\x0b\x0c\r\x1c-\x1f\x85]", " ", value)
    return safe_text(text)


def escape_json_controls(document: str) -> str:
    """A JSON document with DEL and C1 controls written as `\\u00XX` escapes (the value is unchanged).

    orjson escapes C0 controls but writes U+007F–U+009F raw; in JSON text those
    characters can only occur inside strings, so escaping them is exact.
    """
    if not _JSON_RAW_CONTROL.search(document):
        return document
    return _JSON_RAW_CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", document)


class _BinaryOut(Protocol):
    def write(self, data: bytes, /) -> int: ...

    def flush(self) -> None: ...


class TerminalStream:
    """A binary stream for a terminal that shows recorded bytes' controls visibly (as `safe_text`).

    An export, a share or a report written to stdout (`-o -`, the default) or
    to a tty device is read by a human's terminal, not a program: an ESC or
    C1 in a CSV cell (or a C1 / bidi override, which JSON leaves raw) would
    act on it. CRLF line ends (CSV) become plain newlines; invalid UTF-8
    becomes U+FFFD. Files and pipes are never wrapped, so they stay exact.
    """

    def __init__(self, raw: _BinaryOut) -> None:
        self._raw = raw
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._held_cr = False

    def write(self, data: bytes, /) -> int:
        text = self._decoder.decode(bytes(data))
        self._raw.write(self._clean(text).encode("utf-8"))
        return len(data)

    def _clean(self, text: str, final: bool = False) -> str:
        if self._held_cr:
            text = "\r" + text
            self._held_cr = False
        if text.endswith("\r") and not final:
            text, self._held_cr = text[:-1], True  # its LF may come in the next write
        return safe_text(text.replace("\r\n", "\n"))

    def flush(self) -> None:
        self._raw.flush()

    def finish(self) -> None:
        """Write what is held back (a last CR, an incomplete UTF-8 sequence); the terminal stays open."""
        tail = self._clean(self._decoder.decode(b"", final=True), final=True)
        if tail:
            self._raw.write(tail.encode("utf-8"))
        self._raw.flush()


__all__ = [
    "TerminalStream",
    "escape_json_controls",
    "flat",
    "one_line",
    "safe_text",
    "safe_text_keep_space",
]
