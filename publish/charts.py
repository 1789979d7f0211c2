"""Charts for digests and statistics: SVG written as text (pure, deterministic).

The same bars always give the same bytes: no plotting library, no clock, no random
ids. A chart is inlined in a standalone HTML file or, on the public site, written as
a file of its own (``svg_file``) and shown through ``<img>``; either way it carries
no ``style`` attribute and no ``<style>`` element, only presentation attributes.

Labels stay text (``<text>``), so they can be read, searched and translated, and the
chart has a ``<title>`` and a ``<desc>`` that states every number. Series differ by
grey level and hatching, never by colour alone, so a printout in black and white reads
the same. Each chart's ids are prefixed with its own name: several charts inlined in
one page never share an id. A bar can link (``href``) to the list of comments it counts.

Sized for a phone: the ``viewBox`` is 400 units wide and text is 13 units, so a chart
shown 360 px wide keeps its labels at about 12 px; a horizontal bar's label sits on a
line of its own above the bar, so long commitment titles never squeeze the bars. Only
the generic ``sans-serif`` family is named: nothing is fetched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

# (fill grey, hatch) per series: distinguishable in greyscale and without colour.
STYLES = (("#ffffff", "///"), ("#bdbdbd", ""), ("#ffffff", "..."), ("#636363", ""),
          ("#ffffff", "xx"), ("#d9d9d9", "\\\\\\"), ("#969696", ".."))
WIDTH = 400
FONT = 13
SMALL = 11
CHAR = 0.58  # average advance of a sans-serif character, in ems (for layout only)
INK = "#000000"
MUTED = "#444444"


@dataclass(frozen=True)
class Bar:
    label: str
    values: tuple[int, ...]  # one per series (stacked)
    href: str | None = None  # where the bar's comments are listed


def _n(value: float) -> str:
    """A coordinate: at most one decimal, no trailing zero (stable text)."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _t(text: str) -> str:
    return escape(text, quote=True)


def _width(text: str, size: int = FONT) -> float:
    return len(text) * size * CHAR


def _patterns(name: str, count: int) -> list[str]:
    """One ``<pattern>`` per hatched series: lines or dots on the series' grey."""
    defs = []
    for index in range(count):
        fill, hatch = STYLES[index % len(STYLES)]
        if not hatch:
            continue
        marks = [f'<rect width="6" height="6" fill="{fill}"/>']
        if "/" in hatch or "x" in hatch:
            marks.append(f'<path d="M-1,7 L7,-1 M-1,1 L1,-1 M5,7 L7,5" stroke="{INK}" '
                         'stroke-width="0.6"/>')
        if "\\" in hatch or "x" in hatch:
            marks.append(f'<path d="M-1,-1 L7,7 M5,-1 L7,1 M-1,5 L1,7" stroke="{INK}" '
                         'stroke-width="0.6"/>')
        if "." in hatch:
            marks.append(f'<circle cx="1.5" cy="1.5" r="0.8" fill="{INK}"/>'
                         f'<circle cx="4.5" cy="4.5" r="0.8" fill="{INK}"/>')
        defs.append(f'<pattern id="{name}-s{index}" width="6" height="6" '
                    f'patternUnits="userSpaceOnUse">{"".join(marks)}</pattern>')
    return defs


def _paint(name: str, index: int) -> str:
    fill, hatch = STYLES[index % len(STYLES)]
    return f"url(#{name}-s{index})" if hatch else fill


def _rect(name: str, index: int, x: float, y: float, width: float, height: float) -> str:
    return (f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(width)}" height="{_n(height)}" '
            f'fill="{_paint(name, index)}" stroke="{INK}" stroke-width="0.6"/>')


def _linked(href: str | None, shapes: list[str]) -> str:
    if not shapes:
        return ""
    if href is None:
        return "".join(shapes)
    return f'<a xlink:href="{_t(href)}">{"".join(shapes)}</a>'


def _text(x: float, y: float, text: str, anchor: str = "start", size: int = FONT,
          extra: str = "") -> str:
    return (f'<text x="{_n(x)}" y="{_n(y)}" font-size="{size}" text-anchor="{anchor}"'
            f'{extra}>{_t(text)}</text>')


def _legend(name: str, series: Sequence[str], top: float) -> tuple[list[str], float]:
    """Swatch and name of each series, wrapped into lines; the height it takes."""
    if len(series) < 2:
        return [], 0.0
    items: list[str] = []
    x, y = 0.0, top
    for index, serie in enumerate(series):
        width = 18 + _width(serie, SMALL) + 12
        if x and x + width > WIDTH:
            x, y = 0.0, y + 18
        items.append(_rect(name, index, x, y + 2, 12, 12))
        items.append(_text(x + 17, y + 12, serie, size=SMALL))
        x += width
    return items, y - top + 24


def _document(name: str, title: str, desc: str, height: float, defs: list[str],
              body: list[str]) -> str:
    heading = _t(title)
    parts = [
        f'<svg role="img" aria-label="{heading}" class="chart" '
        f'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'viewBox="0 0 {WIDTH} {_n(height)}" width="{WIDTH}" height="{_n(height)}" '
        f'font-family="sans-serif" fill="{INK}">',
        f"<title>{heading}</title>",
        f'<desc id="{name}-desc">{_t(desc)}</desc>',
    ]
    if defs:
        parts.append(f"<defs>{''.join(defs)}</defs>")
    parts.extend(body)
    parts.append("</svg>")
    return "\n".join(parts)


def _description(bars: Sequence[Bar], series: Sequence[str], totals: Sequence[str],
                 unit: str) -> str:
    """Every number of the chart in words, for a reader who cannot see it."""
    lines = []
    for bar, total in zip(bars, totals, strict=True):
        label = " ".join(bar.label.split())
        if len(series) > 1:
            parts = ", ".join(f"{serie} {value}" for serie, value in
                              zip(series, bar.values, strict=True))
            lines.append(f"{label}: {total} ({parts})")
        else:
            lines.append(f"{label}: {total}")
    return f"{unit}. " + "; ".join(lines) + "." if lines else f"{unit}: none."


def svg_file(svg: str) -> str:
    """A chart as an ``.svg`` file: the XML declaration an SVG document starts with."""
    return f'<?xml version="1.0" encoding="utf-8" standalone="no"?>\n{svg}\n'


def stacked_columns(name: str, title: str, bars: Sequence[Bar], series: Sequence[str],
                    ylabel: str) -> str:
    """Vertical stacked bars (weeks), the total above each bar, a legend for the series.

    A bar's label may have two lines (``"W37\\n07.09"``)."""
    legend, legend_height = _legend(name, series, 0)
    crowded = len(bars) > 14
    top = legend_height + 18  # room for the tallest bar's total
    plot = 150.0
    left = 22.0  # the axis title, turned
    slot = (WIDTH - left) / max(len(bars), 1)
    bar_width = slot * 0.7
    totals = [sum(bar.values) for bar in bars]
    scale = plot / max([*totals, 1])
    baseline = top + plot
    lines = max((len(bar.label.split("\n")) for bar in bars), default=1)
    longest = max((_width(line, SMALL) for bar in bars for line in bar.label.split("\n")),
                  default=0.0)
    label_height = longest + 8 if crowded else lines * 13 + 6
    body = list(legend)
    body.append(_text(12, top + plot / 2, ylabel, anchor="middle", size=SMALL,
                      extra=f' transform="rotate(-90 12 {_n(top + plot / 2)})"'))
    for position, (bar, total) in enumerate(zip(bars, totals, strict=True)):
        x = left + position * slot + (slot - bar_width) / 2
        centre = x + bar_width / 2
        y = baseline
        shapes = []
        for index, value in enumerate(bar.values):
            if value <= 0:
                continue
            height = value * scale
            y -= height
            shapes.append(_rect(name, index, x, y, bar_width, height))
        body.append(_linked(bar.href, shapes))
        body.append(_text(centre, baseline - total * scale - 4, str(total), anchor="middle",
                          size=SMALL))
        if crowded:
            # Turned labels read bottom to top, each line of the label on its own.
            for offset, line in enumerate(bar.label.split("\n")):
                lx, ly = centre + (offset - 0.3) * 12, baseline + 6
                body.append(_text(lx, ly, line, anchor="end", size=SMALL,
                                  extra=f' transform="rotate(-90 {_n(lx)} {_n(ly)})"'))
        else:
            for offset, line in enumerate(bar.label.split("\n")):
                body.append(_text(centre, baseline + 15 + offset * 13, line, anchor="middle",
                                  size=SMALL))
    body.append(f'<path d="M{_n(left)},{_n(baseline)} H{WIDTH}" stroke="{INK}" '
                'stroke-width="0.8"/>')
    height = baseline + label_height
    description = _description(bars, series, [str(total) for total in totals], ylabel)
    return _document(name, title, description, height, _patterns(name, len(series)), body)


def horizontal_bars(name: str, title: str, bars: Sequence[Bar], series: Sequence[str],
                    xlabel: str, total_labels: Sequence[str] | None = None) -> str:
    """Horizontal (stacked) bars, one row per item: its label above, a number at its end."""
    legend, legend_height = _legend(name, series, 0)
    totals = [sum(bar.values) for bar in bars]
    labels = list(total_labels) if total_labels is not None else [str(t) for t in totals]
    room = max((_width(text, SMALL) for text in labels), default=0.0) + 8
    scale = (WIDTH - room) / max([*totals, 1])
    row = 36.0
    body = list(legend)
    y = legend_height
    for bar, text in zip(bars, labels, strict=True):
        body.append(_text(0, y + 13, " ".join(bar.label.split())))
        x = 0.0
        shapes = []
        for index, value in enumerate(bar.values):
            if value <= 0:
                continue
            shapes.append(_rect(name, index, x, y + 18, value * scale, 13))
            x += value * scale
        body.append(_linked(bar.href, shapes))
        body.append(_text(x + 4, y + 29, text, size=SMALL))
        y += row
    body.append(f'<path d="M0,{_n(legend_height + 16)} V{_n(y + 2)}" stroke="{INK}" '
                'stroke-width="0.8"/>')
    body.append(_text(WIDTH / 2, y + 18, xlabel, anchor="middle", size=SMALL,
                      extra=f' fill="{MUTED}"'))
    description = _description(bars, series, labels, xlabel)
    return _document(name, title, description, y + 26, _patterns(name, len(series)), body)
