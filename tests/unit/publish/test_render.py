"""The public site, rendered from public values only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from config.catalogue import default_catalogue
from intake.sanitize import display_html
from moderation.public import CommentPublic, ResponsePublic
from publish.render import page_name, render_site

CATALOGUE = default_catalogue()
GENERATED_AT = datetime(2020, 10, 15, 12, 30, tzinfo=UTC)


def public_comment(comment_id: int, commitments: tuple[str, ...], text: str,
                   subject: str = "Koment") -> CommentPublic:
    return CommentPublic(
        id=comment_id, subject=subject, display_html=display_html(text), language="sq",
        commitments=commitments, received_at=datetime(2020, 9, 2, tzinfo=UTC),
        published_at=None,
    )


def test_public_comment_has_no_private_fields() -> None:
    assert set(CommentPublic.model_fields) == {
        "id", "subject", "display_html", "language", "commitments", "received_at",
        "published_at", "response", "author"}
    # The response is published without who wrote or edited it.
    assert set(ResponsePublic.model_fields) == {
        "outcome", "outcome_sq", "outcome_en", "text_sq", "text_en", "link"}
    # ``author`` is only the name the citizen consented to publish (``author_public``).
    for private in ("author_email", "author_name", "text", "raw", "decided_by"):
        assert private not in CommentPublic.model_fields


def test_public_comment_drops_an_author_email() -> None:
    comment = CommentPublic.model_validate({
        "id": 1, "subject": "s", "display_html": "", "language": "sq", "commitments": (),
        "received_at": None, "published_at": None, "author_email": "ana@example.org"})
    assert not hasattr(comment, "author_email")
    assert "ana@example.org" not in comment.model_dump_json()


def test_site_has_index_one_page_per_commitment_and_general() -> None:
    site = render_site(CATALOGUE, [], GENERATED_AT)
    expected = {"index.html", "style.css", "general.html",
                *(f"commitment-{n}.html" for n in range(1, 11))}
    assert set(site.files) == expected
    assert page_name(CATALOGUE.label("4")) == "commitment-4.html"
    assert page_name(CATALOGUE.general) == "general.html"


def test_index_links_every_page_and_shows_counts() -> None:
    comments = [public_comment(1, ("3", "4"), "Portali."), public_comment(2, ("3",), "e-Albania")]
    index = render_site(CATALOGUE, comments, GENERATED_AT).files["index.html"]
    for label in CATALOGUE.labels:
        assert f'href="{page_name(label)}"' in index
    assert "2 komente të botuara" in index
    assert '(2)' in index  # commitment 3
    assert "2020-10-15 12:30" in index


def test_comment_appears_on_the_page_of_each_of_its_commitments() -> None:
    both = public_comment(7, ("3", "4"), "Shërbimet në e-Albania dhe portali TOKEN-BOTH.")
    only = public_comment(8, ("9",), "Buxheti TOKEN-NINE.")
    site = render_site(CATALOGUE, [both, only], GENERATED_AT)

    for name, content in site.files.items():
        on_page = name in {"commitment-3.html", "commitment-4.html"}
        assert ("TOKEN-BOTH" in content) == on_page, name
        assert ("TOKEN-NINE" in content) == (name == "commitment-9.html"), name
    assert 'id="comment-7"' in site.files["commitment-3.html"]


def test_comment_without_commitments_goes_to_general() -> None:
    site = render_site(CATALOGUE, [public_comment(3, (), "Pa etiketë TOKEN-GEN.")], GENERATED_AT)
    assert "TOKEN-GEN" in site.files["general.html"]
    assert sum("TOKEN-GEN" in content for content in site.files.values()) == 1


def test_empty_page_says_so() -> None:
    page = render_site(CATALOGUE, [], GENERATED_AT).files["commitment-1.html"]
    assert "No published comments yet." in page
    assert CATALOGUE.label("1").title_en in page


def test_display_html_is_rendered_as_markup_and_subject_is_escaped() -> None:
    comment = public_comment(5, ("4",), "Shih https://opendata.gov.al <script>x</script>",
                             subject="<b>Subjekti</b>")
    page = render_site(CATALOGUE, [comment], GENERATED_AT).files["commitment-4.html"]
    assert '<a href="https://opendata.gov.al" rel="nofollow ugc noopener">' in page
    assert "<script" not in page
    assert "&lt;b&gt;Subjekti&lt;/b&gt;" in page


@pytest.mark.parametrize("language", ["sq", "en", "mixed", "und"])
def test_article_language_is_a_valid_lang_attribute(language: str) -> None:
    comment = public_comment(6, ("1",), "tekst").model_copy(update={"language": language})
    page = render_site(CATALOGUE, [comment], GENERATED_AT).files["commitment-1.html"]
    expected = language if language in {"sq", "en"} else "sq"
    assert f'id="comment-6" lang="{expected}"' in page


def _article(page: str, comment_id: int) -> str:
    start = page.index(f'<article class="comment" id="comment-{comment_id}"')
    return page[start:page.index("</article>", start)]


def test_the_response_is_published_inside_its_comment_in_both_languages() -> None:
    answered = public_comment(9, ("4",), "Portali duhet të ketë CSV.").model_copy(update={
        "response": ResponsePublic(
            outcome="partly-adopted", outcome_sq="U pranua pjesërisht",
            outcome_en="Partly adopted", text_sq="Do të shtojmë <CSV> për buxhetin.\nFaleminderit.",
            text_en="We will add CSV for the budget.", link="https://ogp.al/plan#c4")})
    alone = public_comment(10, ("4",), "Pa përgjigje.")
    page = render_site(CATALOGUE, [answered, alone], GENERATED_AT).files["commitment-4.html"]

    article = _article(page, 9)
    assert 'id="response-9" data-outcome="partly-adopted"' in article
    assert 'U pranua pjesërisht / <span lang="en">Partly adopted</span>' in article
    # The secretariat's words are text: escaped, line breaks kept for the CSS to show.
    assert "Do të shtojmë &lt;CSV&gt; për buxhetin.\nFaleminderit." in article
    assert '<div class="answer" lang="en">We will add CSV for the budget.</div>' in article
    assert '<a href="https://ogp.al/plan#c4" rel="nofollow noopener">' in article
    assert "response-" not in _article(page, 10)
    assert page.count('class="response"') == 1


def test_a_response_in_one_language_shows_only_that_text() -> None:
    answered = public_comment(11, ("2",), "Tekst.").model_copy(update={
        "response": ResponsePublic(outcome="noted", outcome_sq="U mor në dijeni",
                                   outcome_en="Noted", text_sq="", text_en="Noted, thank you.",
                                   link=None)})
    article = _article(render_site(CATALOGUE, [answered], GENERATED_AT)
                       .files["commitment-2.html"], 11)
    assert article.count('class="answer"') == 1
    assert "Noted, thank you." in article
    assert 'class="link"' not in article
