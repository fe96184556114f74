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
