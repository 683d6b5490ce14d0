"""The sanitizer every human-readable face uses: controls become visible, JSON stays exact."""

from __future__ import annotations

import orjson

from agentlog.textsafe import escape_json_controls, flat, one_line, safe_text

HOSTILE = "a\x1b]0;pwned\x07b\x1b[2J\x9b31mc\u202edef\r\x7f"


def _no_controls(text: str) -> bool:
    return not any((ord(c) < 0x20 and c not in "\t\n") or 0x7F <= ord(c) <= 0x9F for c in text)


def test_safe_text_shows_every_control_visibly():
    out = safe_text(HOSTILE)
    assert _no_controls(out)
    assert out == "a␛]0;pwned␇b␛[2J\ufffd31mc\ufffddef␍␡"
    assert safe_text("tab\there\nnext") == "tab\there\nnext"
    assert safe_text(None) == "" and safe_text(42) == "42"
    assert safe_text("abcdef", limit=3) == "abc"


def test_one_line_and_flat_never_swallow_an_escape():
    assert one_line("x\ny\x1b[1m") == "x ⏎ y␛[1m"
    # str.split() treats \x1c-\x1f and NEL as spaces but not ESC: ESC must be shown.
    assert flat("  a \x1b[31m\n\x85 b  ", 80) == "a ␛[31m b"
    assert flat("x" * 10, 5) == "xxxx…"
    assert safe_text(safe_text(HOSTILE)) == safe_text(HOSTILE)


def test_json_escaping_keeps_the_value_exact():
    value = {"t": "csi\x9bJ del\x7f esc\x1b", "k\x9b": 1}
    doc = escape_json_controls(orjson.dumps(value).decode())
    assert _no_controls(doc) and "\\u009b" in doc and "\\u007f" in doc
    assert orjson.loads(doc) == value


def test_terminal_stream_shows_controls_across_split_writes():
    import io

    from agentlog.textsafe import TerminalStream

    raw = io.BytesIO()
    out = TerminalStream(raw)
    data = "row\x1b[2J\u202e\x9b1\r\né\r\nlast\r".encode()
    for i in range(len(data)):  # one byte a write: a CRLF and a UTF-8 sequence split apart
        out.write(data[i : i + 1])
    out.write(b"\xff")
    out.finish()
    assert raw.getvalue().decode() == "row␛[2J\ufffd\ufffd1\né\nlast␍\ufffd"
