"""The contact form's pure core: checks, the message it builds, the rate-limit arithmetic."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from config.catalogue import default_catalogue
from intake.parse import parse_message
from intake.receipts import reference_for
from intake.webform import (
    ContactForm,
    Submission,
    build_message,
    check_form,
    client_key,
    flood_refusal,
    new_message_id,
    normalise_address,
    retry_after,
    submitter_hash,
)

CATALOGUE = default_catalogue()
NOW = datetime(2020, 11, 3, 10, 30, tzinfo=UTC)
COMMENT = "Portali i të dhënave të hapura duhet të publikojë buxhetet e bashkive.\n\nFaleminderit."


def valid(**changes: str) -> ContactForm:
    fields: dict[str, Any] = {"name": "Ana Hoxha", "email": "ana@example.org",
                              "subject": "Buxhetet", "commitment": "4", "comment": COMMENT,
                              **changes}
    return ContactForm(**fields)


def submission(form: ContactForm, max_chars: int = 20_000) -> Submission:
    checked = check_form(form, CATALOGUE, max_chars)
    assert isinstance(checked, Submission), checked
    return checked


def problems(form: ContactForm, max_chars: int = 20_000) -> dict[str, str]:
    checked = check_form(form, CATALOGUE, max_chars)
    assert isinstance(checked, dict), checked
    return {name: notice.en for name, notice in checked.items()}


@pytest.mark.parametrize(("typed", "expected"), [
    ("ana@example.org", "ana@example.org"),
    ("  Ana.Hoxha+ogp@Example.ORG ", "Ana.Hoxha+ogp@example.org"),
    ("besa@shqipëri.al", "besa@xn--shqipri-vya.al"),
])
def test_plain_addresses_are_accepted_and_normalised(typed: str, expected: str) -> None:
    assert normalise_address(typed) == expected


@pytest.mark.parametrize("typed", [
    "",
    "ana",
    "ana@",
    "@example.org",
    "ana@localhost",
    "ana@@example.org",
    "ana hoxha@example.org",
    "Ana <ana@example.org>",
    "ana@example.org, besa@example.org",
    "ana@example.org\r\nBcc: victim@example.org",
    "ana@exa_mple.org",
    "ana@-example.org",
    ".ana@example.org",
    "çelë@example.org",
    "a" * 65 + "@example.org",
    "ana@" + "a" * 250 + ".org",
])
def test_anything_but_one_plain_address_is_refused(typed: str) -> None:
    assert normalise_address(typed) is None


def test_a_valid_form_becomes_a_submission_with_the_commitment_in_the_subject() -> None:
    checked = submission(valid(name="  Ana   Hoxha "))
    assert checked.name == "Ana Hoxha"
    assert checked.commitment is not None
    assert checked.commitment.id == "4"
    assert checked.subject == "Zgjerimi i portalit të të dhënave të hapura: Buxhetet"
    assert checked.comment == COMMENT


@pytest.mark.parametrize(("subject", "commitment", "expected"), [
    ("", "", ""),
    ("Buxhetet", "", "Buxhetet"),
    ("", "general", "Komente të përgjithshme për planin"),
])
def test_subject_line_uses_what_was_given(subject: str, commitment: str, expected: str) -> None:
    assert submission(valid(subject=subject, commitment=commitment)).subject == expected


def test_browser_line_ends_are_normalised_before_counting() -> None:
    checked = submission(valid(comment="  rreshti 1\r\nrreshti 2\rrreshti 3\n "), max_chars=29)
    assert checked.comment == "rreshti 1\nrreshti 2\nrreshti 3"


@pytest.mark.parametrize("field", ["name", "subject"])
@pytest.mark.parametrize("injected", ["Ana\r\nBcc: x@example.org", "Ana\nTo: x@example.org",
                                      "Ana\rX", "Ana\x00", "Ana\u2028X"])
def test_line_breaks_in_one_line_fields_are_refused(field: str, injected: str) -> None:
    found = problems(valid(**{field: injected}))
    assert set(found) == {field}
    assert "cannot contain line breaks" in found[field]


def test_each_problem_is_named_by_its_field() -> None:
    found = problems(ContactForm(name="x" * 201, email="not an address", subject="s" * 201,
                                 commitment="99", comment="  \r\n "))
    assert found == {
        "name": "The name can have at most 200 characters.",
        "email": "This does not look like a valid e-mail address (e.g. name@example.al).",
        "subject": "The subject can have at most 200 characters.",
        "commitment": "Please choose a commitment from the list.",
        "comment": "Please write your comment.",
    }
    assert problems(valid(email=" "))["email"] == "Please enter your e-mail address."


def test_comment_length_limit_is_inclusive() -> None:
    assert submission(valid(comment="a" * 50), max_chars=50).comment == "a" * 50
    assert problems(valid(comment="a" * 51), max_chars=50) == {
        "comment": "The comment has 51 characters; the limit is 50. Please shorten it."}


def test_built_message_parses_back_to_what_the_citizen_typed() -> None:
    checked = submission(valid(name='Hoxha, Ëna "Ani"'))
    message_id = new_message_id("feedback@ogp.gov.al")
    raw = build_message(checked, "feedback@ogp.gov.al", NOW, message_id)
    assert b"\r\nX-OGP-Source: contact-form\r\n" in raw
    assert b"\r\nX-OGP-Commitment: 4\r\n" in raw
    assert b"\r\nTo: feedback@ogp.gov.al\r\n" in raw
    parsed = parse_message(raw)
    assert parsed.problem is None
    assert parsed.author_name == 'Hoxha, Ëna "Ani"'
    assert parsed.author_email == "ana@example.org"
    assert parsed.subject == checked.subject
    assert parsed.text == COMMENT
    assert parsed.message_id == message_id
    assert parsed.sent_at == NOW


def test_message_ids_are_random_and_on_the_mail_from_domain() -> None:
    first, second = new_message_id("feedback@ogp.gov.al"), new_message_id("feedback@ogp.gov.al")
    assert first != second
    assert first.startswith("<")
    assert first.endswith("@ogp.gov.al>")


def test_submitter_hash_is_keyed_and_ignores_case() -> None:
    expected = hmac.new(b"k" * 32, b"ana@example.org", hashlib.sha256).hexdigest()
    assert submitter_hash("k" * 32, "Ana@Example.org") == expected
    assert submitter_hash("j" * 32, "ana@example.org") != expected


def test_retry_after_counts_only_the_last_hour() -> None:
    minutes_ago = [50, 40, 30, 20, 10]
    times = [NOW - timedelta(minutes=m) for m in minutes_ago]
    assert retry_after(times[1:], limit=5, now=NOW) is None
    assert retry_after(times, limit=5, now=NOW) == timedelta(minutes=10)
    assert retry_after([NOW - timedelta(minutes=61), *times[1:]], limit=5, now=NOW) is None
    # Over the limit already (two racing requests): wait until enough have left.
    assert retry_after([NOW - timedelta(minutes=55), *times], limit=5, now=NOW) == timedelta(
        minutes=10)


def test_reference_numbers_are_zero_padded() -> None:
    assert reference_for(42) == "OGP-000042"
    assert reference_for(1234567) == "OGP-1234567"


@pytest.mark.parametrize(
    ("host", "key"),
    [("198.51.100.7", "198.51.100.7"),
     ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
     ("2001:db8:1:2:ffff:ffff:ffff:fffe", "2001:db8:1:2::/64"),
     ("::ffff:198.51.100.7", "198.51.100.7"),
     ("testclient", "testclient")],
)
def test_one_client_is_an_ipv4_address_or_an_ipv6_64(host: str, key: str) -> None:
    assert client_key(host) == key


def test_flood_refusals_are_bilingual_with_a_retry_after() -> None:
    client = flood_refusal("client", 20, timedelta(minutes=42, seconds=10))
    assert client.status_code == 429
    assert "20 komente brenda një ore" in client.notice.sq
    assert "Please try again in 43 minutes." in client.notice.en
    assert client.headers == {"Retry-After": "2530"}
    everyone = flood_refusal("everyone", 60, timedelta(seconds=20))
    assert "pas 1 minute" in everyone.notice.sq  # ablative, as in "pas një minute"
    assert "Please try again in 1 minute." in everyone.notice.en
