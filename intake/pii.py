"""Personal data in a citizen's text: where it is, never what to do about it.

``detect_personal_data(text, sender_names)`` returns typed, sorted, non-overlapping spans of
e-mail addresses (also written ``emri [at] domain [dot] al``), phone numbers (``phonenumbers``,
region AL), Albanian personal numbers (NID) and tax numbers (NIPT), IBANs (checksum), payment
card numbers (Luhn) and the sender's own name. Law numbers, dates, years, amounts, article and
reference numbers are not personal data and are left alone.

Pure: no database, network or clock. It decides nothing: redacting, lifting a redaction and
recording why belong to the moderation core. It must never widen a span over text that is not
the personal datum itself, and a sender whose name is also an ordinary word ("Drita",
"Besnik", "Vullnet") must not blank every sentence using that word: see :func:`find_names`.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers
from phonenumbers import Leniency, PhoneNumberMatcher
from stdnum import iban as stdnum_iban
from stdnum import luhn
from stdnum.al import nipt as stdnum_nipt

PLACEHOLDER = "[të dhëna personale / personal data]"


class Kind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    NID = "nid"  # Albanian personal number (numri personal)
    NIPT = "nipt"  # Albanian tax number (NIPT / NUIS)
    IBAN = "iban"
    CARD = "card"
    NAME = "name"  # the sender's own name


@dataclass(frozen=True)
class Span:
    kind: Kind
    start: int
    end: int
    value: str  # text[start:end]


# When two finds overlap they become one span of the more specific kind: the digits of an
# IBAN are not also a card, the name in "besnik.dedaj@posta.al" is part of the address.
_PRIORITY = (Kind.IBAN, Kind.CARD, Kind.EMAIL, Kind.NID, Kind.NIPT, Kind.PHONE, Kind.NAME)

_I = re.IGNORECASE


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def detect_personal_data(text: str, sender_names: Sequence[str] = ()) -> tuple[Span, ...]:
    """Every piece of personal data in ``text``, sorted by position, overlaps merged.

    ``sender_names`` are the display names the message came with (the ``From`` header, the
    contact form's name field); only those names are looked for, not every name.
    """
    found: list[tuple[Kind, int, int]] = []
    for finder in _FINDERS:
        found.extend(finder(text))
    found.extend(find_names(text, sender_names))
    return _merge(text, found)


def redact(text: str, spans: Iterable[Span], placeholder: str = PLACEHOLDER) -> str:
    """``text`` with each span replaced by ``placeholder`` (overlapping spans count once)."""
    pieces: list[str] = []
    position = 0
    for start, end in _union((s.start, s.end) for s in spans):
        if end <= position:
            continue
        pieces.append(text[position:max(start, position)])
        pieces.append(placeholder)
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def _union(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _merge(text: str, found: Iterable[tuple[Kind, int, int]]) -> tuple[Span, ...]:
    rank = {kind: i for i, kind in enumerate(_PRIORITY)}
    merged: list[tuple[Kind, int, int]] = []
    for kind, start, end in sorted(found, key=lambda f: (f[1], -f[2], rank[f[0]])):
        if merged and start < merged[-1][2]:
            last_kind, last_start, last_end = merged[-1]
            best = last_kind if rank[last_kind] <= rank[kind] else kind
            merged[-1] = (best, last_start, max(last_end, end))
        else:
            merged.append((kind, start, end))
    return tuple(Span(kind, start, end, text[start:end]) for kind, start, end in merged)


# ---------------------------------------------------------------- e-mail addresses

_LOCAL = r"[\w%+\-]+(?:\.[\w%+\-]+)*"
_LABEL = r"[^\W_](?:[\w\-]*[^\W_])?"
# "@", and the ways people hide it from harvesters: "[at]", "(at)", "{at}", "[et]" (how
# Albanians read "@"), "[@]", and a bare " at " between spaces. "@" takes spaces on both
# sides or none: "ndiqni @ogp.al" is a handle, not an address.
_AT = r"@|\s+@\s+|\s*[\[({<]\s*(?:at|et|@)\s*[\])}>]\s*|\s+(?:at|et)\s+"
_DOT_HIDDEN = r"\s*[\[({<]\s*(?:dot|pik[eë]|\.)\s*[\])}>]\s*|\s+(?:dot|pik[eë])\s+"
_DOT = rf"\.|\s+\.\s+|{_DOT_HIDDEN}"
_EMAIL_RE = re.compile(
    rf"(?<![\w.%+\-@])(?:{_LOCAL})(?P<at>{_AT})(?P<domain>{_LABEL}(?:(?:{_DOT}){_LABEL})+)"
    r"(?![\w@])",
    _I,
)
_DOT_RE = re.compile(_DOT, _I)
_HIDDEN_DOT_RE = re.compile(_DOT_HIDDEN, _I)
# An address whose "@" or "." is spaced or written out must end in a known top-level
# domain: "shih planin at ogp.gov" is prose, "besnik at posta dot al" is an address.
_TLDS = _words(
    "al com org net eu gov edu info io co me it gr de uk fr ch at be nl se no dk fi es pt "
    "us ca au mk rs xk ks tr hr si ba ro bg hu pl cz sk ie int biz online"
)


def find_emails(text: str) -> Iterator[tuple[Kind, int, int]]:
    position = 0
    while match := _EMAIL_RE.search(text, position):
        end = _email_end(text, match)
        if end is None:
            # "reach me at jonida [at] ...": "me at jonida" is no address, the next try is.
            position = match.start() + 1
            continue
        yield Kind.EMAIL, match.start(), end
        position = end


def _email_end(text: str, match: re.Match[str]) -> int | None:
    """Where the address ends, or None if the match is not an address after all."""
    at = match["at"]
    domain_start = match.start("domain")
    dots = list(_DOT_RE.finditer(text, domain_start, match.end()))
    # The longest run of labels that ends in an acceptable top-level domain: a spaced
    # dot may be the full stop of the sentence ("ana@posta.al . Pastaj ...").
    for count in range(len(dots), 0, -1):
        end = dots[count].start() if count < len(dots) else match.end()
        tld = text[dots[count - 1].end():end].casefold()
        used = dots[:count]
        plain = at == "@" and all(d.group() == "." for d in used)
        if not tld.isalpha() or len(tld) < 2:
            continue
        if not plain and tld not in _TLDS:
            continue
        if at.strip().casefold() in ("at", "et") and not any(
            _HIDDEN_DOT_RE.fullmatch(d.group()) for d in used
        ):
            continue  # "published at www.ogp.gov.al" is not an address
        return end
    return None


# ---------------------------------------------------------------- IBAN and payment cards

# A country code and check digits, then up to 30 letters or digits, in groups or not; the
# longest prefix that validates is the IBAN (what follows may be a word in capitals).
_IBAN_RE = re.compile(r"(?<![\w])[A-Z]{2}\d{2}(?:[ \-]?[A-Z0-9]){11,30}", _I)
_IBAN_MIN = 15  # Norway


def find_ibans(text: str) -> Iterator[tuple[Kind, int, int]]:
    for match in _IBAN_RE.finditer(text):
        candidate = match.group()
        # The country fixes the length, so at most one prefix can validate.
        for end in range(len(candidate), 0, -1):
            if not candidate[end - 1].isalnum():
                continue
            compact = stdnum_iban.compact(candidate[:end])
            if len(compact) < _IBAN_MIN:
                break
            if stdnum_iban.is_valid(compact):
                yield Kind.IBAN, match.start(), match.start() + end
                break


_CARD_RE = re.compile(r"(?<![\w.,/+\-])\d(?:[ \-]?\d){12,18}(?![\w]|[.,/\-]\d)")
# What an IBAN starts with: digits right after it are the account, not a card.
_IBAN_HEAD = re.compile(r"[A-Z]{2}\d{2}[ \-]?$", _I)


def find_cards(text: str) -> Iterator[tuple[Kind, int, int]]:
    for match in _CARD_RE.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        # Issuers' first digits: 2 and 5 Mastercard, 3 Amex/Diners/JCB, 4 Visa, 6 Discover,
        # Maestro, UnionPay. Reference numbers starting 0, 1, 7-9 are not cards.
        if digits[0] not in "23456" or not luhn.is_valid(digits):
            continue
        if _IBAN_HEAD.search(text, max(0, match.start() - 6), match.start()):
            continue
        yield Kind.CARD, match.start(), match.end()


# ---------------------------------------------------------------- NID and NIPT

# Letter for the decade (A = 1900s ... M = 2020s), year digit, month (01-12, or 51-62 for
# women), day, three serial digits, check letter (the check algorithm is not public). NIPTs
# of people are their personal number; those of companies put a region in the month field.
_ID_RE = re.compile(r"(?<![\w\-])([A-M])[ ]?(\d)(\d\d)(\d\d)(\d{3})[ ]?([A-Z])(?![\w\-])", _I)
_TAX_CUE = re.compile(
    r"\b(?:nipt|nuis|tatim\w*|tax|vat|tvsh|biznes\w*|business|subjekt\w*|kompani\w*"
    r"|company|shoq[eë]ri\w*|sh\.?p\.?k)\b"
)
_PERSON_CUE = re.compile(
    r"\b(?:nid|id|numri?\s+personal|nr\.?\s+personal|personal\s+(?:id\s+)?(?:number|no)"
    r"|let[eë]rnjoftim\w*|kart\w*\s+(?:e\s+)?identitetit|identity|pasaport\w*|passport)\b"
)


def _birth_date_valid(decade: str, year: str, month: str, day: str) -> bool:
    full_year = 1900 + 10 * (ord(decade.upper()) - ord("A")) + int(year)
    month_number = int(month)
    if 51 <= month_number <= 62:  # women's months are shifted by 50
        month_number -= 50
    if not 1 <= month_number <= 12:
        return False
    return 1 <= int(day) <= calendar.monthrange(full_year, month_number)[1]


def find_personal_numbers(text: str) -> Iterator[tuple[Kind, int, int]]:
    folded = _lower(text)
    for match in _ID_RE.finditer(text):
        if not stdnum_nipt.is_valid(re.sub(r"\s", "", match.group()).upper()):
            continue
        before = folded[max(0, match.start() - 40):match.start()]
        tax = _last_cue(_TAX_CUE, before)
        person = _last_cue(_PERSON_CUE, before)
        if tax > person:
            kind = Kind.NIPT
        elif person > tax or _birth_date_valid(*match.group(1, 2, 3, 4)):
            kind = Kind.NID
        else:
            kind = Kind.NIPT
        yield kind, match.start(), match.end()


def _last_cue(pattern: re.Pattern[str], before: str) -> int:
    """Where the last cue ends in ``before`` (-1 if none): the nearest cue names the number."""
    return max((m.end() for m in pattern.finditer(before)), default=-1)


# ---------------------------------------------------------------- phone numbers

# Said just before a number, these make it a phone ...
_PHONE_CUE = re.compile(
    r"\b(?:tel\w*|cel\w*|mob\w*|gsm|phone\w*|whats\s?app|viber|signal|sms|fax|faks"
    r"|call|thirr\w*|kontakt\w*|contact|reach|numr\w*\s+(?:im|tim|e\s+mi)|nr\.?\s+(?:im|tim)"
    r"|my\s+number|number\s+is)\b"
)
# ... and these make a number that would be a valid phone a reference, an act, an invoice.
# A bare "nr." is neither: "më gjeni në nr. 069 ..." is a phone, and a phone is the safe
# guess.
_REFERENCE_CUE = re.compile(
    r"\b(?:prot\w*|ref\w*|vendim\w*|ligj\w*|law|vkm|dcm|urdh[eë]r\w*|kod\w*|code"
    r"|fatur\w*|invoice|kontrat\w*|contract|dosj\w*|case|ticket|akt|akti|aktit|aktin"
    r"|shkres\w*|regjist\w*|aplikim\w*|application|ankes\w*|complaint|k[eë]rkes\w*"
    r"|request|isbn|issn|serial|serisë|serise|llogari\w*|account|porosi\w*|order"
    r"|pages\w*|transaksion\w*|transaction|certifikat\w*|licenc\w*|leje\w*|permit"
    r"|barkod\w*|artikull\w*|neni|article|pika|gjobe\w*|gjobë\w*|fine)\b"
)
# Numbers that are something else; a phone match overlapping one of these is dropped.
_NOT_PHONE = re.compile(
    r"(?:(?<![\d.])\d{1,2}[./\-]\d{1,2}[./\-](?:\d{4}|\d{2})"  # 12.03.2021, 12/3/21
    r"|(?<![\d.])\d{4}[./\-]\d{1,2}[./\-]\d{1,2}"  # 2021-03-12
    r"|(?<!\d)\d{1,6}/(?:19|20)\d{2}"  # ligji nr. 119/2014
    r"|(?<!\d)(?:19|20)\d{2}\s?[\-–]\s?(?:19|20)\d{2})(?!\d|[./\-]\d)"  # 2020-2022
    r"|(?:[€$£]|\b(?:eur|euro|usd|all|lek[eë]?)\b)\s?\d{1,3}(?:[ .,\u00a0']\d{3})*(?:[.,]\d+)?"
    r"|(?<![\d.,])\d{1,3}(?:[ .,\u00a0']\d{3})*(?:[.,]\d+)?\s?"
    r"(?:[€$£]|lek[eë]?\b|eur\w*|usd\b|dollar\w*|milion\w*|million\w*|miliard\w*"
    r"|billion\w*|mij[eë]\b|thousand\b)",
    _I,
)
_MIN_CUED_DIGITS = 8


def find_phones(text: str) -> Iterator[tuple[Kind, int, int]]:
    """Numbers ``phonenumbers`` holds valid (region AL), unless a reference cue precedes them;
    numbers it holds only possible (an unassigned range, a typo) when a phone cue does."""
    lowered = _lower(text)
    blocked = [(m.start(), m.end()) for m in _NOT_PHONE.finditer(text)]
    taken: list[tuple[int, int]] = []
    for leniency in (Leniency.VALID, Leniency.POSSIBLE):
        for match in PhoneNumberMatcher(text, "AL", leniency=leniency):
            start, end = _balanced(text, match.start, match.end)
            if any(start < e and s < end for s, e in [*blocked, *taken]):
                continue
            if _glued(text, start, end):
                continue
            cue = _phone_cue(text, lowered, start, taken)
            if cue == "reference":
                continue
            if not phonenumbers.is_valid_number(match.number) and (
                cue != "phone" or sum(c.isdigit() for c in match.raw_string) < _MIN_CUED_DIGITS
            ):
                continue
            taken.append((start, end))
            yield Kind.PHONE, start, end


def _balanced(text: str, start: int, end: int) -> tuple[int, int]:
    """Without a bracket that does not close inside the number: "(0684567812)"."""
    if text[start] == "(" and ")" not in text[start:end]:
        start += 1
    if text[end - 1] == ")" and "(" not in text[start:end]:
        end -= 1
    return start, end


def _glued(text: str, start: int, end: int) -> bool:
    """A number stuck to a code ("OGP-2021-0692345678") or to letters is not a phone."""
    before = text[max(0, start - 2):start]
    after = text[end:end + 2]
    return bool(re.search(r"\w[\-/]?\Z", before) or re.match(r"[\-/]?\w", after))


# A sentence ends before a capital; "tel. 069" and "Nr. prot. 069" go on.
_SENTENCE_BREAK = re.compile(r"[.!?;]\s+(?=[A-ZÇË])|\n")


def _phone_cue(text: str, lowered: str, start: int,
               taken: list[tuple[int, int]]) -> str | None:
    """The nearest cue before the number, in its sentence and after the previous phone."""
    window_start = max([0, start - 40, *(e for s, e in taken if e <= start)])
    window_start = max([window_start, *(m.end() for m in _SENTENCE_BREAK.finditer(
        text, window_start, start))])
    window = lowered[window_start:start]
    phone = _last_cue(_PHONE_CUE, window)
    reference = _last_cue(_REFERENCE_CUE, window)
    if phone < 0 and reference < 0:
        return None
    return "phone" if phone >= reference else "reference"


def _lower(text: str) -> str:
    """``text`` in lower case, one character for one ("İ" lowers to two)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c.lower()[:1] or c for c in text)


# ---------------------------------------------------------------- the sender's own name

# Names that are also ordinary words (Albanian, English), towns, rivers and historical
# figures that are also names, and frequent surnames that are also nouns. Alone in running
# text they are the word, not the person: see find_names. Folded (no case, no ë/ç).
COMMON_WORDS = _words(
    """
    ana mali mal drita dita dite era bora shpresa shprese lule lulja luljeta diell dielli
    yll ylli hena qiell bardh bardhi bardha mira mire zana deti det guri gur kodra lumi
    luma pema fusha bukuri bukura mimoza vjollca manushaqe lulezim shpetim fitim fitore
    gezim gezime agim bujar sokol shqipe shqiponja arta ari engjell pellumb vera pranvera
    dashuri fat fatbardh blerta blerim kaltrina rreze valbona drin buna lumturi ardit
    besnik besa besim burim qendrim vullnet perparim lirim liri liria flamur fatos bekim
    deshira shkelqim durim nderim ndricim kujtim mentor fisnik dashamir shpend petrit
    trim trimi arsim ylber zgjim shpresim bukurosh lindita dritan agron ilir iliriana
    genc mirela teuta luan mirele kastriot skender skenderbe gjergj
    hoxha kola shehu gjoni mulla papa dervishi bajraktari kastrati gega toska leka prifti
    kovaci murati malaj lika deda marku frasheri kelmendi krasniqi mjeshtri kadiu
    shkodra berati elbasani vlora korca kruja durresi tirana fieri lezha kukesi prizreni
    dibra tropoja kosova gjirokastra sarande saranda pogradeci
    will rose mark grace hope faith joy may june april august bill frank smith brown white
    black green young king bush baker ray dawn summer autumn sky lily ruby pearl jack sue
    pat rob art earl guy miles chase hunter wade bob penny victoria jordan georgia paris
    holly ivy daisy sunny star robin sandy rich lane
    """
)
# A display name holding one of these is an organisation's ("Shoqata Mjedisi"): its words
# are ordinary nouns and count only together, never one by one.
ORGANISATION_WORDS = _words(
    """
    shoqata qendra qendror fondacioni fondacion instituti rrjeti levizja forumi
    komuniteti grupi klubi partia bashkia ministria agjencia sekretariati zyra info
    kontakt admin ogp organizata koalicioni aleanca unioni sindikata dhoma
    association centre center foundation institute network forum group club team office
    contact secretariat council committee coalition alliance union chamber ngo
    """
)
# Titles and particles that are not the name ("Dr. Besnik Dedaj" signs "Besnik Dedaj").
_TITLES = _words("dr prof z znj zj zoti zonja mr mrs ms miss sir av ing msc phd")
# Albanian case endings a name takes in running text ("Dedajt", "Besnikut", "Elonës").
_SUFFIXES = ("i", "u", "it", "ut", "in", "un", "ve", "t", "n", "s", "ne", "se", "es", "en")
_VOWEL_SUFFIXES = ("es", "en", "e", "ese")
_MIN_INFLECTED = 4
_MIN_LONE_LETTERS = 3

_WORD_RE = re.compile(r"[^\W\d_]+")
_ADDRESS = re.compile(r"<[^>]*>|\S+@\S+|\([^)]*\)|\[[^\]]*\]")
# How a letter closes before the signature, folded. Formal closings stand alone; the
# everyday ones ("Faleminderit", "Best") only when punctuation or the line's end follows,
# so "faleminderit për kohën" is a sentence, not a closing.
_CLOSING = re.compile(
    r"(?:^|(?<=[.!?\n]))[ \t]*(?:-+[ \t]*)?"
    r"(?:(?:me\s+respekt|me\s+rrespekt|me\s+nderime|me\s+te\s+mira|gjithe\s+te\s+mirat"
    r"|me\s+mirenjohje|perzemersisht|sinqerisht|(?:best|kind|warm|warmest)\s+(?:regards|wishes)"
    r"|(?:yours\s+)?sincerely|yours\s+(?:faithfully|truly)|respectfully|with\s+thanks)\b"
    r"[ \t]*[,.!:\-–—]*"
    r"|(?:respekte|te\s+fala|(?:ju\s+)?faleminderit|pershendetje|regards|best|(?:many\s+)?thanks"
    r"|thank\s+you|cheers|signed)[ \t]*(?:[,.!:\-–—]+|(?=\n|$)))"
)
# What follows a closing is a signature only when it is short.
_SIGNATURE_MAX_LINES = 3
_SIGNATURE_MAX_CHARS = 100
_TRAILING_LINES = 3
# "Emri: Drita", "my name is Drita", "unë jam Drita", "Unë, Drita, ...": a name follows.
_NAME_CUE = re.compile(
    r"(?:\bemri(?:\s+im)?(?:\s+eshte)?|\bemer|\bname(?:\s+is)?|\bquhem|\bjam|\bi\s+am|\bi'm"
    r"|\bune\s*,|\bsigned|\bnenshkruar)[ \t]*[:,]?[ \t]*$"
)
# What may end a run of words before a name that closes the text ("... 8741. Gezim").
_BEFORE_LAST_NAME = re.compile(r"(?:^|[.!?\n]|\s[-–—])[ \t]*$")
_RUN_GAP = re.compile(r"[ \t]*,?[ \t]*|[ \t]*[-–][ \t]*")


@dataclass(frozen=True)
class _Token:
    start: int  # in the folded text
    end: int  # for an initial, after its dot
    word: str | None  # the name's word this token spells, None for an initial
    initial: str = ""  # the letter of an initial ("B." in "B. Dedaj")


def name_words(sender_names: Iterable[str]) -> frozenset[str]:
    """The folded words of the sender's names: no address, asides, titles or initials."""
    words: set[str] = set()
    for name in sender_names:
        for word in _WORD_RE.findall(_fold(_ADDRESS.sub(" ", name))[0]):
            if len(word) >= 2 and word not in _TITLES:
                words.add(word)
    return frozenset(words)


def find_names(text: str, sender_names: Sequence[str]) -> Iterator[tuple[Kind, int, int]]:
    """The sender's name wherever it is written; the rule for a lone word of the name.

    - Two or more words of the name next to each other, or a word and an initial of
      another ("Besnik Dedaj", "DEDAJ, Besnik", "Besnik A. Dedaj", "B. Dedaj"), are always
      the name: any case, with or without ë/ç.
    - One word alone is the name in the signature: after a closing ("Me respekt,", "Best
      regards,") when what follows is short; on one of the last lines when that line holds
      nothing but the name; and when it ends the text after a full stop ("... 8741. Gezim").
    - Elsewhere a lone word of three letters or more that is not an ordinary word
      (``COMMON_WORDS``) is the name, in any case and with an Albanian case ending
      ("Dedajt", "Elonës").
    - An ordinary word ("drita", the light; "besnik", loyal; "Valbona", the river; "Teuta",
      the queen) alone in running text is the name only right after "Emri:", "unë jam",
      "Unë,", "my name is", "I am", written exactly: "Drita në rrugë është fikur", "Lumi
      Valbona" and "vullneti politik" stay. The price: "Mr Smith" in Mark Smith's own text
      stays too.
    - The words of an organisation's name ("Shoqata Mjedisi") count only together.
    """
    words = name_words(sender_names)
    if not words or not text:
        return
    folded, origin = _fold(text)
    tokens = _name_tokens(folded, words)
    if not any(t.word for t in tokens):
        return
    organisation = not words.isdisjoint(ORGANISATION_WORDS)
    signature = _signature_ranges(folded, tokens)
    for run in _runs(folded, tokens, {w[0] for w in words}):
        named = [t for t in run if t.word]
        distinct = {t.word for t in named} | {
            t.initial for t in run if t.initial and not any(
                (n.word or "").startswith(t.initial) for n in named)
        }
        if len(distinct) < 2:
            first = named[0]
            if organisation or not _lone_word_counts(text, folded, origin, first, signature):
                continue
        yield Kind.NAME, origin[run[0].start], _origin_end(text, origin, run[-1].end)


def _name_tokens(folded: str, words: frozenset[str]) -> list[_Token]:
    """Every word of the text: the name's word it spells, or an initial, or neither."""
    tokens: list[_Token] = []
    for match in _WORD_RE.finditer(folded):
        token = match.group()
        if len(token) == 1 and folded.startswith(".", match.end()):
            tokens.append(_Token(match.start(), match.end() + 1, None, token))
        else:
            tokens.append(_Token(match.start(), match.end(), _name_word(token, words)))
    return tokens


def _runs(folded: str, tokens: list[_Token], initials: set[str]) -> Iterator[list[_Token]]:
    """Runs of the name's words and initials, with at least one word; initials at either
    end belong to the run only when they are the initial of one of the name's words."""
    run: list[_Token] = []
    for token in [*tokens, _Token(len(folded), len(folded), None)]:
        if token.word or token.initial:
            gap = folded[run[-1].end:token.start] if run else ""
            if run and not _RUN_GAP.fullmatch(gap):
                yield from _trimmed(run, initials)
                run = []
            run.append(token)
        else:
            yield from _trimmed(run, initials)
            run = []


def _trimmed(run: list[_Token], initials: set[str]) -> Iterator[list[_Token]]:
    named = [k for k, t in enumerate(run) if t.word]
    if not named:
        return
    first, last = named[0], named[-1]
    while first > 0 and run[first - 1].initial in initials:
        first -= 1
    while last + 1 < len(run) and run[last + 1].initial in initials:
        last += 1
    yield run[first:last + 1]


def _name_word(token: str, words: frozenset[str]) -> str | None:
    """The word of the name ``token`` spells, exactly or with an Albanian case ending."""
    if token in words:
        return token
    for word in words:
        if len(word) < _MIN_INFLECTED or word in COMMON_WORDS:
            continue
        if token.startswith(word) and token[len(word):] in _SUFFIXES:
            return word
        if word[-1] in "aeo" and token.startswith(word[:-1]) and (
            token[len(word) - 1:] in _VOWEL_SUFFIXES
        ):
            return word
    return None


def _lone_word_counts(text: str, folded: str, origin: list[int], token: _Token,
                      signature: list[tuple[int, int]]) -> bool:
    if any(s <= token.start < e for s, e in signature):
        return True
    word = token.word or ""
    if word not in COMMON_WORDS and len(word) >= _MIN_LONE_LETTERS:
        return True
    # An ordinary word counts neither inflected ("dritën") nor without a cue.
    return folded[token.start:token.end] == word and bool(
        _NAME_CUE.search(folded, max(0, token.start - 20), token.start)
    )


def _signature_ranges(folded: str, tokens: list[_Token]) -> list[tuple[int, int]]:
    """Where the signature is: a short tail after a closing, trailing lines holding only the
    name, and a name that ends the text after a full stop."""
    ranges: list[tuple[int, int]] = []
    closings = list(_CLOSING.finditer(folded))
    if closings:
        tail = folded[closings[-1].end():].strip()
        if len(tail) <= _SIGNATURE_MAX_CHARS and tail.count("\n") < _SIGNATURE_MAX_LINES:
            ranges.append((closings[-1].end(), len(folded)))
    lines = [(m.start(), m.end()) for m in re.finditer(r"[^\n]*\S[^\n]*", folded)]
    for start, end in lines[-_TRAILING_LINES:]:
        inside = [t for t in tokens if start <= t.start < end]
        if any(t.word for t in inside) and all(t.word or t.initial for t in inside):
            ranges.append((start, end))
    # "... nuk mora përgjigje. Gezim": the last words, if they are the name's, after a stop.
    last = len(tokens)
    while last > 0 and (tokens[last - 1].word or tokens[last - 1].initial):
        last -= 1
    if last < len(tokens) and _BEFORE_LAST_NAME.search(folded, 0, tokens[last].start) and (
        not folded[tokens[-1].end:].strip(" \t\n.!,;")
    ):
        ranges.append((tokens[last].start, len(folded)))
    return ranges


# ---------------------------------------------------------------- folding


class _Folder(dict[int, str]):
    """``str.translate`` table: no case, no accents ("Ë" -> "e"), filled as characters come."""

    def __missing__(self, codepoint: int) -> str:
        decomposed = unicodedata.normalize("NFKD", chr(codepoint))
        folded = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
        self[codepoint] = folded
        return folded


_FOLD = _Folder()


def _fold(text: str) -> tuple[str, list[int]]:
    """``text`` folded, and for each folded character the index of its original."""
    folded = text.translate(_FOLD)
    if len(folded) == len(text):
        return folded, list(range(len(text)))
    origin: list[int] = []
    for index, char in enumerate(text):
        origin.extend([index] * len(char.translate(_FOLD)))
    return folded, origin


def _origin_end(text: str, origin: list[int], end: int) -> int:
    position = origin[end - 1] + 1
    # Combining accents written after the last letter ("e" + U+0308) belong to the name.
    while position < len(text) and unicodedata.combining(text[position]):
        position += 1
    return position


_FINDERS: tuple[Callable[[str], Iterator[tuple[Kind, int, int]]], ...] = (
    find_emails,
    find_ibans,
    find_cards,
    find_personal_numbers,
    find_phones,
)
