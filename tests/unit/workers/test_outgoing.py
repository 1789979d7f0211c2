"""The decision notice as a citizen reads it, built without a database or a network."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from moderation.models import NoticeKind, RejectCode
from moderation.reasons import REJECT_REASONS
from moderation.transitions import rejection_text
from workers.outgoing import (
    ConfirmationContent,
    NoticeContent,
    asks_for_no_auto_reply,
    build_confirmation,
    build_notice,
    comment_link,
    render,
)

SENT_AT = datetime(2020, 9, 20, 10, 30, tzinfo=UTC)
WORDS = "Komenti flet për zgjedhjet vendore, jo për planin e veprimit."
REASON = rejection_text(RejectCode.OFF_TOPIC, WORDS)
LINK = "https://ogp.example.al/site/sq/comments/000/OGP-000017.html"


def rejected(**changes: object) -> NoticeContent:
    values: dict[str, object] = {
        "kind": NoticeKind.REJECTED, "to": "ana.hoxha@example.org",
        "mail_from": "feedback@ogp.example.al", "reference": "OGP-000123",
        "sent_at": SENT_AT,
        "in_reply_to": "<m1@example.org>", "reason": REASON,
    }
    values.update(changes)
    return NoticeContent(**values)  # type: ignore[arg-type]


def published(**changes: object) -> NoticeContent:
    return rejected(**{"kind": NoticeKind.PUBLISHED, "reason": "", "link": LINK, **changes})


def body_of(message: EmailMessage) -> str:
    """The text as the citizen's mail program shows it, after a round trip through bytes."""
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    part = parsed.get_body(("plain",))
    assert part is not None
    text: str = part.get_content()
    return text


def halves(text: str) -> tuple[str, str]:
    """The Albanian and the English half of a body."""
    albanian, english = text.split("\n---\n")
    return albanian, english


def flat(text: str) -> str:
    """Wrapped and indented lines back into one line, to find a quoted sentence."""
    return " ".join(text.split())


def test_a_rejection_notice_is_an_rfc3834_auto_reply() -> None:
    message = build_notice(rejected())
    assert message["From"] == "OGP Konsultimi <feedback@ogp.example.al>"
    assert message["To"] == "ana.hoxha@example.org"
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["X-Auto-Response-Suppress"] == "All"
    assert message["In-Reply-To"] == "<m1@example.org>"
    assert message["References"] == "<m1@example.org>"
    assert message["Date"] == "Sun, 20 Sep 2020 10:30:00 +0000"
    assert message["Message-ID"].endswith("@ogp.example.al>")
    assert message["Message-ID"] != "<m1@example.org>"
    assert message["Subject"] == ("Auto: OGP-000123 Komenti nuk u botua / Your comment was not "
                                  "published")


def test_two_notices_get_two_message_ids() -> None:
    assert build_notice(rejected())["Message-ID"] != build_notice(rejected())["Message-ID"]


def test_a_rejection_quotes_the_reason_in_both_languages() -> None:
    albanian, english = halves(body_of(build_notice(rejected())))
    label = REJECT_REASONS[RejectCode.OFF_TOPIC]
    for half in (albanian, english):
        assert REASON in flat(half)
        assert label.sq in flat(half)
        assert label.en in flat(half)
        assert WORDS in flat(half)
        assert "OGP-000123" in half
    assert "nuk u botua" in albanian
    assert "not published" in english


def test_a_long_reason_is_wrapped_but_every_word_kept() -> None:
    words = " ".join(["fjalë"] * 60) + " https://opendata.gov.al/a-very-long-address-that-stays-whole"
    text = body_of(build_notice(rejected(reason=rejection_text(RejectCode.OTHER, words))))
    assert max(len(line) for line in text.splitlines()) < 110
    assert flat(words) in flat(text)
    assert "https://opendata.gov.al/a-very-long-address-that-stays-whole" in text.split()


def test_a_publication_notice_gives_the_link_in_both_languages() -> None:
    message = build_notice(published())
    assert message["Subject"] == "Auto: OGP-000123 Komenti u botua / Your comment was published"
    assert message["Auto-Submitted"] == "auto-replied"
    albanian, english = halves(body_of(message))
    assert LINK in albanian.split()
    assert LINK in english.split()
    assert "u botua" in albanian
    assert "has been published" in flat(english)
    assert "Arsyeja" not in albanian


SUBJECT_TOKEN = "Buxheti-zx81q\r\nBcc: victim@example.com"


@pytest.mark.parametrize("kind", ["decision-rejected", "decision-published", "response"])
def test_no_template_echoes_the_citizens_subject(kind: str) -> None:
    # Issue 9: a notice must not carry words a stranger chose; the reference is enough.
    context = {"reference": "OGP-000123", "subject": SUBJECT_TOKEN, "reason": REASON,
               "link": LINK, "outcome_sq": "Miratuar", "outcome_en": "Adopted",
               "text_sq": "", "text_en": "", "response_link": ""}
    rendered = render(kind, context)
    assert "zx81q" not in rendered.subject
    assert "zx81q" not in rendered.body
    assert "Subjekti" not in rendered.body
    assert "Subject:" not in rendered.body


@pytest.mark.parametrize("kind", [NoticeKind.REJECTED, NoticeKind.PUBLISHED])
def test_a_notice_has_only_our_headers(kind: NoticeKind) -> None:
    raw = build_notice(rejected() if kind is NoticeKind.REJECTED else published()).as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.compat32)
    names = {name.lower() for name in parsed}
    assert names == {"subject", "from", "to", "date", "message-id", "auto-submitted",
                     "x-auto-response-suppress", "in-reply-to", "references", "content-type",
                     "content-transfer-encoding", "mime-version"}


@pytest.mark.parametrize("message_id", [
    "<m1@example.org>\r\nBcc: victim@example.com",
    "not-a-message-id",
    "<m1@example.org> <m2@example.org>",
])
def test_a_bad_original_message_id_is_left_out(message_id: str) -> None:
    message = build_notice(rejected(in_reply_to=message_id))
    assert message["In-Reply-To"] is None
    assert message["References"] is None


@pytest.mark.parametrize("to", ["ana@example.org\r\nBcc: victim@example.com",
                                "Ana <ana@example.org>", "ana@example.org, b@example.org", ""])
def test_only_one_plain_recipient(to: str) -> None:
    with pytest.raises(ValueError, match="one plain recipient"):
        build_notice(rejected(to=to))


def test_a_rejection_without_a_reason_or_a_publication_without_a_link_is_refused() -> None:
    with pytest.raises(ValueError, match="must say why"):
        build_notice(rejected(reason=" "))
    with pytest.raises(ValueError, match="must give the link"):
        build_notice(published(link=""))


def test_the_link_is_the_comments_own_page() -> None:
    assert comment_link("https://ogp.example.al/site/", "OGP-000017") == LINK
    assert comment_link("https://ogp.example.al/site", "OGP-000017") == LINK
    assert comment_link("https://ogp.example.al/site", "OGP-123456") == (
        "https://ogp.example.al/site/sq/comments/123/OGP-123456.html")


def test_templates_are_plain_text_not_html() -> None:
    rendered = render("decision-rejected", {"reference": "OGP-000001",
                                            "reason": "Tjetër & <më shumë>", "link": ""})
    assert "Tjetër & <më shumë>" in rendered.body
    assert "&amp;" not in rendered.body


@pytest.mark.parametrize(("headers", "suppressed"), [
    ("", False),
    ("Auto-Submitted: no\r\n", False),
    ("Auto-Submitted: auto-replied\r\n", True),
    ("Auto-Submitted: auto-generated\r\n", True),
    ("X-Auto-Response-Suppress: All\r\n", True),
    ("X-Auto-Response-Suppress: OOF, AutoReply\r\n", True),
    ("X-Auto-Response-Suppress: DR\r\n", False),
])
def test_who_asked_not_to_be_answered(headers: str, suppressed: bool) -> None:
    raw = (f"From: ana@example.org\r\nSubject: Koment\r\n{headers}\r\nTekst.\r\n").encode()
    assert asks_for_no_auto_reply(raw) is suppressed


def test_a_confirmation_gives_the_link_and_the_reference_only() -> None:
    link = "https://ogp.example.al/contact/confirm?token=abc"
    message = build_confirmation(ConfirmationContent(
        to="ana@example.org", mail_from="feedback@ogp.example.al", reference="OGP-000123",
        link=link, hours=72, sent_at=SENT_AT))
    assert message["Subject"] == ("Auto: OGP-000123 Konfirmoni adresën / "
                                  "Please confirm your address")
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["X-Auto-Response-Suppress"] == "All"
    assert message["In-Reply-To"] is None
    albanian, english = halves(body_of(message))
    for half in (albanian, english):
        assert link in half.split()
        assert "OGP-000123" in half
        assert "72" in half
