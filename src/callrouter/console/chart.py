"""The history chart as SVG, drawn by the server: no chart library, nothing from the internet.

Bars: calls answered (up) and abandoned (stacked above them, hatched so that colour is not
the only difference); a line: the most callers waiting in each bucket. The page also lists
the same figures in a table for screen readers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from zoneinfo import ZoneInfo

from callrouter.console.figures import Bucket

WIDTH, HEIGHT = 720, 200
_LEFT, _BOTTOM, _TOP = 36, 22, 8


def history_svgs(
    buckets: Sequence[Bucket], timezone: ZoneInfo, titles: Mapping[str, str]
) -> dict[str, str]:
    """The chart for `buckets` (oldest first) per language, titled for screen readers in
    each: drawn once, only the title differs (it is redrawn at every push under traffic)."""
    body = _drawing(buckets, timezone)
    return {
        language: (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
            'role="img" class="history-chart" aria-labelledby="history-title">'
            f'<title id="history-title">{escape(title)}</title>{body}'
        )
        for language, title in titles.items()
    }


def _drawing(buckets: Sequence[Bucket], timezone: ZoneInfo) -> str:
    count = max(1, len(buckets))
    plot_w, plot_h = WIDTH - _LEFT - 8, HEIGHT - _BOTTOM - _TOP
    top = max([1, *(b.answered + b.abandoned for b in buckets), *(b.peak_waiting for b in buckets)])
    step = plot_w / count
    bar = max(1.0, step * 0.7)

    def y(value: int) -> float:
        return _TOP + plot_h - plot_h * value / top

    parts = [
        '<defs><pattern id="hatch" width="4" height="4" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="4" height="4" class="abandoned-bg"/>'
        '<line x1="0" y1="0" x2="0" y2="4" class="abandoned-hatch"/></pattern></defs>',
        f'<line x1="{_LEFT}" y1="{_TOP + plot_h}" x2="{WIDTH - 8}" y2="{_TOP + plot_h}" '
        'class="axis"/>',
        f'<text x="{_LEFT - 4}" y="{_TOP + 8}" class="tick" text-anchor="end">{top}</text>',
        f'<text x="{_LEFT - 4}" y="{_TOP + plot_h}" class="tick" text-anchor="end">0</text>',
    ]
    points: list[str] = []
    for index, bucket in enumerate(buckets):
        x = _LEFT + index * step + (step - bar) / 2
        answered_top = y(bucket.answered)
        abandoned_top = y(bucket.answered + bucket.abandoned)
        if bucket.answered:
            parts.append(
                f'<rect x="{x:.1f}" y="{answered_top:.1f}" width="{bar:.1f}" '
                f'height="{_TOP + plot_h - answered_top:.1f}" class="answered"/>'
            )
        if bucket.abandoned:
            parts.append(
                f'<rect x="{x:.1f}" y="{abandoned_top:.1f}" width="{bar:.1f}" '
                f'height="{answered_top - abandoned_top:.1f}" class="abandoned" '
                'fill="url(#hatch)"/>'
            )
        points.append(f"{_LEFT + index * step + step / 2:.1f},{y(bucket.peak_waiting):.1f}")
        if index % 4 == 0:
            local = bucket.start.astimezone(timezone)
            parts.append(f'<text x="{x:.1f}" y="{HEIGHT - 6}" class="tick">{local:%H:%M}</text>')
    if points:
        parts.append(f'<polyline points="{" ".join(points)}" class="waiting"/>')
    parts.append("</svg>")
    return "".join(parts)
