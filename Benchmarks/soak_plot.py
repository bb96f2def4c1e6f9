"""The soak's plot: RSS and open descriptors of each server over time, as an SVG written by hand (no plotting
library), with the warm-up's end and the load's end marked.

Usage as a program: python Benchmarks/soak_plot.py samples.csv plot.svg
"""
import csv
import sys

WIDTH, PANEL_HEIGHT, LEFT, RIGHT, TOP, GAP = 900, 260, 70, 150, 30, 60
COLOURS = {"sio-echo": "#1f77b4", "spaces": "#d62728"}


def nice_ceiling(value):
    """A round number at or above value, for the top of an axis."""
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def escape(text):
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def panel(out, top, title, unit, series, t_max, markers):
    """One chart: series is {name: [(t, value)]}; markers is [(t, label)]."""
    height = PANEL_HEIGHT
    plot_width = WIDTH - LEFT - RIGHT
    y_max = nice_ceiling(max([v for points in series.values() for _, v in points] or [1]) * 1.1)

    def x(t):
        return LEFT + plot_width * t / t_max

    def y(v):
        return top + height - height * v / y_max

    out.append(f'<text x="{LEFT}" y="{top - 10}" font-size="15" font-weight="bold">{escape(title)}</text>')
    out.append(f'<rect x="{LEFT}" y="{top}" width="{plot_width}" height="{height}" fill="none" stroke="#999"/>')
    for i in range(6):
        value = y_max * i / 5
        out.append(f'<line x1="{LEFT}" x2="{LEFT + plot_width}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#eee"/>')
        label = f"{value:,.0f}" if y_max >= 10 else f"{value:.1f}"
        out.append(f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" font-size="11" text-anchor="end">{label}</text>')
    for i in range(7):
        t = t_max * i / 6
        out.append(f'<text x="{x(t):.1f}" y="{top + height + 16}" font-size="11" text-anchor="middle">{t / 60:.1f}</text>')
    out.append(f'<text x="{LEFT + plot_width / 2}" y="{top + height + 32}" font-size="11" text-anchor="middle">minutes</text>')
    out.append(f'<text x="16" y="{top + height / 2}" font-size="11" transform="rotate(-90 16 {top + height / 2})" '
               f'text-anchor="middle">{escape(unit)}</text>')
    for t, label in markers:
        out.append(f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{top}" y2="{top + height}" stroke="#888" stroke-dasharray="4 3"/>')
        out.append(f'<text x="{x(t) + 3:.1f}" y="{top + 12}" font-size="10" fill="#555">{escape(label)}</text>')
    for index, (name, points) in enumerate(sorted(series.items())):
        colour = COLOURS.get(name, "#2ca02c")
        if points:
            path = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in points)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.8"/>')
        legend_y = top + 20 + 18 * index
        out.append(f'<line x1="{WIDTH - RIGHT + 12}" x2="{WIDTH - RIGHT + 32}" y1="{legend_y}" y2="{legend_y}" '
                   f'stroke="{colour}" stroke-width="3"/>')
        out.append(f'<text x="{WIDTH - RIGHT + 38}" y="{legend_y + 4}" font-size="12">{escape(name)}</text>')


def render(rows, markers=()):
    """The SVG text for sample rows (dicts with t_s, server, rss_kb, fds)."""
    t_max = max([float(row["t_s"]) for row in rows] or [1]) or 1
    rss, fds = {}, {}
    for row in rows:
        t = float(row["t_s"])
        rss.setdefault(row["server"], []).append((t, int(row["rss_kb"]) / 1024))
        fds.setdefault(row["server"], []).append((t, int(row["fds"])))
    # Descriptors: one panel per server, since thousands on sio-echo would flatten spaces' few dozen.
    panels = [("Resident memory (RSS)", "MiB", rss)] + [
        (f"Open file descriptors: {name}", "descriptors", {name: points}) for name, points in sorted(fds.items())]
    height = TOP + len(panels) * (PANEL_HEIGHT + GAP + 20) + 20
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
           f'font-family="sans-serif" viewBox="0 0 {WIDTH} {height}">',
           f'<rect width="{WIDTH}" height="{height}" fill="white"/>']
    for index, (title, unit, series) in enumerate(panels):
        panel(out, TOP + index * (PANEL_HEIGHT + GAP + 20), title, unit, series, t_max, markers)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    with open(sys.argv[1]) as handle:
        rows = list(csv.DictReader(handle))
    with open(sys.argv[2], "w") as handle:
        handle.write(render(rows))


if __name__ == "__main__":
    main()
