"""The public site's pages, planned and rendered from public values only (no database)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from config.catalogue import default_catalogue
from intake.receipts import reference_for
from intake.sanitize import display_html
from moderation.public import CommentPublic, ResponsePublic
from publish import urls
from publish.plan import Entry, PageKind, SitePlan, plan_site
from publish.render import CONTENT_SECURITY_POLICY, SiteOptions, SiteRenderer, excerpt

CATALOGUE = default_catalogue()
START = datetime(2020, 9, 1, 8, 0, tzinfo=UTC)
OPTIONS = SiteOptions(contact_url="https://ui.example.al/contact",
                      site_url="https://ogp.example.al/")


def public_comment(comment_id: int, commitments: tuple[str, ...], text: str,
                   subject: str = "Koment", language: str = "sq",
                   response: ResponsePublic | None = None,
                   author: str | None = None) -> CommentPublic:
    return CommentPublic(
        id=comment_id, reference=reference_for(comment_id), subject=subject, text=text,
        display_html=display_html(text), language=language, commitments=commitments,
        received_at=START, published_at=START + timedelta(minutes=comment_id),
        response=response, author=author,
    )


def entry(comment: CommentPublic, fingerprint: str = "1") -> Entry:
    assert comment.published_at is not None
    return Entry(id=comment.id, reference=comment.reference, published_at=comment.published_at,
                 fingerprint=fingerprint, labels=comment.commitments or ("general",),
                 answered=comment.response is not None)


def render_all(comments: list[CommentPublic]) -> tuple[SitePlan, dict[str, str]]:
    plan = plan_site(CATALOGUE, [entry(c) for c in comments], "v1")
    renderer = SiteRenderer(CATALOGUE, OPTIONS)
    by_id = {c.id: c for c in comments}
    pages = {path: renderer.render(path, page, plan, by_id).decode()
             for path, page in plan.pages.items()}
    return plan, pages


def test_public_comment_has_no_private_fields() -> None:
    assert set(CommentPublic.model_fields) == {
        "id", "reference", "subject", "text", "display_html", "language", "commitments",
        "received_at", "published_at", "response", "author"}
    # The response is published without who wrote or edited it.
    assert set(ResponsePublic.model_fields) == {
        "outcome", "outcome_sq", "outcome_en", "text_sq", "text_en", "link"}
    # ``author`` is only the name the citizen consented to publish (``author_public``);
    # ``text`` is the published text (redactions applied), never the raw mail.
    for private in ("author_email", "author_name", "raw", "decided_by", "edited_by"):
        assert private not in CommentPublic.model_fields


def test_every_page_exists_in_both_languages_with_one_page_per_comment() -> None:
    comments = [public_comment(1, ("3", "4"), "Portali."), public_comment(2, (), "Plani.")]
    _plan, pages = render_all(comments)

    for language in urls.LANGUAGES:
        assert urls.index_page(language) in pages
        for label in CATALOGUE.labels:
            assert urls.commitment_page(language, label.id) in pages
            assert urls.commitment_feed(language, label.id) in pages
        for comment in comments:
            assert urls.comment_page(language, comment.reference) in pages
    assert {urls.ROOT_INDEX, urls.ROOT_FEED, urls.STYLESHEET} <= set(pages)
    comment_pages = [p for p in pages if "/comments/" in p]
    assert len(comment_pages) == 2 * len(comments)
    assert urls.comment_page("sq", "OGP-000001") == "sq/comments/000/OGP-000001.html"


def test_each_page_is_in_one_language_with_a_switch_to_the_same_page() -> None:
    _, pages = render_all([public_comment(7, ("9",), "Buxheti i qytetarit.")])

    sq = pages["sq/commitments/9.html"]
    en = pages["en/commitments/9.html"]
    assert '<html lang="sq">' in sq
    assert '<html lang="en">' in en
    assert "Rritja e transparencës buxhetore" in sq
    assert CATALOGUE.label("9").title_en in en
    assert CATALOGUE.label("9").title_sq not in en
    assert "Kërko" in sq
    assert "Kërko" not in en
    assert "Search" in en
    # The switch keeps the reader on the same page, relative to where they are.
    assert 'href="../../en/commitments/9.html" hreflang="en"' in sq
    assert 'href="../../sq/commitments/9.html" hreflang="sq"' in en
    assert 'href="en/index.html" hreflang="en"' in pages["index.html"]


@pytest.mark.parametrize(("count", "sq", "en"), [(1, "1 koment", "1 comment"),
                                                 (2, "2 komente", "2 comments")])
def test_counts_read_as_a_person_would_write_them(count: int, sq: str, en: str) -> None:
    comments = [public_comment(n, ("4",), "Të dhëna.") for n in range(1, count + 1)]
    _, pages = render_all(comments)
    assert f"<h2>{sq}</h2>" in pages["sq/commitments/4.html"]
    assert f"<h2>{en}</h2>" in pages["en/commitments/4.html"]
    assert "1 komente" not in pages["sq/index.html"]


def test_a_commitment_is_paginated_from_the_oldest_fifty_a_page_newest_first() -> None:
    comments = [public_comment(n, ("6",), f"Radha te sporteli {n}.") for n in range(1, 121)]
    plan, pages = render_all(comments)

    archive = [p for p in pages if p.startswith("sq/commitments/6/")]
    assert sorted(archive) == [f"sq/commitments/6/page-{n}.html" for n in (1, 2, 3)]
    first = pages["sq/commitments/6/page-1.html"]
    assert "OGP-000001" in first
    assert "OGP-000050" in first
    assert "OGP-000051" not in first
    # Newest first on each page; the front shows the newest 50.
    assert first.index("OGP-000050") < first.index("OGP-000001")
    front = pages["sq/commitments/6.html"]
    assert "OGP-000120" in front
    assert "OGP-000071" in front
    assert "OGP-000070" not in front
    assert 'rel="next" href="page-2.html"' in first
    assert 'rel="prev"' not in first
    assert 'rel="next"' not in pages["sq/commitments/6/page-3.html"]
    assert plan.archives["6"][2].size == 20


def test_a_new_comment_changes_only_the_pages_that_show_it() -> None:
    comments = [public_comment(n, ("6",), "Radha.") for n in range(1, 121)]
    before = plan_site(CATALOGUE, [entry(c) for c in comments], "v1").keys()
    newer = public_comment(121, ("6",), "Edhe një.")
    after = plan_site(CATALOGUE, [entry(c) for c in [*comments, newer]], "v1").keys()

    changed = {path for path in after if before.get(path) != after[path]}
    assert changed == {
        "index.html", "feed.atom",
        *(path for language in urls.LANGUAGES for path in (
            urls.index_page(language), urls.feed(language),
            urls.comment_page(language, "OGP-000121"),
            urls.commitment_page(language, "6"), urls.commitment_feed(language, "6"),
            urls.archive_page(language, "6", 3))),
    }


def test_a_comment_page_shows_everything_about_it_and_nothing_that_moves() -> None:
    response = ResponsePublic(outcome="accepted", outcome_sq="Pranuar", outcome_en="Accepted",
                              text_sq="E shtuam në plan.", text_en="We added it.", link=None)
    comment = public_comment(42, ("2", "9"), "Kush e zotëron kompaninë?",
                             subject="Pronarët", response=response, author="Ana Hoxha")
    _plan, pages = render_all([comment])
    page = pages["sq/comments/000/OGP-000042.html"]

    assert "OGP-000042" in page
    assert "Pronarët" in page
    assert "Ana Hoxha" in page
    assert "Kush e zotëron kompaninë?" in page
    assert 'href="../../commitments/2.html"' in page
    assert 'href="../../commitments/9.html"' in page
    assert "E shtuam në plan." in page
    assert "We added it." not in page
    assert "We added it." in pages["en/comments/000/OGP-000042.html"]
    assert "https://ui.example.al/contact?report=OGP-000042" in page
    # No count, no "updated" time: another approval never changes this page's bytes.
    others = [public_comment(n, ("2",), "Tjetër.") for n in range(43, 90)]
    _, crowded = render_all([comment, *others])
    assert crowded["sq/comments/000/OGP-000042.html"] == page


def test_every_page_carries_the_strict_policy_and_no_inline_code() -> None:
    _, pages = render_all([public_comment(1, ("1",), "<script>alert(1)</script> tekst")])
    for path, page in pages.items():
        if not path.endswith(".html"):
            continue
        assert f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">' \
            in page.replace("&#39;", "'"), path
        assert "<style" not in page, path
        assert " style=" not in page, path
        assert re.search(r"<script(?![^>]*\bsrc=)", page) is None, path
        assert re.search(r"<[^>]*\son[a-z]+\s*=", page) is None, path
    assert "&lt;script&gt;" in pages["sq/comments/000/OGP-000001.html"]


def test_comment_language_is_marked_and_kept_as_written() -> None:
    _, pages = render_all([public_comment(3, ("3",), "The portal is slow.", language="en")])
    page = pages["sq/comments/000/OGP-000003.html"]
    assert '<div class="text" lang="en">' in page
    assert '<html lang="sq">' in page


def test_excerpts_cut_at_a_word() -> None:
    text = "fjalë " * 100
    cut = excerpt(text, 30)
    assert cut.endswith(" …")
    assert len(cut) <= 32
    assert "  " not in cut
    assert excerpt("shkurt") == "shkurt"


def test_plan_kinds_cover_the_site() -> None:
    plan = plan_site(CATALOGUE, [], "v1")
    kinds = {page.kind for page in plan.pages.values()}
    assert kinds == {PageKind.ROOT, PageKind.INDEX, PageKind.FRONT, PageKind.FEED,
                     PageKind.LABEL_FEED, PageKind.SEARCH, PageKind.DATA, PageKind.ASSET}
