"""Bar charts as server-rendered SVG: no script, no style attributes (the CSP forbids them).

Sizes are SVG presentation attributes; colours come from classes in app.css. Every label is
escaped, so a dossier title or supplier name is shown as text, never as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from markupsafe import Markup, escape

WIDTH = 640
LABEL_HEIGHT = 18  # a label sits on its own line above its bar, so it is never cut off
BAR_HEIGHT = 20
GAP = 8
VALUE_WIDTH = 130
MAX_BARS = 20
_LABEL_CHARS = 60  # about the width of the chart at 13px; the full label is in the tooltip


def _short(label: str) -> str:
    return label if len(label) <= _LABEL_CHARS else label[: _LABEL_CHARS - 1] + "…"


def bar_chart(
    title: str, bars: Sequence[tuple[str, float | int | Decimal, str]], css_class: str = ""
) -> Markup:
    """A horizontal bar chart of (label, value, value as text); negative values count as 0.

    Each label starts at the left edge on a line of its own: a label right-aligned against its
    bar ran off the left edge as soon as it was longer than the room before the bar.
    """
    bars = list(bars)[:MAX_BARS]
    row = LABEL_HEIGHT + BAR_HEIGHT + GAP
    height = max(1, len(bars)) * row + GAP
    largest = max((float(v) for _l, v, _t in bars), default=0.0)
    room = WIDTH - VALUE_WIDTH
    classes = escape(f"chart {css_class}".strip())
    parts = [
        f'<svg class="{classes}" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for index, (label, value, text) in enumerate(bars):
        top = GAP + index * row
        bar_y = top + LABEL_HEIGHT
        width = 0 if largest <= 0 else max(0.0, float(value)) / largest * room
        middle = bar_y + BAR_HEIGHT * 0.75
        parts.append(
            f'<text class="chart-label" x="0" y="{top + 13}">{escape(_short(label))}</text>'
            f'<rect class="chart-bar" x="0" y="{bar_y}" width="{width:.1f}" '
            f'height="{BAR_HEIGHT}"><title>{escape(label)}: {escape(text)}</title></rect>'
            f'<text class="chart-value" x="{width + 6:.1f}" '
            f'y="{middle:.1f}">{escape(text)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


TREND_HEIGHT = 220
TREND_TOP = 16  # room above the highest column for the norm's label
TREND_AXIS = 28  # room below the columns for the period labels
MAX_COLUMNS = 36
_TREND_LABELS = 12  # at most this many period labels under the columns; every column has a tooltip


def trend_chart(
    title: str,
    columns: Sequence[tuple[str, float, str, str]],
    norm: float,
    norm_text: str,
) -> Markup:
    """A column chart of a value over periods with the norm as a line across it.

    `columns` are (period label, value, value as text, css status class), oldest first; the
    latest MAX_COLUMNS are drawn. The status class colours a column (green, amber, red in
    app.css), so the chart reads the same as the table beside it.
    """
    columns = list(columns)[-MAX_COLUMNS:]
    low = min([0.0, norm, *(v for _p, v, _t, _c in columns)])
    high = max([norm, *(v for _p, v, _t, _c in columns)])
    span = (high - low) or 1.0
    plot = TREND_HEIGHT - TREND_TOP - TREND_AXIS

    def y(value: float) -> float:
        return TREND_TOP + (high - value) / span * plot

    step = WIDTH / max(1, len(columns))
    every = max(1, -(-len(columns) // _TREND_LABELS))
    parts = [
        f'<svg class="chart trend" role="img" viewBox="0 0 {WIDTH} {TREND_HEIGHT}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    base = y(0.0)
    for index, (period, value, text, status) in enumerate(columns):
        top, bottom = sorted((y(value), base))
        x = index * step + step * 0.15
        parts.append(
            f'<rect class="chart-column chart-{escape(status)}" x="{x:.1f}" y="{top:.1f}" '
            f'width="{step * 0.7:.1f}" height="{max(bottom - top, 1.0):.1f}">'
            f"<title>{escape(period)}: {escape(text)}</title></rect>"
        )
        if index % every == 0 or index == len(columns) - 1:
            parts.append(
                f'<text class="chart-label" x="{x:.1f}" '
                f'y="{TREND_HEIGHT - 8}">{escape(period)}</text>'
            )
    parts.append(
        f'<line class="chart-norm" x1="0" x2="{WIDTH}" y1="{y(norm):.1f}" y2="{y(norm):.1f}">'
        f"<title>{escape(norm_text)}</title></line>"
        f'<text class="chart-value" x="{WIDTH - 4}" y="{y(norm) - 4:.1f}" '
        f'text-anchor="end">{escape(norm_text)}</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))
