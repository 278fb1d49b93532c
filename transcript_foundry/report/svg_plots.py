"""Small self-contained SVG charts for the report (no plotting library, no external fonts or scripts):
grouped bars and overlaid normalised histograms, each a complete ``<svg>`` document with a title."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 40, 72
COLOURS = ("#3b6ea8", "#e08a2c", "#4f9a5b", "#b0483f")


def _frame(title: str, y_max: float, y_label: str) -> list[str]:
    plot_h = HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}"'
        f' role="img" aria-label="{escape(title)}" font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{WIDTH / 2}" y="20" text-anchor="middle" font-size="14">{escape(title)}</text>',
        f'<text x="14" y="{TOP + plot_h / 2}" transform="rotate(-90 14 {TOP + plot_h / 2})"'
        f' text-anchor="middle">{escape(y_label)}</text>',
    ]
    for i in range(5):
        value = y_max * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{value:.3g}</text>')
    return parts


def _legend(parts: list[str], names: Sequence[str]) -> None:
    for i, name in enumerate(names):
        x = LEFT + 8 + i * 150
        parts.append(f'<rect x="{x}" y="28" width="10" height="10" fill="{COLOURS[i % len(COLOURS)]}"/>')
        parts.append(f'<text x="{x + 14}" y="37">{escape(name)}</text>')


def bar_chart(title: str, series: Mapping[str, Mapping[str, float]], y_label: str = "") -> str:
    """Grouped bars: ``series`` name -> {category: value}; categories in first-seen order."""
    categories: list[str] = []
    for values in series.values():
        categories += [c for c in values if c not in categories]
    y_max = max([v for values in series.values() for v in values.values()] + [1e-9]) * 1.1
    parts = _frame(title, y_max, y_label)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    group_w = plot_w / max(len(categories), 1)
    bar_w = group_w * 0.8 / max(len(series), 1)
    for s, (name, values) in enumerate(series.items()):
        for c, category in enumerate(categories):
            value = float(values.get(category, 0.0))
            h = plot_h * value / y_max
            x = LEFT + c * group_w + group_w * 0.1 + s * bar_w
            parts.append(
                f'<rect x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}"'
                f' fill="{COLOURS[s % len(COLOURS)]}"><title>{escape(name)} {escape(category)}: {value:g}'
                "</title></rect>"
            )
    for c, category in enumerate(categories):
        x = LEFT + (c + 0.5) * group_w
        y = TOP + plot_h + 12
        label = category if len(category) <= 18 else category[:17] + "…"
        parts.append(
            f'<text x="{x:.1f}" y="{y}" text-anchor="end" transform="rotate(-35 {x:.1f} {y})">{escape(label)}</text>'
        )
    if len(series) > 1:
        _legend(parts, list(series))
    return "\n".join([*parts, "</svg>"])


def histogram(title: str, samples: Mapping[str, Sequence[float]], bins: int = 20, x_label: str = "") -> str:
    """Overlaid histograms of each sample, normalised to shares so samples of any size compare."""
    values = [v for sample in samples.values() for v in sample]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    width = (high - low) / bins or 1.0
    shares: dict[str, list[float]] = {}
    for name, sample in samples.items():
        counts = [0] * bins
        for v in sample:
            counts[min(int((v - low) / width), bins - 1)] += 1
        shares[name] = [c / max(len(sample), 1) for c in counts]
    y_max = max([s for row in shares.values() for s in row] + [1e-9]) * 1.1
    parts = _frame(title, y_max, "share")
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    bin_w = plot_w / bins
    for s, (name, row) in enumerate(shares.items()):
        colour = COLOURS[s % len(COLOURS)]
        for b, share in enumerate(row):
            h = plot_h * share / y_max
            parts.append(
                f'<rect x="{LEFT + b * bin_w:.1f}" y="{TOP + plot_h - h:.1f}" width="{bin_w:.1f}" height="{h:.1f}"'
                f' fill="{colour}" fill-opacity="0.45" stroke="{colour}"><title>{escape(name)}'
                f" {low + b * width:.3g}–{low + (b + 1) * width:.3g}: {share:.1%}</title></rect>"
            )
    for b in range(0, bins + 1, max(bins // 5, 1)):
        x = LEFT + b * bin_w
        parts.append(
            f'<text x="{x:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle">{low + b * width:.3g}</text>'
        )
    parts.append(
        f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 24}" text-anchor="middle">{escape(x_label)}</text>'
    )
    _legend(parts, list(samples))
    return "\n".join([*parts, "</svg>"])
