"""Raw mail to the citizen's text, in whatever encoding their client chose."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from intake.parse import parse_message, peek_message_id
from tests.conftest import unavailable
from tests.hostile_senders import (
    HOSTILE_NAMES,
    XSS_VECTORS,
    expected_name,
    has_control_characters,
    hostile_mail,
    xss_payloads,
)
from tests.mailgen import NOTES, TOPICS, build

ALBANIAN = "Përshëndetje nga Korça: shërbimet në e-Albania janë të ngadalta."
NO_TEXT = "no readable text: the message has no text/plain or text/html body"


def raw_mail(body: bytes, content_type: str = "text/plain; charset=utf-8",
             encoding: str = "8bit", **headers: str) -> bytes:
    head = {
        "From": "Ana Hoxha <ana@example.org>",
        "Subject": "Koment",
        "Message-ID": "<unit-parse@example.org>",
        "MIME-Version": "1.0",
        "Content-Type": content_type,
        "Content-Transfer-Encoding": encoding,
        **headers,
    }
    lines = b"".join(f"{name}: {value}\r\n".encode() for name, value in head.items())
    return lines + b"\r\n" + body


def test_utf8_declared_but_windows_1252_bytes_still_decode() -> None:
    parsed = parse_message(raw_mail(ALBANIAN.encode("windows-1252")))
    assert parsed.text == ALBANIAN
    assert "ë" in parsed.text
    assert "ç" in parsed.text
    assert "\ufffd" not in parsed.text
    assert parsed.problem is None


def test_iso_8859_1_declared_is_decoded() -> None:
    parsed = parse_message(raw_mail(ALBANIAN.encode("iso-8859-1"),
                                    content_type="text/plain; charset=ISO-8859-1"))
    assert parsed.text == ALBANIAN


def test_unknown_charset_falls_back_instead_of_failing() -> None:
    parsed = parse_message(raw_mail(ALBANIAN.encode("utf-8"),
                                    content_type="text/plain; charset=x-no-such-charset"))
    assert parsed.text == ALBANIAN


@pytest.mark.parametrize(("n", "kind"), [(3, "latin1"), (4, "cp1252"), (0, "plain-8bit")])
def test_generated_8bit_mail_keeps_albanian_letters(n: int, kind: str) -> None:
    mail = build(n, kind)
    parsed = parse_message(mail.raw)
    assert mail.token in parsed.text
    assert TOPICS[n][1] in parsed.text
    assert parsed.text_source == "plain"


def test_quoted_printable_body_is_decoded() -> None:
    mail = build(1, "plain-qp")
    assert b"=C3=AB" in mail.raw  # the test really exercises quoted-printable
    parsed = parse_message(mail.raw)
    assert mail.token in parsed.text
    assert TOPICS[1][1] in parsed.text
    assert "=C3" not in parsed.text


def test_quoted_printable_soft_line_breaks_are_joined() -> None:
    body = b"Sh=C3=ABrbimet n=C3=AB e-Alba=\r\nnia jan=C3=AB t=C3=AB ngadalta."
    parsed = parse_message(raw_mail(body, encoding="quoted-printable"))
    assert parsed.text == "Shërbimet në e-Albania janë të ngadalta."


def test_base64_body_is_decoded() -> None:
    mail = build(2, "plain-base64")
    parsed = parse_message(mail.raw)
    assert mail.token in parsed.text
    assert TOPICS[2][1] in parsed.text


def test_base64_latin1_body_is_decoded() -> None:
    body = base64.encodebytes(ALBANIAN.encode("iso-8859-1"))
    parsed = parse_message(raw_mail(body, content_type="text/plain; charset=iso-8859-1",
                                    encoding="base64"))
    assert parsed.text == ALBANIAN


def test_html_only_mail_gives_readable_text() -> None:
    mail = build(5, "html-only")
    parsed = parse_message(mail.raw)
    assert parsed.text_source == "html"
    assert parsed.text == f"{TOPICS[5][0]}\n\nKomenti {mail.token}. {TOPICS[5][1]} {NOTES[0]}"


def test_hostile_html_mail_loses_tags_and_script_content() -> None:
    mail = build(7, "hostile-html")
    parsed = parse_message(mail.raw)
    assert parsed.text_source == "html"
    assert mail.token in parsed.text
    assert TOPICS[7][1] in parsed.text
    for leftover in ("<", ">", "alert", "document.write", "owned", "onerror", "javascript"):
        assert leftover not in parsed.text


def test_multipart_alternative_prefers_the_plain_part() -> None:
    msg = EmailMessage()
    msg["From"] = "ana@example.org"
    msg["Subject"] = "Alt"
    msg.set_content("Teksti i thjeshtë.")
    msg.add_alternative("<p>Versioni <b>HTML</b>.</p>", subtype="html")
    parsed = parse_message(msg.as_bytes())
    assert parsed.text == "Teksti i thjeshtë."
    assert parsed.text_source == "plain"


def test_generated_alternative_uses_plain() -> None:
    mail = build(6, "alternative")
    parsed = parse_message(mail.raw)
    assert parsed.text_source == "plain"
    assert parsed.text.startswith(f"{TOPICS[6][0]} Komenti {mail.token}.")


def test_empty_plain_part_falls_back_to_html() -> None:
    msg = EmailMessage()
    msg["From"] = "ana@example.org"
    msg.set_content("   \n")
    msg.add_alternative("<p>Vetëm HTML ka tekst.</p>", subtype="html")
    parsed = parse_message(msg.as_bytes())
    assert parsed.text == "Vetëm HTML ka tekst."
    assert parsed.text_source == "html"


def test_nul_bytes_are_removed() -> None:
    parsed = parse_message(raw_mail(b"Para\x00 publike\x00\r\nrresht i dyt\x00\xc3\xab"))
    assert "\x00" not in parsed.text
    assert parsed.text == "Para publike\nrresht i dytë"


def test_crlf_and_blank_line_runs_are_normalised() -> None:
    parsed = parse_message(raw_mail(b"\r\n\r\nNje  \r\n\r\n\r\n\r\nDy\r\n\r\n"))
    assert parsed.text == "Nje\n\nDy"


def test_message_without_text_body_has_a_problem() -> None:
    msg = EmailMessage()
    msg["From"] = "ana@example.org"
    msg["Subject"] = "Vetëm një skedar"
    msg.add_attachment(b"%PDF-1.4 ...", maintype="application", subtype="pdf",
                       filename="koment.pdf")
    parsed = parse_message(msg.as_bytes())
    assert parsed.problem is not None
    assert parsed.problem.startswith(NO_TEXT)
    assert "koment.pdf" in parsed.problem  # the moderator learns what did arrive
    assert parsed.text == ""
    assert parsed.text_source == "none"


def test_text_attachment_is_not_taken_as_the_body() -> None:
    msg = EmailMessage()
    msg["From"] = "ana@example.org"
    msg.add_attachment("sekret i bashkangjitur", filename="shenime.txt")
    parsed = parse_message(msg.as_bytes())
    assert "sekret" not in parsed.text
    assert parsed.problem is not None
    assert parsed.problem.startswith(NO_TEXT)


def test_html_with_only_a_script_has_a_problem() -> None:
    parsed = parse_message(raw_mail(b"<script>alert(1)</script>",
                                    content_type="text/html; charset=utf-8"))
    assert parsed.problem is not None
    assert parsed.text == ""


@pytest.mark.parametrize("raw", [b"", b"Content-Type: multipart/mixed\r\n\r\nno boundary"])
def test_broken_mail_gives_a_problem_not_an_exception(raw: bytes) -> None:
    assert parse_message(raw).problem == NO_TEXT


def test_malformed_headers_do_not_stop_intake() -> None:
    raw = b"From: <<<@@@>>>\r\nSubject: =?utf-8?b?!!!?=\r\nDate: 99 Foo 2020\r\n\r\nKomenti im"
    parsed = parse_message(raw)
    assert parsed.text == "Komenti im"
    assert parsed.problem is None
    assert parsed.sent_at is None


@pytest.mark.parametrize(
    "encoded",
    ["=?utf-8?b?" + base64.b64encode("Shërbimet në e-Albania".encode()).decode() + "?=",
     "=?utf-8?q?Sh=C3=ABrbimet_n=C3=AB_e-Albania?=",
     "=?iso-8859-1?q?Sh=EBrbimet_n=EB?= e-Albania"],
)
def test_encoded_word_subject_is_decoded(encoded: str) -> None:
    parsed = parse_message(raw_mail(b"tekst", Subject=encoded))
    assert parsed.subject == "Shërbimet në e-Albania"


def test_folded_subject_is_one_line() -> None:
    parsed = parse_message(raw_mail(b"tekst", Subject="Afati i\r\n konsultimit"))
    assert parsed.subject == "Afati i konsultimit"


@pytest.mark.parametrize(
    ("header", "name", "address"),
    [("Ana Hoxha <Ana.Hoxha@Example.ORG>", "Ana Hoxha", "ana.hoxha@example.org"),
     ('"Hoxha, Ana" <ANA@EXAMPLE.ORG>', "Hoxha, Ana", "ana@example.org"),
     ("=?utf-8?q?Qytetar_K=C3=ABrko?= <Qytetar@Mail.AL>", "Qytetar Kërko", "qytetar@mail.al"),
     ("Bare.Address@Example.org", "", "bare.address@example.org")],
)
def test_author_name_and_lowercased_address(header: str, name: str, address: str) -> None:
    parsed = parse_message(raw_mail(b"tekst", From=header))
    assert parsed.author_name == name
    assert parsed.author_email == address


def test_generated_author_is_parsed() -> None:
    mail = build(8, "plain-8bit")
    parsed = parse_message(mail.raw)
    assert parsed.author_name == "Qytetar 8"
    assert parsed.author_email == mail.sender


def test_date_is_converted_to_utc() -> None:
    parsed = parse_message(raw_mail(b"tekst", Date="Tue, 01 Sep 2020 11:30:00 +0200"))
    assert parsed.sent_at == datetime(2020, 9, 1, 9, 30, tzinfo=UTC)


def test_bad_date_is_none() -> None:
    parsed = parse_message(raw_mail(b"tekst", Date="sometime last week"))
    assert parsed.sent_at is None
    assert parsed.problem is None


def test_message_id_is_kept() -> None:
    raw = raw_mail(b"tekst")
    assert parse_message(raw).message_id == "<unit-parse@example.org>"
    assert peek_message_id(raw) == "<unit-parse@example.org>"


# ------------------------------------------------------------------ hostile sender names

@pytest.mark.parametrize("how", ["q", "b"])
@pytest.mark.parametrize("display_name", HOSTILE_NAMES)
def test_an_encoded_hostile_name_keeps_the_address_and_loses_its_control_characters(
        display_name: str, how: str) -> None:
    parsed = parse_message(hostile_mail(display_name, "Ana.Berisha@Example.AL", how))
    assert parsed.author_email == "ana.berisha@example.al"
    assert parsed.author_name == expected_name(display_name)


def test_every_xss_payload_as_an_encoded_name_keeps_the_address() -> None:
    payloads = list(xss_payloads())
    if not payloads:
        unavailable(f"XSS corpus not found at {XSS_VECTORS} (shared/corpora/xss)")
    with_line_breaks = [p for p in payloads if "\n" in p or "\r" in p]
    assert len(with_line_breaks) >= 90  # the names the parser used to lose entirely
    wrong = []
    for number, payload in enumerate(payloads):
        for how in ("q", "b"):
            parsed = parse_message(hostile_mail(payload, f"qytetar{number}@example.al", how))
            if (parsed.author_email != f"qytetar{number}@example.al"
                    or parsed.author_name != expected_name(payload)
                    or has_control_characters(parsed.author_name)):
                wrong.append((number, how, parsed.author_name, parsed.author_email))
    assert wrong == []


@pytest.mark.parametrize(
    ("header", "name", "address"),
    [("=?utf-8?q?Ana?= =?utf-8?q?_Berisha=0A?= <ana@example.al>", "Ana Berisha",
      "ana@example.al"),
     ("=?x-unknown?q?Ana=0A?= <ana@example.al>", "Ana", "ana@example.al"),
     ("=?utf-8?q?a=0A?= <x@example.al>, =?utf-8?q?b=0A?= <y@example.al>", "a",
      "x@example.al"),
     # No address at all: nothing is made up from the encoded name.
     ("=?utf-8?q?Ana=0A=3Cana@example.al=3E?=", "", ""),
     ("=?utf-8?q?Ana=0A?=", "", "")],
)
def test_raw_header_fallback(header: str, name: str, address: str) -> None:
    parsed = parse_message(raw_mail(b"tekst", From=header))
    assert (parsed.author_name, parsed.author_email) == (name, address)


def test_raw_utf8_in_a_name_is_decoded() -> None:
    parsed = parse_message(raw_mail(b"tekst", From="X <ana@example.org>").replace(
        b"From: X", "From: Ëna\x01 Hoxha".encode()))
    assert (parsed.author_name, parsed.author_email) == ("Ëna Hoxha", "ana@example.org")
