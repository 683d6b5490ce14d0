"""Jinja2 for the web pages: autoescaped templates, the shared presentation vocabulary, security headers."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape
from starlette.responses import HTMLResponse

from agentlog import present

HERE = Path(__file__).parent
STATIC = HERE / "static"

# No inline script or style anywhere; htmx and the stylesheet come from /static.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def highlight(text: str | None, term: str | None) -> Markup:
    """`text` escaped, with every case-insensitive match of `term` in <mark>."""
    text = present.safe_text(text or "")
    if not term:
        return escape(text)
    parts = re.split(f"({re.escape(term)})", text, flags=re.IGNORECASE)
    return Markup("").join(
        Markup("<mark>{}</mark>").format(p) if i % 2 else escape(p) for i, p in enumerate(parts)
    )


def when(dt: datetime | None) -> Markup | str:
    """A time as `<time datetime="…Z">YYYY-MM-DD HH:MM:SS UTC</time>`: every page shows UTC
    and says so (a stored time without a zone is UTC), and the machine-readable value
    lets a browser or a reader's script show it in their own zone."""
    if dt is None:
        return "—"
    utc = dt.astimezone(UTC) if dt.tzinfo else dt.replace(tzinfo=UTC)
    return Markup('<time datetime="{}">{} UTC</time>').format(
        utc.isoformat(timespec="microseconds").replace("+00:00", "Z"),
        utc.strftime("%Y-%m-%d %H:%M:%S"),
    )


CLIP = 160  # characters of a metadata value shown in a session's facts; the rest on demand
CLIP_KEY = 60
FACTS_SHOWN = 20  # metadata entries shown at once; more sit behind "N more"


def clip(text: str, limit: int = CLIP) -> tuple[str, bool]:
    """(`text` cut to `limit` characters with an ellipsis, whether it was cut)."""
    return (text[:limit] + "…", True) if len(text) > limit else (text, False)


def fact(value: Any) -> str:
    """A metadata value as one line of text: a string as itself, anything else as JSON."""
    text = value if isinstance(value, str) else orjson.dumps(value, default=str).decode()
    return present.safe_text(text)


def as_json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2, default=str).decode()


def said(content: str | None) -> str | None:
    """The first line of what structured content says (`present.headline`: a model's answer,
    a state's newest message, a traceback's error), or None when it is the content itself."""
    if not content:
        return None
    line = present.headline(content)
    if not line or line == content:
        return None
    return present.one_line(line.split("\n", 1)[0], 300)


def pretty(content: str) -> str:
    """Content as shown whole: a JSON object or array indented, anything else as recorded."""
    value = present.parsed_json(content) if content[:1] in ("{", "[") else None
    return content if value is None else as_json(value)


def shown(content: str) -> tuple[str, bool]:
    """Content as a page shows it (`pretty`), cut to `present.CONTENT_LINES` lines and
    `present.CONTENT_CHARS` characters, and whether it was cut (the page links the whole
    event then): 50 big tool results made one page 27 MB and 14 s to load."""
    text = pretty(content)
    cut, _ = present.head_lines(text[: present.CONTENT_CHARS])
    return cut, len(cut) < len(text)


AGENTS_SHOWN = 10  # agents named in a session's row or header; the rest are counted
AGENT_CHOICES = 200  # agents offered in a session page's filter


def few(names: list[str], limit: int = AGENTS_SHOWN) -> str:
    """'a, b, c' or 'a, b, … and 19,990 more': one session's events may name any number
    of agents (20,000 made every sessions page 256 KB and a session page's header as long)."""
    shown = ", ".join(present.safe_text(n) for n in names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit:,} more"


def mentions(content: str | None, term: str | None) -> bool:
    """Whether `content` holds `term`, as `highlight` marks it (ignoring case)."""
    return bool(content and term and term.lower() in content.lower())


env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
env.globals["agent_choices"] = AGENT_CHOICES
env.filters.update(
    highlight=highlight,
    when=when,
    as_json=as_json,
    said=said,
    pretty=pretty,
    shown=shown,
    few=few,
    mentions=mentions,
    fact=fact,
    clip=clip,
    duration=present.duration,
    plural=present.plural,
    glyph=lambda kind: present.type_glyph(kind)[0],
    short=present.type_short,
    state_glyph=lambda state: present.state_glyph(state)[0],
    event_name=present.event_name,
    text=present.safe_text,
    headline=present.headline,
    tokens=lambda s: present.tokens(
        s.input_tokens,
        s.output_tokens,
        s.cache_read_tokens,
        s.cache_creation_tokens,
        s.reasoning_tokens,
    ),
)


def page(name: str, code: int = 200, **context: object) -> HTMLResponse:
    html = env.get_template(name).render(**context)
    return HTMLResponse(html, status_code=code, headers=HEADERS)
