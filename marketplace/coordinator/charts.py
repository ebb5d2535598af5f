"""Server-drawn SVG bar charts: no JavaScript, nothing fetched from elsewhere. Each chart has a
<title> and <desc> for screen readers; the pages print the same figures as a table."""
from __future__ import annotations

from typing import TYPE_CHECKING
from markupsafe import Markup, escape

if TYPE_CHECKING:
    from collections.abc import Sequence

ROW = 22
LABEL_WIDTH = 200
CHART_WIDTH = 360
COLOURS = ("#1d6f42", "#b35c00", "#3b5ba5")


def bar_chart(chart_id: str, title: str, desc: str, rows: Sequence[tuple[str, Sequence[int]]],
              series: Sequence[str]) -> Markup:
    """Horizontal bars, one group per row. ``rows``: [(label, [value per series])];
    ``series``: the names of the values (the legend)."""
    peak = max((v for _, values in rows for v in values), default=0) or 1
    height = len(rows) * ROW + 30
    width = LABEL_WIDTH + CHART_WIDTH + 60
    bar_height = 14 if len(series) <= 1 else max(6, 18 // len(series))
    parts = [
        f'<svg id="{escape(chart_id)}" class="chart" role="img" aria-labelledby="{escape(chart_id)}-title '
        f'{escape(chart_id)}-desc" viewBox="0 0 {width} {height}" width="100%" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="12">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(desc)}</desc>',
    ]
    for n, name in enumerate(series):
        x = LABEL_WIDTH + n * 150
        parts.append(f'<rect x="{x}" y="4" width="10" height="10" fill="{COLOURS[n % len(COLOURS)]}"/>'
                     f'<text x="{x + 14}" y="13">{escape(name)}</text>')
    for i, (label, values) in enumerate(rows):
        top = 24 + i * ROW
        short = label if len(label) <= 30 else label[:29] + "…"
        parts.append(f'<text x="{LABEL_WIDTH - 6}" y="{top + ROW // 2 + 2}" text-anchor="end">'
                     f'{escape(short)}</text>')
        for n, value in enumerate(values):
            y = top + 2 + n * bar_height
            length = round(CHART_WIDTH * value / peak, 1)
            parts.append(f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length}" height="{bar_height - 1}" '
                         f'fill="{COLOURS[n % len(COLOURS)]}"><title>{escape(label)}: {escape(series[n])} '
                         f'{value}</title></rect>'
                         f'<text x="{LABEL_WIDTH + length + 4}" y="{y + bar_height - 3}">{value}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
