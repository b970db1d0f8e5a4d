"""The format x behaviour matrix (coverage_matrix.py) as an SVG heat map: one row per format, one
column per behaviour, reached cells green from light (few executions) to dark (the most of any
cell, on a log scale), unreached ones red, the others grey or white as the legend says. Each
cell has a tooltip (<title>) with the exact count. Plain SVG, no dependencies, deterministic."""
import math
from xml.sax.saxutils import escape

CELL_W, CELL_H, NAME_W, KEY_W, TOP, PAD = 70, 22, 130, 70, 56, 10
# Light to dark green for reached cells; text turns white on the darker half.
GREENS = ["#e5f5e0", "#c7e9c0", "#a1d99b", "#74c476", "#41ab5d", "#238b45", "#006d2c", "#00441b"]
FILL = {"zero": "#fcbba1", "absent": "#e0e0e0", "n/a": "#ffffff", "unknown": "#ffff99"}
LEGEND = [("zero", "0: compiled, not reached"), ("absent", "-: not compiled for the format"),
          ("n/a", "n/a: the format cannot"), ("unknown", "?: not measured")]


def _green(count, top):
    if top <= 1:
        return GREENS[-1]
    step = math.log10(count) / math.log10(top) if count > 1 else 0.0
    return GREENS[min(len(GREENS) - 1, int(step * (len(GREENS) - 1) + 0.5))]


def _text(x, y, s, size=11, anchor="start", fill="#000000", weight="normal"):
    return (f'<text x="{x}" y="{y}" font-size="{size}" text-anchor="{anchor}" fill="{fill}" '
            f'font-weight="{weight}">{escape(s)}</text>')


def render(m, cell_text):
    behaviours, formats = m["behaviours"], m["formats"]
    counts = [c["count"] for f in formats for c in m["cells"][f].values() if c["state"] == "reached"]
    top = max(counts, default=1)
    legend_w = sum(18 + 7 * len(label) + 12 for _, label in LEGEND)
    # Under the legend, what each column measures: the key, then its title (SVG collapses runs of
    # spaces, so the two are placed apart rather than padded).
    lines = [(b["key"], b["title"] + (f"  [{b['note']}]" if b["note"] else "")) for b in behaviours]
    width = max(NAME_W + CELL_W * len(behaviours), legend_w,
                KEY_W + 6 * max((len(t) for _, t in lines), default=0)) + 2 * PAD
    legend_y = TOP + CELL_H * (len(formats) + 1) + 24
    height = legend_y + 20 + 26 + 16 * len(behaviours) + PAD
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="monospace">',
           f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
           _text(PAD, 22, "ptsim: which behaviours the corpus replay reached, per format", 14, weight="bold")]
    for j, b in enumerate(behaviours):
        x = PAD + NAME_W + CELL_W * j + CELL_W // 2
        out.append(_text(x, TOP - 8, b["key"], anchor="middle", weight="bold"))
    for i, f in enumerate(formats):
        y = TOP + CELL_H * i
        out.append(_text(PAD, y + 15, f))
        for j, b in enumerate(behaviours):
            cell = m["cells"][f][b["key"]]
            x = PAD + NAME_W + CELL_W * j
            dark = False
            if cell["state"] == "reached":
                fill = _green(cell["count"], top)
                dark = GREENS.index(fill) >= len(GREENS) // 2
            else:
                fill = FILL[cell["state"]]
            tip = f"{f} / {b['key']}: " + (f"{cell['count']} executions" if cell["count"] is not None
                                            else cell["state"])
            out.append(f'<g><title>{escape(tip)}</title>'
                       f'<rect x="{x}" y="{y}" width="{CELL_W}" height="{CELL_H}" fill="{fill}" '
                       f'stroke="#888888" stroke-width="0.5"/>'
                       + _text(x + CELL_W // 2, y + 15, cell_text(cell), anchor="middle",
                               fill="#ffffff" if dark else "#000000") + '</g>')
    y = TOP + CELL_H * len(formats)
    out.append(_text(PAD, y + 15, "formats reached", weight="bold"))
    for j, b in enumerate(behaviours):
        x = PAD + NAME_W + CELL_W * j + CELL_W // 2
        out.append(_text(x, y + 15, f"{b['formats_reached']}/{len(formats)}", anchor="middle", weight="bold"))
    out.append(f'<rect x="{PAD}" y="{legend_y - 11}" width="14" height="14" fill="{GREENS[2]}" stroke="#888888"/>')
    out.append(_text(PAD + 18, legend_y, f"N: executions (darker = more, up to {top}, log scale)"))
    x, y = PAD, legend_y + 20
    for state, label in LEGEND:
        out.append(f'<rect x="{x}" y="{y - 11}" width="14" height="14" fill="{FILL[state]}" stroke="#888888"/>')
        out.append(_text(x + 18, y, label))
        x += 18 + 7 * len(label) + 12
    for j, (key, title) in enumerate(lines):
        out.append(_text(PAD, y + 26 + 16 * j, key, 10, weight="bold"))
        out.append(_text(PAD + KEY_W, y + 26 + 16 * j, title, 10))
    out.append("</svg>")
    return "\n".join(out) + "\n"
