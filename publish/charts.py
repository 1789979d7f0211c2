"""Charts for digests and statistics: SVG text made with matplotlib (pure), inlined in a
standalone HTML file or, on the public site, written as a file of its own (``svg_file``)
and shown through ``<img>``: matplotlib's SVG carries ``style`` attributes and a
``<style>`` element, which the site's Content-Security-Policy forbids inline.

Labels stay text (``svg.fonttype = 'none'``), so they can be read, searched and
translated; series differ by grey level and hatching, never by colour alone, so
a printout in black and white reads the same. Each chart's ids are prefixed with
its own name: several charts inlined in one page never share an id. A bar can
link (``href``) to the list of comments it counts. No pyplot: no global state.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from html import escape
from typing import Any

import matplotlib
from matplotlib.figure import Figure

# (fill grey, hatch) per series: distinguishable in greyscale and without colour.
STYLES = (("#ffffff", "///"), ("#bdbdbd", ""), ("#ffffff", "..."), ("#636363", ""),
          ("#ffffff", "xx"), ("#d9d9d9", "\\\\\\"), ("#969696", ".."))
RC: dict[Any, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "ogp-feedback",
    "font.family": "sans-serif",
    "font.size": 9,
    "hatch.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_ID = re.compile(r'\bid="([^"]+)"')


def _style() -> AbstractContextManager[None]:
    return matplotlib.rc_context(RC)


@dataclass(frozen=True)
class Bar:
    label: str
    values: tuple[int, ...]  # one per series (stacked)
    href: str | None = None  # where the bar's comments are listed


def _svg(figure: Figure, name: str, title: str) -> str:
    buffer = io.StringIO()
    with _style():
        figure.savefig(buffer, format="svg", bbox_inches="tight",
                       metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]  # no XML declaration or DOCTYPE inside HTML
    ids = set(_ID.findall(svg))

    def prefixed(match: re.Match[str]) -> str:
        head, value = match.group(1), match.group(2)
        return f"{head}{name}-{value}" if value in ids else match.group(0)

    svg = re.sub(r'(\bid="|href="#|url\(#)([^")]+)', prefixed, svg)
    svg = svg.replace(' target="_blank"', "")
    heading = escape(title)
    return svg.replace(
        "<svg ", f'<svg role="img" aria-label="{heading}" class="chart" ', 1,
    ).replace(">", f"><title>{heading}</title>", 1)


def svg_file(svg: str) -> str:
    """A chart as an ``.svg`` file: the XML declaration an SVG document starts with."""
    return f'<?xml version="1.0" encoding="utf-8" standalone="no"?>\n{svg}\n'


def _figure(height: float) -> Figure:
    with _style():
        return Figure(figsize=(7.2, height), layout="constrained")


def stacked_columns(name: str, title: str, bars: Sequence[Bar], series: Sequence[str],
                    ylabel: str) -> str:
    """Vertical stacked bars (weeks), the total above each bar, a legend for the series."""
    with _style():
        figure = _figure(3.0)
        axes = figure.add_subplot()
        positions = list(range(len(bars)))
        bottoms = [0] * len(bars)
        for index, serie in enumerate(series):
            fill, hatch = STYLES[index % len(STYLES)]
            heights = [bar.values[index] for bar in bars]
            drawn = axes.bar(positions, heights, bottom=bottoms, color=fill, hatch=hatch,
                             edgecolor="#000000", linewidth=0.6, label=serie, width=0.7)
            for patch, bar in zip(drawn.patches, bars, strict=True):
                if bar.href:
                    patch.set_url(bar.href)
            bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
        for position, total in zip(positions, bottoms, strict=True):
            axes.annotate(str(total), (position, total), xytext=(0, 2),
                          textcoords="offset points", ha="center", va="bottom")
        crowded = len(bars) > 14
        axes.set_xticks(positions, [bar.label for bar in bars], rotation=90 if crowded else 0,
                        ha="center")
        axes.set_ylabel(ylabel)
        axes.set_ylim(0, max([*bottoms, 1]) * 1.15)
        if len(series) > 1:
            figure.legend(loc="outside upper center", frameon=False, ncols=min(len(series), 5))
        return _svg(figure, name, title)


def horizontal_bars(name: str, title: str, bars: Sequence[Bar], series: Sequence[str],
                    xlabel: str, total_labels: Sequence[str] | None = None) -> str:
    """Horizontal (stacked) bars, one row per item, a label at the end of each row."""
    with _style():
        figure = _figure(0.6 + 0.32 * max(len(bars), 1))
        axes = figure.add_subplot()
        positions = list(range(len(bars)))[::-1]  # first item on top
        lefts = [0] * len(bars)
        for index, serie in enumerate(series):
            fill, hatch = STYLES[index % len(STYLES)]
            widths = [bar.values[index] for bar in bars]
            drawn = axes.barh(positions, widths, left=lefts, color=fill, hatch=hatch,
                              edgecolor="#000000", linewidth=0.6, label=serie, height=0.65)
            for patch, bar in zip(drawn.patches, bars, strict=True):
                if bar.href:
                    patch.set_url(bar.href)
            lefts = [a + b for a, b in zip(lefts, widths, strict=True)]
        labels = total_labels or [str(total) for total in lefts]
        for position, total, text in zip(positions, lefts, labels, strict=True):
            axes.annotate(text, (total, position), xytext=(3, 0), textcoords="offset points",
                          ha="left", va="center")
        axes.set_yticks(positions, [bar.label for bar in bars])
        axes.set_xlabel(xlabel)
        axes.set_xlim(0, max([*lefts, 1]) * 1.18)
        if len(series) > 1:
            figure.legend(loc="outside upper center", frameon=False, ncols=min(len(series), 3))
        return _svg(figure, name, title)
