"""Text as the citizen meant it: the mail client's line breaks joined, the writer's kept.

The corpus test runs every message of ``shared/corpora/messages.txt`` through ``reflow``:
no word is lost or reordered, quoted lines come out unchanged, list items still start a
line, and hard-wrapped prose is joined somewhere (else the width test would be off).
"""

from __future__ import annotations

import textwrap

import pytest

from intake.parse import parse_message
from intake.reflow import Paragraph, reflow, wrap_width
from intake.sanitize import display_html
from tests.conftest import CORPORA, unavailable


def lines_of(text: str) -> list[tuple[str, ...]]:
    return [paragraph.lines for paragraph in reflow(text)]


def wrapped(text: str, width: int = 72) -> str:
    """``text`` as a mail client sends it: hard-wrapped at ``width``."""
    return textwrap.fill(" ".join(text.split()), width)


PROPOSAL_SQ = (
    "Propozoj që portali i të dhënave të hapura të publikojë çdo muaj buxhetin e bashkive "
    "në format CSV, jo vetëm në PDF, që gazetarët dhe qytetarët ta krahasojnë shpenzimin "
    "ndër vite pa e rishkruar me dorë. Kjo do ta bënte angazhimin 4 të matshëm."
)
PROPOSAL_EN = (
    "The integrity plans of the ministries should be published together with the annual "
    "monitoring reports, so that civil society can see which risks were identified, which "
    "measures were taken and whether the deadlines in the action plan were met."
)


# ------------------------------------------------------------------ joined

def test_hard_wrapped_albanian_paragraph_becomes_one_line() -> None:
    text = wrapped(PROPOSAL_SQ)
    assert len(text.splitlines()) >= 3
    assert lines_of(text) == [(" ".join(PROPOSAL_SQ.split()),)]


@pytest.mark.parametrize("width", [60, 66, 72, 76, 78])
def test_any_client_width_is_recognised(width: int) -> None:
    text = wrapped(PROPOSAL_EN, width) + "\n\n" + wrapped(PROPOSAL_SQ, width)
    assert lines_of(text) == [(" ".join(PROPOSAL_EN.split()),), (" ".join(PROPOSAL_SQ.split()),)]


def test_paragraphs_stay_paragraphs() -> None:
    text = wrapped(PROPOSAL_SQ) + "\n\n" + wrapped(PROPOSAL_EN)
    assert len(reflow(text)) == 2


def test_lines_a_little_short_of_the_width_are_still_joined() -> None:
    """Clients count the width a little differently: the next word would not have fitted
    within a few columns of the longest line."""
    text = (
        "Your message was not delivered because the destination computer was\n"
        "not reachable within the allowed queue period.  The amount of time\n"
        "a message is queued before it is returned depends on local settings."
    )
    assert len(lines_of(text)[0]) == 1


def test_a_word_hyphenated_at_the_margin_is_one_word_again() -> None:
    text = (
        "Ministria duhet të publikojë raportet e monitorimit të planeve të integri-\n"
        "tetit çdo gjashtë muaj, bashkë me të dhënat e plota të buxhetit të saj për\n"
        "vitin që vjen dhe me shpjegimin e çdo ndryshimi të madh në shpenzime."
    )
    assert lines_of(text) == [(
        "Ministria duhet të publikojë raportet e monitorimit të planeve të integri-tetit çdo "
        "gjashtë muaj, bashkë me të dhënat e plota të buxhetit të saj për vitin që vjen dhe "
        "me shpjegimin e çdo ndryshimi të madh në shpenzime.",
    )]


def test_a_wrapped_list_item_keeps_its_continuation() -> None:
    text = (
        "Kam dy propozime për planin e veprimit të vitit 2020-2022 të qeverisë:\n"
        "\n"
        "- Të publikohen të gjitha kontratat e prokurimit publik në portalin e\n"
        "  të dhënave të hapura, me çmimin dhe fituesin e secilës kontratë.\n"
        "- Bashkitë të raportojnë çdo tre muaj."
    )
    assert lines_of(text) == [
        ("Kam dy propozime për planin e veprimit të vitit 2020-2022 të qeverisë:",),
        ("- Të publikohen të gjitha kontratat e prokurimit publik në portalin e të dhënave "
         "të hapura, me çmimin dhe fituesin e secilës kontratë.",
         "- Bashkitë të raportojnë çdo tre muaj."),
    ]


# ------------------------------------------------------------------ kept

@pytest.mark.parametrize("marker", ["-", "*", "•", "1.", "2)", "a)", "b."])
def test_list_items_stay_on_their_lines(marker: str) -> None:
    text = (
        "Propozimet e mia për angazhimin numër katër të planit janë këto që vijojnë:\n"
        f"{marker} buxheti i bashkive në format të hapur\n"
        f"{marker} kontratat e prokurimit me fituesin\n"
        f"{marker} raportet e auditimit"
    )
    assert lines_of(text) == [tuple(text.splitlines())]


def test_quoted_lines_stay_as_they_are() -> None:
    quote = (
        "> Sekretariati: angazhimi 4 do të zbatohet nga Agjencia Kombëtare e Shoqërisë\n"
        "> së Informacionit deri në fund të vitit 2021, sipas planit të miratuar."
    )
    text = wrapped(PROPOSAL_SQ) + "\n" + quote
    paragraphs = lines_of(text)
    assert paragraphs[0][-2:] == tuple(quote.splitlines())
    assert paragraphs[0][0] == " ".join(PROPOSAL_SQ.split())


def test_signature_block_in_albanian_stays_line_by_line() -> None:
    signature = (
        "Me respekt,\n"
        "Arbër Hoxha\n"
        "Rruga e Durrësit, Pallati 12, Tiranë\n"
        "Tel: +355 69 123 4567"
    )
    text = wrapped(PROPOSAL_SQ) + "\n" + signature
    assert lines_of(text) == [(" ".join(PROPOSAL_SQ.split()), *signature.splitlines())]


def test_closing_line_after_a_full_last_line_is_not_swallowed() -> None:
    """The paragraph's last line may be full; "Faleminderit," still stands alone."""
    body = ("Ju lutem ta merrni parasysh këtë propozim gjatë rishikimit të draftit të\n"
            "planit kombëtar të veprimit për partneritetin për qeverisje të hapur sot")
    text = body + "\nFaleminderit,\nElira Çela"
    assert lines_of(text) == [(" ".join(body.split()), "Faleminderit,", "Elira Çela")]


def test_english_signature_after_a_sentence_stays_apart() -> None:
    text = (
        wrapped(PROPOSAL_EN)
        + "\nKind regards,\nJohn Smith\nInstitute for Democracy and Mediation\n+355 4 240 0241"
    )
    paragraphs = lines_of(text)
    assert paragraphs[0][1:] == (
        "Kind regards,", "John Smith", "Institute for Democracy and Mediation",
        "+355 4 240 0241",
    )


def test_short_address_block_after_a_full_line_stays_apart() -> None:
    text = (
        "Ju lutem më dërgoni përgjigjen me postë në adresën time të shtëpisë, kjo:\n"
        "Lagjja 5, Rruga Skënderbeu\n"
        "Durrës 2001"
    )
    # The first line ends with ":" and two short lines follow: an address, not a wrap.
    assert lines_of(text) == [tuple(text.splitlines())]


def test_short_lines_are_never_joined() -> None:
    assert lines_of("rresht 1\nrresht 2\n\nparagraf 2") == [("rresht 1", "rresht 2"),
                                                          ("paragraf 2",)]


def test_a_text_with_long_unwrapped_lines_is_left_as_typed() -> None:
    """A web form or a modern client sends one line a paragraph: its line breaks are
    the writer's, even where a line happens to be about 70 characters long."""
    long_line = " ".join(PROPOSAL_SQ.split())
    text = (
        long_line + "\n"
        "Kjo është fjalia që shkrova në një rresht të veçantë, me qëllim, pra.\n"
        "Dhe kjo është tjetra, gjithashtu e shkruar më vete nga unë."
    )
    assert lines_of(text) == [tuple(text.splitlines())]


def test_lines_that_each_end_a_sentence_are_kept() -> None:
    text = (
        "Mesazhi juaj për ministrinë u vonua dhe ende pret dorëzimin sot.\n"
        "Serveri i marrësit nuk u përgjigj për dymbëdhjetë orë radhazi.\n"
        "Do të provojmë përsëri për nëntëdhjetë e gjashtë orë të tjera.\n"
        "Nuk keni nevojë të bëni asgjë tani."
    )
    assert lines_of(text) == [tuple(text.splitlines())]


def test_everything_after_the_signature_separator_is_kept() -> None:
    text = (
        wrapped(PROPOSAL_EN)
        + "\n\n--\nShoqata për Qeverisje të Hapur, Bulevardi Dëshmorët e Kombit, Tiranë, Shqipëri\n"
        "Anëtare e rrjetit të organizatave të shoqërisë civile për transparencë"
    )
    assert lines_of(text)[-1] == tuple(text.split("\n\n")[-1].splitlines())


def test_columns_laid_out_with_spaces_stay() -> None:
    text = (
        "Emri               Institucioni                      Telefoni\n"
        "Arbër Hoxha        Ministria e Drejtësisë            04 222 333\n"
        "Elira Çela         Agjencia e Shoqërisë së Informacionit  04 222 444"
    )
    assert lines_of(text) == [tuple(text.splitlines())]


def test_a_whole_albanian_mail() -> None:
    """Greeting, wrapped body, a numbered list with a wrapped item, closing, name, address,
    phone and the phone's footer: only the client's breaks go."""
    body = ("Ju shkruaj në lidhje me angazhimin 4 të planit, për zgjerimin e portalit të të "
            "dhënave të hapura. Mendoj se bashkitë duhet të publikojnë buxhetin dhe kontratat "
            "çdo tre muaj, në format CSV, dhe jo vetëm në PDF siç ndodh sot në shumicën e "
            "rasteve.")
    text = (
        "Të nderuar,\n" + wrapped(body, 76) + "\n"
        "1. Buxheti vjetor i bashkisë, i ndarë sipas programeve dhe njësive\n"
        "administrative, me shpenzimet faktike.\n"
        "2. Kontratat.\n"
        "\n"
        "Faleminderit për vëmendjen,\n"
        "Arben Hoxha\n"
        "Bashkia Shkodër, Lagjja Vojo Kushi\n"
        "Cel: 069 12 34 567\n"
        "\n"
        "Sent from my iPhone"
    )
    assert lines_of(text) == [
        ("Të nderuar,", body,
         "1. Buxheti vjetor i bashkisë, i ndarë sipas programeve dhe njësive administrative, "
         "me shpenzimet faktike.",
         "2. Kontratat."),
        ("Faleminderit për vëmendjen,", "Arben Hoxha", "Bashkia Shkodër, Lagjja Vojo Kushi",
         "Cel: 069 12 34 567"),
        ("Sent from my iPhone",),
    ]


# ------------------------------------------------------------------ the helper itself

def test_wrap_width_is_the_longest_prose_line() -> None:
    text = wrapped(PROPOSAL_SQ, 66)
    assert wrap_width(text.splitlines()) == max(len(line) for line in text.splitlines())


@pytest.mark.parametrize("text", ["", "një rresht", "a\nb\nc", " " * 80 + "\n" + "x" * 80])
def test_wrap_width_is_none_for_unwrapped_text(text: str) -> None:
    assert wrap_width(text.splitlines()) is None


def test_blank_lines_with_spaces_separate_paragraphs() -> None:
    assert reflow("një\n   \ndy\r\n\r\ntre") == [Paragraph(("një",)), Paragraph(("dy",)),
                                                 Paragraph(("tre",))]


def test_html_shows_one_paragraph_for_a_wrapped_mail() -> None:
    html = display_html(wrapped(PROPOSAL_SQ) + "\n\nMe respekt,\nArbër Hoxha")
    assert html == (
        f"<p>{' '.join(PROPOSAL_SQ.split())}</p>\n<p>Me respekt,<br>\nArbër Hoxha</p>\n"
    )


# ------------------------------------------------------------------ real mail

def corpus_texts() -> list[tuple[str, str]]:
    listing = CORPORA / "messages.txt"
    if not listing.is_file():
        unavailable(f"the shared corpora are not at {CORPORA}")
    names = [line.strip() for line in listing.read_text().splitlines() if line.strip()]
    return [(name, parse_message((CORPORA / name).read_bytes()).text) for name in names]


def test_corpus_text_is_never_lost_or_reordered() -> None:
    """Every word stays, in order; quoted lines and list items come out as they went in."""
    problems = []
    joined_somewhere = 0
    for name, text in corpus_texts():
        paragraphs = reflow(text)
        out_lines = [line for paragraph in paragraphs for line in paragraph.lines]
        # Whitespace is all reflow may change.
        if "".join(text.split()) != "".join("".join(line.split()) for line in out_lines):
            problems.append(f"{name}: words changed")
        kept = set(out_lines)
        for line in text.splitlines():
            # A quoted line comes out exactly; a list item starts a line (its wrapped
            # continuation may follow it).
            if line.lstrip().startswith(">") and line.rstrip() not in kept:
                problems.append(f"{name}: {line[:60]!r} not kept as a line")
            if line.startswith(("- ", "* ", "• ")) and not any(
                out.startswith(line.rstrip()) for out in out_lines
            ):
                problems.append(f"{name}: {line[:60]!r} does not start a line")
        if len(out_lines) < sum(1 for line in text.splitlines() if line.strip()):
            joined_somewhere += 1
    assert problems == []
    # Much of the corpus is hard-wrapped prose: if nothing were joined, reflow would be off.
    assert joined_somewhere >= 30
