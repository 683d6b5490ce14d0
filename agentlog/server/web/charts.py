"""Bar charts as inline SVG, drawn on the server: the usage page needs no script and no inline style.

Colours come from classes in style.css (the CSP forbids style attributes); each
bar carries a <title> so a pointer shows its day and value, and a table under
the chart gives the same numbers to screen readers and to phones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup

WIDTH, HEIGHT = 600, 160
TOP, BOTTOM, LEFT = 30, 30, 4  # room for the max label above and the day labels below


def bar_chart(
    points: Sequence[tuple[str, float]],
    *,
    label: str,
    fmt: Callable[[float], str] = lambda v: f"{v:,.0f}",
    kind: str = "",
) -> Markup:
    """An <svg> of one bar per (day, value), scaled to the largest value; escaped throughout."""
    plot = HEIGHT - TOP - BOTTOM
    top = max((v for _, v in points), default=0.0)
    n = max(len(points), 1)
    step = (WIDTH - LEFT) / n
    bar = max(step * 0.8, 1.0)
    parts = [
        Markup(
            '<svg class="chart {kind}" viewBox="0 0 {w} {h}" role="img" aria-label="{label}">'
        ).format(kind=kind, w=WIDTH, h=HEIGHT, label=label),
        Markup('<line class="axis" x1="0" y1="{y}" x2="{w}" y2="{y}"/>').format(
            y=HEIGHT - BOTTOM, w=WIDTH
        ),
        Markup('<text class="max" x="{x}" y="20">max {v}</text>').format(x=LEFT, v=fmt(top)),
    ]
    for i, (day, value) in enumerate(points):
        h = plot * value / top if top > 0 else 0.0
        x = LEFT + i * step + (step - bar) / 2
        parts.append(
            Markup(
                '<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}">'
                "<title>{day}: {v}</title></rect>"
            ).format(x=x, y=HEIGHT - BOTTOM - h, w=bar, h=h, day=day, v=fmt(value))
        )
    for i in sorted({0, n // 2, n - 1}) if points else []:
        x = LEFT if i == 0 else WIDTH if i == n - 1 else LEFT + i * step + step / 2
        anchor = "start" if i == 0 else "end" if i == n - 1 else "middle"
        parts.append(
            Markup('<text class="day" x="{x:.1f}" y="{y}" text-anchor="{a}">{d}</text>').format(
                x=x, y=HEIGHT - 6, a=anchor, d=points[i][0][5:]
            )
        )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)
