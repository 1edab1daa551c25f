"""Draw docs/load-latency.svg from bench/results.json: latency against candidates.

    python -m bench.chart [results.json] [out.svg]

One line per figure of :mod:`bench.load` (the save's p50, p95 and p99, the start's
p95, the question page's p95) over the concurrency levels found in the results, on
a logarithmic latency axis, with the 150 ms target of the save's p95 dashed. Plain
SVG, no plotting library.
"""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
OUT = ROOT / "docs" / "load-latency.svg"
SERIES = (
    ("save.p50", "save p50", "#1b9e77"),
    ("save.p95", "save p95", "#d95f02"),
    ("save.p99", "save p99", "#7570b3"),
    ("start.p95", "start p95", "#e7298a"),
    ("question_page.p95", "question page p95", "#66a61e"),
)
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 730, 420, 80, 170, 40, 50
LEVEL = re.compile(r"^load\.c(\d+)\.(.+)$")


def series(rows: list[dict]) -> dict[str, list[tuple[int, float]]]:
    points: dict[str, list[tuple[int, float]]] = {}
    for row in rows:
        match = LEVEL.match(row.get("name", ""))
        if match and row.get("value"):
            points.setdefault(match.group(2), []).append(
                (int(match.group(1)), float(row["value"]))
            )
    return {key: sorted(values) for key, values in points.items()}


def draw(rows: list[dict]) -> str:
    data = series(rows)
    levels = sorted({c for key, _, _ in SERIES for c, _ in data.get(key, [])})
    if not levels:
        raise SystemExit("no load.c<N>.* figures in the results")
    values = [v for key, _, _ in SERIES for _, v in data.get(key, [])]
    low = 10 ** math.floor(math.log10(max(1.0, min(values))))
    high = 10 ** math.ceil(math.log10(max([*values, 150.0])))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(candidates: int) -> float:
        return LEFT + plot_w * candidates / max(levels)

    def y(ms: float) -> float:
        share = (math.log10(ms) - math.log10(low)) / (
            math.log10(high) - math.log10(low)
        )
        return TOP + plot_h * (1 - share)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
        f'height="{HEIGHT}" font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{LEFT}" y="22" font-size="14">Latency against concurrent '
        "candidates (make bench-load, 2 cores)</text>",
    ]
    decade = low
    while decade <= high:
        for step in (1, 2, 5):
            ms = decade * step
            if low <= ms <= high:
                out.append(
                    f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(ms):.1f}" '
                    f'y2="{y(ms):.1f}" stroke="#ddd"/>'
                    f'<text x="{LEFT - 6}" y="{y(ms) + 4:.1f}" text-anchor="end">'
                    f"{ms:g} ms</text>"
                )
        decade *= 10
    for level in levels:
        out.append(
            f'<line x1="{x(level):.1f}" x2="{x(level):.1f}" y1="{TOP}" '
            f'y2="{TOP + plot_h}" stroke="#eee"/>'
            f'<text x="{x(level):.1f}" y="{TOP + plot_h + 16}" '
            f'text-anchor="middle">{level}</text>'
        )
    out.append(
        f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 12}" text-anchor="middle">'
        "concurrent candidates</text>"
        f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(150):.1f}" y2="{y(150):.1f}" '
        'stroke="#d95f02" stroke-dasharray="5,4"/>'
        f'<text x="{LEFT + plot_w - 4}" y="{y(150) - 5:.1f}" text-anchor="end" '
        'fill="#d95f02">target: save p95 150 ms</text>'
    )
    for index, (key, label, colour) in enumerate(SERIES):
        points = data.get(key, [])
        if not points:
            continue
        path = " ".join(f"{x(c):.1f},{y(v):.1f}" for c, v in points)
        out.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" '
            'stroke-width="2"/>'
        )
        out += [
            f'<circle cx="{x(c):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}"/>'
            for c, v in points
        ]
        legend_y = TOP + 10 + 20 * index
        out.append(
            f'<line x1="{WIDTH - RIGHT + 15}" x2="{WIDTH - RIGHT + 35}" '
            f'y1="{legend_y}" y2="{legend_y}" stroke="{colour}" stroke-width="2"/>'
            f'<text x="{WIDTH - RIGHT + 40}" y="{legend_y + 4}">{label}</text>'
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    source = Path(argv[0]) if argv else RESULTS
    target = Path(argv[1]) if len(argv) > 1 else OUT
    target.write_text(draw(json.loads(source.read_text(encoding="utf-8"))))
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
