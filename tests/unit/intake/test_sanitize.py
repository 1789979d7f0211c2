"""The citizen's words as safe HTML: only <p>, <br> and <a>, links marked nofollow.

The corpus tests run the 372 XSS payloads of ``shared/corpora/xss`` through the
sanitizer, both as plain text and as the body of an HTML mail.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from intake.htmltext import html_to_text
from intake.parse import normalise_text
from intake.sanitize import display_html, text_to_safe_html
from tests.conftest import CORPORA, unavailable

XSS_VECTORS = CORPORA / "xss" / "vectors.json"
XSS_VECTOR_COUNT = 372  # shared/corpora/xss/MANIFEST.md
ALLOWED = {"p": set(), "br": set(), "a": {"href", "rel"}}
TAG = re.compile(r"<[^>]*>")


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def unsafe_markup(output: str) -> list[str]:
    """Every way ``output`` breaks the sanitizer's promise; empty when it is safe."""
    problems = []
    if "<script" in output.lower():
        problems.append("contains '<script'")
    # Escaped text may mention "onerror="; only real tags (a raw "<") matter.
    for tag in TAG.findall(output):
        if re.search(r"\son\w+\s*=", tag, re.IGNORECASE) or "onerror=" in tag.lower():
            problems.append(f"event attribute in {tag!r}")
    parser = _Tags()
    parser.feed(output)
    parser.close()
    for tag, attrs in parser.tags:
        if tag not in ALLOWED:
            problems.append(f"tag <{tag}>")
            continue
        for name, value in attrs:
            if name not in ALLOWED[tag]:
                problems.append(f"attribute {name!r} on <{tag}>")
            if name == "href" and (
                "javascript:" in (value or "").lower()
                or not (value or "").startswith(("http://", "https://"))
            ):
                problems.append(f"href {value!r}")
    return problems


def load_vectors() -> list[dict[str, Any]]:
    if not XSS_VECTORS.is_file():
        unavailable(f"XSS corpus not found at {XSS_VECTORS} (shared/corpora/xss)")
    vectors: list[dict[str, Any]] = json.loads(Path(XSS_VECTORS).read_text(encoding="utf-8"))
    assert len(vectors) == XSS_VECTOR_COUNT, "the corpus is incomplete"
    return vectors


# ------------------------------------------------------------------ the checker itself

@pytest.mark.parametrize(
    "markup",
    ['<p><script>alert(1)</script></p>', '<p><img src=x></p>', '<a href="x" onclick="y">a</a>',
     '<a href="javascript:alert(1)">a</a>', '<p style="color:red">a</p>', "<p><b>b</b></p>"],
)
def test_checker_catches_unsafe_markup(markup: str) -> None:
    assert unsafe_markup(markup)


def test_checker_accepts_what_the_sanitizer_may_produce() -> None:
    safe = ('<p>a &lt;img src=x onerror=alert(1)&gt;<br>\n'
            '<a href="https://x.example" rel="nofollow ugc noopener">x</a></p>\n')
    assert unsafe_markup(safe) == []


# ------------------------------------------------------------------ behaviour

@pytest.mark.parametrize(
    ("text", "visible"),
    [("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
     ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
     ('<a href="javascript:alert(1)">kliko</a>',
      '&lt;a href="javascript:alert(1)"&gt;kliko&lt;/a&gt;'),
     ("javascript:alert(document.cookie)", "javascript:alert(document.cookie)")],
)
def test_markup_in_text_is_shown_not_executed(text: str, visible: str) -> None:
    output = display_html(text)
    assert unsafe_markup(output) == []
    assert output == f"<p>{visible}</p>\n"


def test_urls_become_nofollow_links() -> None:
    output = display_html("Shih https://opendata.gov.al/dataset?id=7 dhe www.e-albania.al sot.")
    assert output == (
        '<p>Shih <a href="https://opendata.gov.al/dataset?id=7" rel="nofollow ugc noopener">'
        "https://opendata.gov.al/dataset?id=7</a> dhe "
        '<a href="http://www.e-albania.al" rel="nofollow ugc noopener">www.e-albania.al</a>'
        " sot.</p>\n"
    )


def test_javascript_url_is_not_linked() -> None:
    output = display_html("kliko javascript:alert(1) ose data:text/html,<b>x</b>")
    assert "<a" not in output
    assert unsafe_markup(output) == []


def test_email_addresses_are_replaced() -> None:
    output = display_html("Më shkruani te ana.hoxha+ogp@example.org ose Info@Bashkia-Tirane.gov.al")
    assert output == "<p>Më shkruani te [e-mail] ose [e-mail]</p>\n"
    assert "@" not in output


@pytest.mark.parametrize(
    "address", ["ana@shqipëri.al", "ëlira.çela@example.al", "info@bashkia-korçë.al"])
def test_addresses_with_albanian_letters_are_replaced(address: str) -> None:
    output = display_html(f"Kontakt: {address} faleminderit")
    assert output == "<p>Kontakt: [e-mail] faleminderit</p>\n"


def test_mailto_link_does_not_reveal_the_address() -> None:
    output = display_html("mailto:ana@example.org")
    assert "example.org" not in output
    assert "[e-mail]" in output


def test_paragraphs_and_line_breaks_are_kept() -> None:
    assert display_html("rresht 1\nrresht 2\n\nparagraf 2") == (
        "<p>rresht 1<br>\nrresht 2</p>\n<p>paragraf 2</p>\n"
    )


def test_ampersands_and_quotes_are_escaped_once() -> None:
    assert text_to_safe_html('AT&T "citim" <b>') == '<p>AT&amp;T "citim" &lt;b&gt;</p>\n'


def test_empty_text_gives_empty_html() -> None:
    assert display_html("  \n\n ") == ""


# ------------------------------------------------------------------ the XSS corpus

def test_xss_corpus_as_text_is_inert() -> None:
    failures = {}
    for vector in load_vectors():
        problems = unsafe_markup(display_html(vector["payload"]))
        if problems:
            failures[vector["id"]] = problems
    assert failures == {}


def test_xss_corpus_as_html_mail_is_inert() -> None:
    """The same payloads as the body of an HTML mail: html_to_text, then the sanitizer."""
    failures = {}
    for vector in load_vectors():
        output = display_html(normalise_text(html_to_text(vector["payload"])))
        problems = unsafe_markup(output)
        if problems:
            failures[vector["id"]] = problems
    assert failures == {}
