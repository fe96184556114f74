"""Bar charts as server-rendered SVG: no script, no style attributes (the CSP forbids them).

Sizes are SVG presentation attributes; colours come from classes in app.css. Every label is
escaped, so a dossier title or supplier name is shown as text, never as markup.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

from markupsafe import Markup, escape

WIDTH = 640
NARROW_WIDTH = 360  # the phone's twin of a chart: at 390 px its text stays about 12 px high
LABEL_HEIGHT = 18  # a label sits on its own line above its bar, so it is never cut off
BAR_HEIGHT = 20
GAP = 8
VALUE_WIDTH = 130
MAX_BARS = 20
UNITS_PER_CHAR = WIDTH / 60  # a label of 60 characters fills the chart at 13px


def _short(label: str, chars: int) -> str:
    return label if len(label) <= chars else label[: chars - 1] + "…"


def bar_chart(
    title: str, bars: Sequence[tuple[str, float | int | Decimal, str]], css_class: str = ""
) -> Markup:
    """A horizontal bar chart of (label, value, value as text), twice: a wide one and a narrow
    twin that a phone shows instead (app.css), so that its text is not scaled down to a few
    pixels. Negative values count as 0; the full label is in each bar's tooltip."""
    return _bar_chart(title, bars, f"{css_class} chart-wide", WIDTH) + _bar_chart(
        title, bars, f"{css_class} chart-narrow", NARROW_WIDTH
    )


def _bar_chart(
    title: str,
    bars: Sequence[tuple[str, float | int | Decimal, str]],
    css_class: str,
    width: int,
) -> Markup:
    """One bar chart `width` units wide.

    Each label starts at the left edge on a line of its own: a label right-aligned against its
    bar ran off the left edge as soon as it was longer than the room before the bar.
    """
    bars = list(bars)[:MAX_BARS]
    row = LABEL_HEIGHT + BAR_HEIGHT + GAP
    height = max(1, len(bars)) * row + GAP
    largest = max((float(v) for _l, v, _t in bars), default=0.0)
    room = width - min(VALUE_WIDTH, width // 3)  # the value's text after the longest bar
    chars = int(width / UNITS_PER_CHAR)
    classes = escape(" ".join(f"chart {css_class}".split()))
    parts = [
        f'<svg class="{classes}" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for index, (label, value, text) in enumerate(bars):
        top = GAP + index * row
        bar_y = top + LABEL_HEIGHT
        size = 0 if largest <= 0 else max(0.0, float(value)) / largest * room
        middle = bar_y + BAR_HEIGHT * 0.75
        parts.append(
            f'<text class="chart-label" x="0" y="{top + 13}">{escape(_short(label, chars))}</text>'
            f'<rect class="chart-bar" x="0" y="{bar_y}" width="{size:.1f}" '
            f'height="{BAR_HEIGHT}"><title>{escape(label)}: {escape(text)}</title></rect>'
            f'<text class="chart-value" x="{size + 6:.1f}" '
            f'y="{middle:.1f}">{escape(text)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


TREND_HEIGHT = 220
TREND_TOP = 26  # room above the plot for the norm's legend
TREND_AXIS = 28  # room below the plot for the period labels
TREND_LEFT = 70  # room left of the plot for the scale's values
MAX_POINTS = 36
NARROW_POINTS = 12
_TREND_LABELS = 12  # at most this many period labels under the plot; every point has a tooltip


def trend_chart(
    title: str,
    points: Sequence[tuple[str, float, str, str]],
    norm: float,
    norm_text: str,
    scale_text: Callable[[float], str] = lambda v: f"{v:g}",
    *,
    width: int = WIDTH,
    max_points: int = MAX_POINTS,
    css: str = "",
) -> Markup:
    """A line of a value over periods, with the norm as a dashed line across it.

    `width` is in the chart's own units, whose text is 12 units high: a phone gets a narrow
    twin (NARROW_WIDTH, fewer points) so its labels are not scaled down to 7 pixels.

    `points` are (period label, value, value as text, css status class), oldest first; the
    latest MAX_POINTS are drawn. The scale spans the values and the norm (not from zero), so a
    drop from 99.7 to 97 shows; the status class colours each point (green, amber, red in
    app.css), so the chart reads the same as the table beside it.
    """
    points = list(points)[-max_points:]
    values = [norm, *(v for _p, v, _t, _c in points)]
    pad = (max(values) - min(values)) * 0.1 or abs(norm) * 0.05 or 1.0
    low, high = min(values) - pad, max(values) + pad
    plot = TREND_HEIGHT - TREND_TOP - TREND_AXIS
    room = width - TREND_LEFT - 16

    def y(value: float) -> float:
        return TREND_TOP + (high - value) / (high - low) * plot

    def x(index: int) -> float:
        return TREND_LEFT + (index + 0.5) * room / max(1, len(points))

    every = max(1, -(-len(points) // max(2, _TREND_LABELS * width // WIDTH)))
    parts = [
        f'<svg class="chart trend {css}" role="img" viewBox="0 0 {width} {TREND_HEIGHT}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line class="chart-axis" x1="{TREND_LEFT}" x2="{TREND_LEFT}" y1="{TREND_TOP}" '
        f'y2="{TREND_TOP + plot}"></line>',
    ]
    for value in (high, low):
        parts.append(
            f'<text class="chart-label" x="{TREND_LEFT - 6}" y="{y(value) + 4:.1f}" '
            f'text-anchor="end">{escape(scale_text(value))}</text>'
        )
    parts.append(
        f'<line class="chart-norm" x1="{TREND_LEFT}" x2="{width - 8}" y1="{y(norm):.1f}" '
        f'y2="{y(norm):.1f}"><title>{escape(norm_text)}</title></line>'
        # The legend sits in the top margin, where no point can cover it.
        f'<line class="chart-norm" x1="{width - 170}" x2="{width - 140}" y1="9" y2="9"></line>'
        f'<text class="chart-value" x="{width - 134}" y="13">{escape(norm_text)}</text>'
    )
    line = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, (_p, v, _t, _c) in enumerate(points))
    parts.append(f'<polyline class="chart-line" points="{line}"></polyline>')
    for index, (period, value, text, status) in enumerate(points):
        parts.append(
            f'<circle class="chart-point chart-{escape(status)}" cx="{x(index):.1f}" '
            f'cy="{y(value):.1f}" r="5"><title>{escape(period)}: {escape(text)}</title></circle>'
        )
        if index % every == 0 or index == len(points) - 1:
            parts.append(
                f'<text class="chart-label" x="{x(index):.1f}" y="{TREND_HEIGHT - 8}" '
                f'text-anchor="middle">{escape(period)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
