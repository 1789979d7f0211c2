"""Plain text as the citizen meant it: which line breaks are theirs and which the mail client's.

A mail client wraps long lines at a fixed width (60-78 characters); shown as is, the text
becomes a narrow column of short lines. ``reflow`` joins the lines the client broke and keeps
the breaks the citizen typed: list items, quoted lines (``>``) the moderator kept, a
signature-like block of short lines (greeting or closing, name, address, phone).

Pure and linear in the length of the text: no markup, no I/O. The HTML is made by
``intake.sanitize.text_to_safe_html``.

The test of a wrapped line is the one the client applied: a line was broken by the client
when the next line's first word would not have fitted on it. The width is estimated from the
text itself (its longest prose line); a text with prose lines longer than any client wraps
(a web form, an unwrapped mail) or too few lines near that width is left as typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Clients wrap at 60-78 columns; below MIN_WIDTH nothing is taken for hard-wrapped, and a
# prose line longer than MAX_WIDTH means the text was not wrapped by a client at all.
MIN_WIDTH = 50
MAX_WIDTH = 100
# Clients count the width a little differently (the trailing space, a tab): the next word
# "would not have fitted" within this many columns of the longest line.
SLACK = 3
# A line shorter than this share of the width is never joined to the next one (the next
# word must not fit, and the line must be reasonably full: a long URL after a short line).
FULL_SHARE = 0.6
# How many lines must come close to the width (within NEAR columns) before a text counts
# as hard-wrapped: one long line followed by another is not evidence.
NEAR = 12
MIN_NEAR_LINES = 2
# A line shorter than this share of the width is "short" (signatures, addresses).
SHORT_SHARE = 0.5

_LIST_ITEM = re.compile(r"\s*(?:[-*•–·+]\s+|\d{1,2}[.)]\s+|[a-z][.)]\s+|\(\w{1,2}\)\s+)")
# "Message-ID:", "From: ..." of a forwarded or quoted original the moderator kept.
_HEADER = re.compile(
    r"(?:[A-Z][A-Za-z]*-)+[A-Za-z]+:|(?:From|To|Cc|Bcc|Subject|Date|Sent|Received|Nga|P[eë]r|"
    r"D[eë]rguar|Tema|L[eë]nda|Subjekti|Data):\s"
)
_HYPHENATED = re.compile(r"[^\W\d_]{2}-$")
_SENTENCE_END = (".", "!", "?", ":", ";")
_QUOTE = re.compile(r"\s*>")
_SIGNATURE_SEPARATOR = re.compile(r"(?:--|__+|-{3,})\s*$")
# Closings and greetings in Albanian and English, alone on their line.
_SALUTATION = re.compile(
    r"\s*(?:(?:ju\s+)?falem(?:i)?nderit(?:\s+shum[eë])?|me\s+(?:shum[eë]\s+)?respekt|"
    r"me\s+nderime|p[eë]rsh[eë]ndetje|t[eë]\s+fala|"
    r"(?:best\s+|kind\s+|warm\s+)?regards|best|sincerely|"
    r"yours(?:\s+sincerely|\s+faithfully|\s+truly)?|thanks(?:\s+again)?|thank\s+you|"
    r"many\s+thanks|cheers|greetings)"
    r"\s*[,.!:]?\s*$"
    # "Të nderuar zotërinj,", "Dear Sir,", "Hello all!": a short opening with its comma.
    r"|\s*(?:(?:i|e|t[eë])\s+nderuar|(?:i|e|t[eë])\s+dashur|dear|hello|hi)\b[^.?]{0,40}[,!:]\s*$",
    re.IGNORECASE,
)
# Contact lines: "Tel: 069 ...", "Cel. +355 ...", "+355 69 123 4567", "Adresa: ...".
_CONTACT = re.compile(
    r"\s*(?:(?:tel|cel|mob|mobile|phone|telefon|telefoni|fax)\b\.?\s*:?\s*[+\d(]"
    r"|(?:adresa|address|e-?mail|web|website)\s*:"
    r"|\+?\d[\d\s()./-]{6,}$)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Paragraph:
    """One paragraph: its lines as the reader should see them (each a line break apart)."""

    lines: tuple[str, ...]


def _is_list_item(line: str) -> bool:
    return _LIST_ITEM.match(line) is not None


def _is_quote(line: str) -> bool:
    return _QUOTE.match(line) is not None


def _is_prose(line: str) -> bool:
    """A line the width is estimated from: not a quote, not indented, not one long token
    (a URL a client never breaks)."""
    stripped = line.strip()
    return (bool(stripped) and " " in stripped and not line[:1].isspace()
            and "   " not in stripped  # columns laid out with spaces
            and not _is_quote(line))


def wrap_width(lines: list[str]) -> int | None:
    """The width a mail client wrapped these lines at, or ``None`` when they were not wrapped."""
    lengths = [len(line.rstrip()) for line in lines if _is_prose(line)]
    if not lengths:
        return None
    width = max(lengths)
    if width > MAX_WIDTH or width < MIN_WIDTH:
        return None
    near = sum(1 for length in lengths if length >= width - NEAR)
    return width if near >= MIN_NEAR_LINES else None


def _separate(line: str) -> bool:
    """A line that stands on its own whatever precedes it."""
    return bool(
        _is_quote(line)
        or _is_list_item(line)
        or _SALUTATION.match(line)
        or _CONTACT.match(line)
        or _SIGNATURE_SEPARATOR.match(line)
        or _HEADER.match(line)
        or not any(char.isalnum() for char in line)  # a rule of dashes or hashes
    )


def _first_word(line: str) -> str:
    stripped = line.lstrip()
    return stripped.split(None, 1)[0] if stripped else ""


def _short(line: str, width: int) -> bool:
    return len(line.strip()) < width * SHORT_SHARE


def _wrapped(lines: list[str], index: int, width: int) -> bool:
    """Whether the break after ``lines[index]`` was the client's."""
    line, following = lines[index].rstrip(), lines[index + 1]
    if _is_quote(line) or _separate(following) or _SALUTATION.match(line):
        return False
    if len(line) > width or len(line) < width * FULL_SHARE or " " not in line.strip():
        return False
    if len(line) + 1 + len(_first_word(following)) <= width - SLACK:
        return False  # the next word would have fitted: the writer broke the line
    # An indented line continues a list item; elsewhere it was indented on purpose.
    if (line[:1].isspace() or following[:1].isspace()) and not _in_list_item(lines, index):
        return False
    # A sentence ends and a block of short lines follows (a name, an address): a signature.
    if line.endswith((".", "!", "?", ":", ",")) and _short(following, width):
        after = lines[index + 2] if index + 2 < len(lines) else ""
        if not after.strip() or _short(after, width):
            return False
    return True


def _in_list_item(lines: list[str], index: int) -> bool:
    """Whether ``lines[index]`` is a list item or the continuation of one."""
    while index >= 0:
        line = lines[index]
        if _is_list_item(line):
            return True
        if not line[:1].isspace() or _is_quote(line):
            return False
        index -= 1
    return False


def _blocks(text: str) -> list[list[str]]:
    """Blank-line separated blocks of lines (a line of spaces is blank)."""
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line.strip():
            current.append(line.rstrip())
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def reflow(text: str) -> list[Paragraph]:
    """The paragraphs of ``text`` with the client's line breaks joined and the writer's kept."""
    blocks = _blocks(text)
    text_width = wrap_width([line for block in blocks for line in block])
    paragraphs = []
    in_signature = False
    for block in blocks:
        out: list[str] = []
        # A block wrapped on its own says its width best (a quoted header above it may be
        # wider); a short block takes the width of the whole text.
        width = wrap_width(block) or text_width
        # Lines that mostly end a sentence were typed one by one (a status report, a list
        # without bullets): a client's wrap falls mid-sentence.
        as_typed = width is None or _sentence_per_line(block)
        for index, line in enumerate(block):
            # After "-- " everything is a signature: kept line by line.
            if _SIGNATURE_SEPARATOR.match(line):
                in_signature = True
            if out and not as_typed and _joined_before(block, index, width, in_signature):
                out[-1] = _join(out[-1], line)
            else:
                out.append(line)
        paragraphs.append(Paragraph(tuple(out)))
    return paragraphs


def _join(head: str, tail: str) -> str:
    head, tail = head.rstrip(), tail.strip()
    # "integri-" + "tetit": a word hyphenated at the margin is one word again. The hyphen
    # stays: it may belong to a compound ("politiko-ekonomike").
    if _HYPHENATED.search(head) and tail[:1].islower():
        return head + tail
    return head + " " + tail


def _sentence_per_line(block: list[str]) -> bool:
    prose = [line for line in block if not _is_quote(line) and not _is_list_item(line)]
    if len(prose) < 3:
        return False
    ended = sum(1 for line in prose[:-1] if line.rstrip().endswith(_SENTENCE_END))
    return ended * 2 >= len(prose) - 1


def _joined_before(block: list[str], index: int, width: int | None, in_signature: bool) -> bool:
    return (width is not None and not in_signature and index > 0
            and _wrapped(block, index - 1, width))
