"""HTML mail to readable plain text (stdlib only); never returns markup."""

from __future__ import annotations

import html
from html.parser import HTMLParser

_BLOCK = frozenset(
    {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
     "pre", "table", "ul", "ol", "hr", "section", "article", "header", "footer"}
)
_DROP = frozenset({"script", "style", "head", "title", "template", "noscript", "iframe", "object"})


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.dropping = 0
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP:
            self.dropping += 1
        elif tag in _BLOCK:
            self.parts.append("\n\n" if tag == "p" else "\n")
        if tag == "li":
            self.parts.append("- ")
        if tag == "a":
            href = dict(attrs).get("href") or ""
            self.links.append(href if href.startswith(("http://", "https://")) else "")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"br", "hr"}:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP:
            self.dropping = max(0, self.dropping - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")
        if tag == "a" and self.links:
            href = self.links.pop()
            # Keep the target of a link whose text hides it, so moderators see it.
            # Not inside a dropped element, whose links the reader never saw.
            if href and not self.dropping and self.parts and href not in self.parts[-1]:
                self.parts.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        if not self.dropping:
            self.parts.append(" ".join(data.split("\n")) if data.strip() else " ")


def html_to_text(markup: str) -> str:
    collector = _TextCollector()
    try:
        collector.feed(markup)
        collector.close()
    except Exception:
        return html.unescape(markup)
    text = "".join(collector.parts)
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return "\n".join(lines)
