#!/usr/bin/env python3
"""Chart of cross-node percentile error, merged sketches vs averaged per-node percentiles
(issue 20). Plain SVG written by hand (no plotting library needed). Run from the repository
root after the e2e test that measures it:

    cargo test --release --workspace --test e2e twenty_nodes_merge_into_true_percentiles
    python3 bench/edge_error_chart.py [target/tmp/edge-percentile-error.json] [docs/edge-percentile-error.svg]

The JSON holds, per quantile, the largest relative error over the test's windows of the
relay's merged-sketch percentile and of the average of the per-node percentiles, both
against the exact nearest-rank percentile of the union of all raw samples."""

import json
import math
import sys

src = sys.argv[1] if len(sys.argv) > 1 else "target/tmp/edge-percentile-error.json"
dst = sys.argv[2] if len(sys.argv) > 2 else "docs/edge-percentile-error.svg"
data = json.load(open(src))

qs = data["quantiles"]
merged = [e * 100 for e in data["merged_sketch_max_relative_error"]]
averaged = [e * 100 for e in data["averaged_percentiles_max_relative_error"]]
bound = data["accuracy"] * 100

W, H = 640, 400
left, right, top, bottom = 70, 20, 60, 60
plot_w, plot_h = W - left - right, H - top - bottom
# Log scale from 0.001 % to 100 %: the two methods differ by orders of magnitude.
lo, hi = -3, 2


def y(pct):
    v = min(max(math.log10(max(pct, 10 ** lo)), lo), hi)
    return top + plot_h * (hi - v) / (hi - lo)


out = [
    f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
    'font-family="sans-serif" font-size="12">',
    f'<rect width="{W}" height="{H}" fill="white"/>',
    f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="15">Cross-node percentile error: '
    "merged sketches vs averaged percentiles</text>",
    f'<text x="{W / 2}" y="40" text-anchor="middle" fill="#555">{data["nodes"]} nodes with different '
    f'log-normal latencies, {data["points_per_node_per_window"]} points per node per window, '
    f'worst of {data["windows"]} windows (log scale)</text>',
]
for e in range(lo, hi + 1):
    yy = y(10 ** e)
    out.append(f'<line x1="{left}" x2="{W - right}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#ddd"/>')
    out.append(f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end">{10 ** e:g}%</text>')
yb = y(bound)
out.append(f'<line x1="{left}" x2="{W - right}" y1="{yb:.1f}" y2="{yb:.1f}" stroke="#c00" '
           'stroke-dasharray="6,4"/>')
out.append(f'<text x="{W - right - 4}" y="{yb - 5:.1f}" text-anchor="end" fill="#c00">'
           f'sketch relative accuracy {bound:g}%</text>')
out.append(f'<text x="18" y="{top + plot_h / 2}" transform="rotate(-90 18 {top + plot_h / 2})" '
           'text-anchor="middle">relative error vs exact percentile of the union</text>')

group = plot_w / len(qs)
bar = group / 4
colours = (("#2b7bba", "merged DDSketch (Sluice edge + [merge])"),
           ("#e08a2c", "average of per-node percentiles"))
for i, q in enumerate(qs):
    x0 = left + group * i + group / 2 - bar
    for j, (values, (colour, _)) in enumerate(zip((merged, averaged), colours)):
        v = values[i]
        x = x0 + j * bar
        out.append(f'<rect x="{x:.1f}" y="{y(v):.1f}" width="{bar - 4:.1f}" '
                   f'height="{top + plot_h - y(v):.1f}" fill="{colour}"/>')
        out.append(f'<text x="{x + (bar - 4) / 2:.1f}" y="{y(v) - 4:.1f}" text-anchor="middle">'
                   f'{v:.2g}%</text>')
    out.append(f'<text x="{left + group * i + group / 2:.1f}" y="{top + plot_h + 18}" '
               f'text-anchor="middle">p{q * 100:g}</text>')
for j, (colour, label) in enumerate(colours):
    lx = left + 10 + j * 280
    out.append(f'<rect x="{lx}" y="{H - 22}" width="12" height="12" fill="{colour}"/>')
    out.append(f'<text x="{lx + 18}" y="{H - 12}">{label}</text>')
out.append("</svg>")
open(dst, "w").write("\n".join(out) + "\n")
print(f"wrote {dst}")
