"""Charts as inline SVG: pure functions from figures to markup, no external service, no
script. Every text is escaped here; each chart is `role="img"` with a <title> and <desc>
(named by `aria-labelledby`), so a screen reader hears what it shows; the page puts the same
figures in a table beside it.

Colours are presentation attributes (the pages' CSP forbids `style=`), chosen to keep 3:1
against white and to stay apart for the common colour-vision deficiencies; every series is
also named in a legend and every bar carries its figure as text.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

INK = "#0b0c0c"
MUTED = "#505a5f"
GRID = "#b1b4b6"
# Blue, orange, purple, teal, pink, brown: distinct under deuteranopia and protanopia.
PALETTE = ("#1d70b8", "#d4351c", "#4c2c92", "#00703c", "#d53880", "#6f4e37")
RAG_COLOURS = {
    "red": "#d4351c",
    "amber": "#f47738",
    "green": "#00703c",
    "complete": "#1d70b8",
    "grey": "#6f777b",
}

WIDTH = 640
ROW = 22  # height of one bar in a horizontal chart
LEFT = 190  # room for labels on the left of a horizontal chart
FONT = 'font-family="system-ui, Arial, sans-serif" font-size="12"'


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float, ...]
    colour: str = ""


def _t(value: object) -> str:
    return escape(str(value), quote=True)


def _figure(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))


def _open(chart_id: str, title: str, desc: str, height: int) -> list[str]:
    cid = _t(chart_id)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{cid}" role="img" '
        f'aria-labelledby="{cid}-title {cid}-desc" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" {FONT}>',
        f'<title id="{cid}-title">{_t(title)}</title>',
        f'<desc id="{cid}-desc">{_t(desc)}</desc>',
    ]


def _colours(series: Sequence[Series]) -> list[str]:
    return [s.colour or PALETTE[i % len(PALETTE)] for i, s in enumerate(series)]


def _legend(series: Sequence[Series], y: int) -> list[str]:
    out, x = [], LEFT
    for s, colour in zip(series, _colours(series), strict=True):
        out.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="{x + 16}" y="{y + 10}" fill="{INK}">{_t(s.name)}</text>')
        x += 30 + 7 * len(s.name)
    return out


def _scale(top: float) -> float:
    return top if top > 0 else 1.0


def _axis_top(top: float) -> float:
    """The axis's top: whole numbers of schools split in four equal steps."""
    return float(max(4, math.ceil(top / 4) * 4)) if top == int(top) else _scale(top)


def _text_on(colour: str) -> str:
    """Ink or white, whichever reads better on the colour (WCAG relative luminance)."""
    rgb = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    luminance = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    return "#ffffff" if (1.05 / (luminance + 0.05)) >= 4.5 else INK


def bar_chart(
    chart_id: str,
    title: str,
    desc: str,
    bars: Sequence[tuple[str, float]],
    colours: Sequence[str] = (),
) -> str:
    """Horizontal bars, one per (label, value), each with its value written after it."""
    return grouped_bar_chart(
        chart_id,
        title,
        desc,
        [label for label, _ in bars],
        [Series(title, tuple(v for _, v in bars))],
        colours=colours,
        legend=False,
    )


def grouped_bar_chart(
    chart_id: str,
    title: str,
    desc: str,
    categories: Sequence[str],
    series: Sequence[Series],
    colours: Sequence[str] = (),
    legend: bool = True,
) -> str:
    """Horizontal bars: for each category, one bar per series side by side."""
    per = max(1, len(series))
    band = ROW * per + 8
    top_pad = 28 if legend else 8
    height = top_pad + band * max(1, len(categories)) + 8
    out = _open(chart_id, title, desc, height)
    if legend:
        out += _legend(series, 8)
    top = _scale(max((v for s in series for v in s.values), default=0))
    span = WIDTH - LEFT - 50
    palette = _colours(series)
    for c, category in enumerate(categories):
        y0 = top_pad + c * band
        out.append(
            f'<text x="{LEFT - 8}" y="{y0 + band / 2 + 4:.0f}" text-anchor="end" '
            f'fill="{INK}">{_t(category)}</text>'
        )
        for i, s in enumerate(series):
            value = s.values[c] if c < len(s.values) else 0
            colour = colours[c] if colours and per == 1 else palette[i]
            width = span * value / top
            y = y0 + i * ROW
            out.append(
                f'<rect x="{LEFT}" y="{y}" width="{width:.1f}" height="{ROW - 4}" fill="{colour}"/>'
            )
            out.append(
                f'<text x="{LEFT + width + 4:.1f}" y="{y + ROW - 8}" fill="{INK}">'
                f"{_figure(value)}</text>"
            )
    out.append(
        f'<line x1="{LEFT}" y1="{top_pad - 2}" x2="{LEFT}" y2="{height - 6}" stroke="{MUTED}"/>'
    )
    out.append("</svg>")
    return "\n".join(out)


def stacked_bar_chart(
    chart_id: str,
    title: str,
    desc: str,
    categories: Sequence[str],
    series: Sequence[Series],
) -> str:
    """Horizontal bars, one per category, split into the series' shares of it (each share
    of width enough carries its figure)."""
    band = ROW + 10
    height = 28 + band * max(1, len(categories)) + 8
    out = _open(chart_id, title, desc, height)
    out += _legend(series, 8)
    totals = [sum(s.values[c] for s in series) for c in range(len(categories))]
    top = _scale(max(totals, default=0))
    span = WIDTH - LEFT - 50
    palette = _colours(series)
    for c, category in enumerate(categories):
        y = 28 + c * band
        out.append(
            f'<text x="{LEFT - 8}" y="{y + ROW / 2 + 4:.0f}" text-anchor="end" '
            f'fill="{INK}">{_t(category)}</text>'
        )
        x = float(LEFT)
        for s, colour in zip(series, palette, strict=True):
            value = s.values[c]
            width = span * value / top
            if width > 0:
                out.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{ROW}" '
                    f'fill="{colour}"><title>{_t(s.name)}: {_figure(value)}</title></rect>'
                )
                if width >= 18:
                    out.append(
                        f'<text x="{x + width / 2:.1f}" y="{y + ROW - 7}" text-anchor="middle" '
                        f'fill="{_text_on(colour)}">{_figure(value)}</text>'
                    )
            x += width
        out.append(
            f'<text x="{x + 4:.1f}" y="{y + ROW - 7}" fill="{INK}">{_figure(totals[c])}</text>'
        )
    out.append("</svg>")
    return "\n".join(out)


def line_chart(
    chart_id: str,
    title: str,
    desc: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    y_label: str = "",
) -> str:
    """Lines over the x labels (months, say), one per series, with a dot and its figure at
    each point, and the axis from zero to the largest figure."""
    height = 260
    left, right, top_pad, bottom = 48, WIDTH - 32, 32, height - 32
    out = _open(chart_id, title, desc, height)
    out += _legend(series, 8)
    top = _axis_top(max((v for s in series for v in s.values), default=0))
    for step in range(5):
        value = top * step / 4
        y = bottom - (bottom - top_pad) * step / 4
        out.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="{GRID}" '
            f'stroke-width="0.5"/>'
        )
        out.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED}">'
            f"{_figure(round(value, 1))}</text>"
        )
    n = max(1, len(x_labels) - 1)
    xs = [left + (right - left) * i / n for i in range(len(x_labels))]
    for x, label in zip(xs, x_labels, strict=True):
        out.append(
            f'<text x="{x:.1f}" y="{bottom + 18}" text-anchor="middle" fill="{INK}">'
            f"{_t(label)}</text>"
        )
    if y_label:
        out.append(
            f'<text x="12" y="{(top_pad + bottom) / 2:.0f}" fill="{MUTED}" '
            f'transform="rotate(-90 12 {(top_pad + bottom) / 2:.0f})" '
            f'text-anchor="middle">{_t(y_label)}</text>'
        )
    for s, colour in zip(series, _colours(series), strict=True):
        points = [
            (xs[i], bottom - (bottom - top_pad) * v / top)
            for i, v in enumerate(s.values[: len(xs)])
        ]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            out.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"/>'
            )
        for (x, y), v in zip(points, s.values, strict=False):
            out.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}">'
                f"<title>{_t(s.name)}: {_figure(v)}</title></circle>"
            )
    out.append(f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="{MUTED}"/>')
    out.append("</svg>")
    return "\n".join(out)
