"""Cut quoted replies, forwarded-message headers and signatures from a citizen's message.

Input is decoded plain text (HTML mail already converted). Each line is first given a
kind (text, quote, reply header, header block line, delimiter, signature...), then one
top-to-bottom pass decides what belongs to the citizen. The cut part is returned too, so
moderators can see it on request.

Pure: no I/O, no clock. It must never lose the citizen's own words silently: when a cut
would leave nothing, the original comes back unchanged; a lone ``From:``-like line or a
dashed line followed by a long paragraph stays text.

The ideas (line kinds, "reply header not followed by a quote ends the reply", mobile
signatures) follow discourse/email_reply_trimmer and mailgun/talon; the code and the
Albanian client strings (Thunderbird ``sq``, Gmail ``sq``, Outlook ``sq``) are ours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum


@dataclass(frozen=True)
class Trimmed:
    text: str  # the citizen's own words
    removed: str  # what was cut (quoted reply, forwarded headers, signature), "" if nothing


class _Kind(Enum):
    EMPTY = "e"
    TEXT = "t"
    QUOTE = "q"
    DELIMITER = "d"  # a line of dashes, underscores, stars...
    SIG_DASHES = "-"  # "-- " (RFC 3676) or "--": a signature follows
    MOBILE = "s"  # "Sent from my iPhone", "Dërguar nga iPhone-i im"
    MARKER = "b"  # "On ... wrote:", "-------- Original Message --------", ...
    HEADER = "h"  # one line of a "From: / Sent: / To: / Subject:" block


# ---------------------------------------------------------------- single-line patterns

_I = re.IGNORECASE

# ">" quoting, and Supercite's "Name>" quoting ("C> text", "Richard> text").
_QUOTE = re.compile(r"^\s*(?:>|[A-Z][A-Za-z]{0,11}>(?=\s|$))")

# U+1427 is the invisible mark Gmail tracking add-ons leave on a line of its own.
_DELIMITER = re.compile(r"^\s*[-_=+~#*\u1427\u2014\u2013]+\s*$")
_SIG_DASHES = re.compile(r"^--\s?$")

_FENCE = re.compile(r"^\s*(```|~~~)")

_EMAIL = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*"
_HAS_EMAIL = re.compile(_EMAIL)
# "11:05", "20.42" (Norwegian "kl. 20.42"), "13.16" (Italian "alle 13.16"); not the
# "14.09" of a date "14.09.2020", which a citizen's own sentence may well contain.
_HAS_CLOCK = re.compile(r"(?<!\d)\d{1,2}:\d{2}(?!\d)")
_HAS_TIME = re.compile(r"(?<!\d)\d{1,2}:\d{2}(?!\d)|(?<![\d.])\d{1,2}\.\d{2}(?![.\d])")
_HAS_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")

# The verb of a reply header, in the languages our citizens' mail clients speak:
# Albanian first, then the neighbours' and the diaspora's (Italy, Greece, Germany...).
_WROTE = (
    r"shkroi|shkruan|shkruajti|ka\s+shkruar|shkruante"
    r"|wrote|writes"
    r"|ha\s+scritto|scrisse"
    r"|έγραψε|εγραψε"
    r"|schrieb|geschrieben|schreef|het\s+volgende\s+geschreven"
    r"|a\s+[ée]crit|nous\s+a\s+dit"
    r"|escribi[óo]|escreveu"
    r"|napisa[łl]\(a\)|napisa[łl]|napisala|napisao|napsal|написа"
    r"|написал\(а\)|написала|написал|написав|пише"
    r"|skrev(?:\s+følgende)?|skrevet"
    r"|写道|寫道|yazdı|a\s+scris"
)
# "On <date>, <name> wrote:" - the verb ends the line (Zoho adds "----" after it).
_WROTE_AT_END = re.compile(rf"(?:^|[\s,\"'»)>])(?:{_WROTE})\s*[:：]?\s*[-*>]*\s*$", _I)
# "Am <date> schrieb <name> <addr>:", "<name> schrieb am <date> um 11:53 Uhr:" - what
# follows the verb must hold the address or the time ("... shkroi si vijon:" is prose).
_WROTE_THEN_COLON = re.compile(rf"(?:^|[\s,\"'»)>])(?:{_WROTE})\s(?P<rest>.{{1,120}})[:：]\s*$", _I)
# Thunderbird's short form, "Arben Muça shkroi:", is only a header when a quote follows.
_NAME_WROTE = re.compile(
    rf"^[\s>]*[^\s:.!?,;]+(?:\s+[^\s:.!?,;]+){{0,5}}\s+(?:{_WROTE})\s*[:：]\s*$", _I
)

# Old Gmail: "2013/7/20 Name <a@b>" and "2016-03-03 17:21 GMT+01:00 Name".
_ISO_DATE_HEADER = re.compile(
    rf"^[\s>]*\d{{4}}[-/.]\d{{1,2}}[-/.]\d{{1,2}}\b.{{0,120}}"
    rf"(?:<\s*{_EMAIL}\s*>\s*[:：]?|GMT[+-]\d{{1,2}}:?\d{{2}}[^:]*:?)\s*$",
    _I,
)
# Russian Gmail and others: "вт, 5 янв. 2016 г. в 23:39, Name <a@b>:" - a date, then the
# line ends with an address and a colon.
_ADDRESS_COLON_END = re.compile(rf"[<‹«]\s*{_EMAIL}\s*[>›»]\s*[:：]\s*$")
_HAS_DIGIT = re.compile(r"\d")

# Forward / original-message separators. Written with or without the dashes around.
_FORWARD_WORDS = (
    r"Forwarded\s+message|Forwarded\s+Message|Original\s+Message|Reply\s+Message"
    r"|Mesazh(?:i)?\s+(?:i\s+)?orgjinal|Mesazh(?:i)?\s+(?:i\s+)?origjinal"
    r"|Mesazh(?:i)?\s+i\s+p[ëe]rcjell[ëe](?:r)?|Mesazh(?:i)?\s+i\s+p[ëe]rcjellur"
    r"|Mesazh(?:i)?\s+i\s+d[ëe]rguar\s+m[ëe]\s+tej"
    r"|Messaggio\s+originale|Messaggio\s+inoltrato"
    r"|Αρχικό\s+μήνυμα|Προωθημένο\s+μήνυμα"
    r"|Urspr[üu]ngliche\s+Nachricht|Weitergeleitete\s+Nachricht"
    r"|Message\s+d'origine|Message\s+transf[ée]r[ée]"
    r"|Mensaje\s+original|Mensaje\s+reenviado|Mensagem\s+original|Mensagem\s+encaminhada"
    r"|Oorspronkelijk\s+bericht|Doorgestuurd\s+bericht"
    r"|Ursprungligt\s+meddelande|Vidarebefordrat\s+meddelande"
    r"|Исходное\s+сообщение|Пересылаемое\s+сообщение|原始邮件|转发的邮件"
)
_FORWARD_DASHED = re.compile(
    rf"^[\s>*]*[-_=]{{2,}}\s*(?:{_FORWARD_WORDS})\s*[:：]?\s*[-_=]{{2,}}[\s*]*$", _I
)
_FORWARD_ALONE = re.compile(rf"^[\s>*]*(?:{_FORWARD_WORDS})\s*[:：]?[\s*]*$", _I)
_BEGIN_FORWARD = re.compile(
    r"^[\s>*]*(?:Begin\s+forwarded\s+message|Fillimi\s+i\s+mesazhit\s+t[ëe]\s+p[ëe]rcjell[ëe]"
    r"|D[ée]but\s+du\s+message\s+r[ée]exp[ée]di[ée]|Inizio\s+messaggio\s+inoltrato"
    r"|Anfang\s+der\s+weitergeleiteten\s+Nachricht|Comienzo\s+del\s+mensaje\s+reenviado)"
    r"\s*[:：][\s*]*$",
    _I,
)
# Outlook collapsed onto one line: "From: X Sent: Y To: Z Subject: W".
_ONE_LINE_HEADERS = re.compile(
    r"^[\s*]*(?:From|Nga)[\s*]*:.+\b(?:Sent|Date|D[ëe]rguar|Data)[\s*]*:.+"
    r"\b(?:Subject|Tema|Subjekti|L[ëe]nda)[\s*]*:",
    _I,
)

_HEADER_KEYS = (
    # Albanian (Outlook, Gmail and Thunderbird sq)
    r"Nga|D[ëe]rguar|Dat[ëea]|P[ëe]r|Drejtuar|Kopje|L[ëe]nda|Tema|Subjekti?|Objekti"
    r"|P[ëe]rgjigju\s+te"
    # English
    r"|From|Sent|Date|To|Cc|Bcc|Reply-To|Subject"
    # Italian, Greek, German, French, Spanish, Portuguese, Dutch, Scandinavian
    r"|Da|Inviato|A|Oggetto|Risposta"
    r"|Από|Στάλθηκε|Ημερομηνία|Προς|Κοιν|Θέμα"
    r"|Von|Gesendet|Datum|An|Betreff|Kopie|Antwort\s+an"
    r"|De|Envoy[ée]|[ÀA]|Objet|R[ée]pondre\s+[àa]|Exp[ée]diteur|Destinataire"
    r"|Fecha|Enviado|Para|Asunto|Enviada\s+em|Assunto"
    r"|Van|Verzonden|Aan|Onderwerp|Fr[åa]n|Skickat|Till|[ÄA]mne|Fra|Sendt|Til|Emne"
    r"|От|Отправлено|Дата|Кому|Тема|Копия|发件人|发送时间|收件人|主题|日期"
)
_HEADER = re.compile(
    rf"^[\s>]*\**\s*(?:{_HEADER_KEYS})\s*\**\s*[:：]\s*\**\s*\S", _I
)

# Signature lines are short: prose that happens to start "Sent from ..." is longer.
_SHORT = r"^(?=.{1,60}$)"
_MOBILE = [
    re.compile(p, _I)
    for p in (
        # Albanian
        _SHORT + r"[\s(<]*D[ëe]rguar\s+(?:nga|me|prej|p[ëe]rmes)\s+\S",
        r"^[\s(<]*Nga\s+(?:iPhone|iPad|Android|telefoni|celulari|pajisja|Samsung)[\w-]*"
        r"(?:\s+(?:im|ime|mobile|celular))*[\s)>.]*$",
        _SHORT + r"[\s(<]*Merr(?:ni)?\s+Outlook\s+p[ëe]r\s",
        # English
        _SHORT + r"[\s(<]*Sent\s+(?:from|via|with|using)\s+(?!the\s)\S",
        _SHORT + r"[\s]*[(<]+\s*Sent\s+by\s",
        _SHORT + r"[\s(<]*[\w.-]+\s+from\s+(?:my\s+)?mobile\b",
        _SHORT + r"[\s(<]*From\s+my\s+(?:iPhone|iPad|iPod|Android|phone|mobile|cell|Samsung"
        r"|Galaxy|BlackBerry|smartphone|tablet|device|Huawei|Xiaomi|Pixel)\b",
        _SHORT + r"[\s(<]*Get\s+Outlook\s+for\s",
        # Neighbours and diaspora
        _SHORT + r"[\s(<]*Inviato\s+da\s",
        _SHORT + r"[\s(<]*(?:Στάλθηκε|Εστάλη)\s+από\s",
        r"^[\s(<]*Von\s+meinem\s.+\sgesendet",
        r"^[\s(<]*Diese\s+Nachricht\s+wurde\s+von\s.+\sgesendet",
        _SHORT + r"[\s(<]*Envoy[ée]\s+(?:depuis|de)\s+(?:mon|Yahoo)",
        _SHORT + r"[\s(<]*Enviado\s+(?:desde\s+mi|do\s+meu|de\s+mi)\s",
        _SHORT + r"[\s(<]*Sendt\s+fra\s+min\s",
        _SHORT + r"[\s(<]*(?:Skickat\s+)?fr[åa]n\s+min\s",
        _SHORT + r"[\s(<]*(?:Verzonden\s+met|Verstuurd\s+vanaf\s+mijn)\s",
        r"^\s*(?:從我的\s*iPhone\s*傳送|发自我的\s*iPhone)",
    )
]
_MOBILE_MAX = 100
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)|<https?://[^>]*>|\(?https?://\S+\)?")

# A reply header continued on the next lines: the continuation pieces are short, and the
# first line starts like a header ("On ...", "Më ...", a date) or already has the verb.
_JOIN_MAX_LINES = 5
_JOIN_PIECE_MAX = 60
_HEAD_START = re.compile(
    r"^[\s>*-]*(?:(?:On|At|Am|Le|Il|El|Em|Op|Den|Dnia|Dňa|Më|Me|Στις|В)\s|\d|\w+,\s+\d)", _I
)
_HAS_WROTE = re.compile(rf"(?:^|\s)(?:{_WROTE})(?:\s|$)", _I)
_MARKER_MAX = 300
# Short text under a quote, after a top-posted answer, is a signature (see _inline_follows).
_TAIL_MAX_LINES = 4
_TAIL_MAX_CHARS = 250


def _is_mobile(line: str) -> bool:
    bare = _LINK.sub(lambda m: m.group(1) or " ", line).strip()
    return len(bare) <= _MOBILE_MAX and any(p.match(bare) for p in _MOBILE)


def _marker_strength(line: str) -> int:
    """2: a reply/forward header on its own; 1: only when a quote follows; 0: not one."""
    text = line.strip()
    if not text or len(text) > _MARKER_MAX:
        return 0
    # The unanchored patterns only run on lines that end the way they need (a colon):
    # a long line of digits would otherwise cost them quadratic time.
    colon = text.endswith((":", "："))
    address = _ADDRESS_COLON_END.search(text) if colon and "@" in text else None
    if (_FORWARD_DASHED.match(text) or _FORWARD_ALONE.match(text) or _BEGIN_FORWARD.match(text)
            or _ONE_LINE_HEADERS.match(text) or _ISO_DATE_HEADER.match(text)
            or (address and _HAS_DIGIT.search(text, 0, address.start()))):
        return 2
    then_colon = _WROTE_THEN_COLON.search(text) if colon else None
    rest = then_colon["rest"] if then_colon else ""
    if _HAS_EMAIL.search(rest) or _HAS_CLOCK.search(rest):
        return 2
    if _WROTE_AT_END.search(text):
        if _HAS_TIME.search(text) or _HAS_EMAIL.search(text):
            return 2
        if _HAS_YEAR.search(text):
            return 1
    if _NAME_WROTE.match(text):
        return 1
    return 0


def _base_kind(line: str) -> _Kind:
    if not line.strip():
        return _Kind.EMPTY
    if _QUOTE.match(line):
        return _Kind.QUOTE
    if _SIG_DASHES.match(line):
        return _Kind.SIG_DASHES
    if _DELIMITER.match(line):
        return _Kind.DELIMITER
    if _is_mobile(line):
        return _Kind.MOBILE
    if _HEADER.match(line) and _marker_strength(line) == 0:
        return _Kind.HEADER
    return _Kind.TEXT


# ---------------------------------------------------------------- classification

def _classify(lines: list[str]) -> list[_Kind]:
    kinds = [_base_kind(line) for line in lines]
    # 0: not a reply header; 1: one if a quote follows; 2: one; -1: inside a code block.
    strength = [0] * len(lines)
    in_code = False
    for i, line in enumerate(lines):
        if _FENCE.match(line) or in_code:
            # Code keeps its "#" and "----" lines.
            in_code = in_code != bool(_FENCE.match(line))
            kinds[i] = _Kind.EMPTY if kinds[i] is _Kind.EMPTY else _Kind.TEXT
            strength[i] = -1
        elif kinds[i] in (_Kind.TEXT, _Kind.HEADER):
            strength[i] = _marker_strength(line)
    _join_wrapped_markers(lines, kinds, strength)
    for i, level in enumerate(strength):
        if level == 2 or (level == 1 and _quote_follows(kinds, strength, i + 1)):
            kinds[i] = _Kind.MARKER
    return kinds


def _join_wrapped_markers(lines: list[str], kinds: list[_Kind], strength: list[int]) -> None:
    """Gmail and others wrap a long "On <date> <name> <addr> wrote:" over several lines."""
    for i, line in enumerate(lines):
        head = line.strip()
        if (kinds[i] is not _Kind.TEXT or strength[i] or head.endswith(("!", "?"))
                or not (_HEAD_START.match(head) or _HAS_WROTE.search(head))):
            continue
        pieces = [head]
        for j in range(i + 1, min(i + 1 + _JOIN_MAX_LINES, len(lines))):
            piece = re.sub(r"^[\s>\-]*", "", lines[j]).strip()
            if strength[j] < 0:
                break
            if kinds[j] is not _Kind.EMPTY and (
                    len(piece) > _JOIN_PIECE_MAX
                    or (strength[j] and not _continues(head, piece))):
                break
            if not piece:
                continue
            pieces.append(piece)
            # Every wrapped header ends with its colon or its verb ("wrote ----").
            if not (piece.endswith((":", "：")) or _HAS_WROTE.search(piece)):
                continue
            level = _marker_strength(" ".join(pieces))
            if level:
                for k in range(i, j + 1):
                    kinds[k] = _Kind.TEXT
                    strength[k] = level
                break


def _continues(head: str, piece: str) -> bool:
    """Does ``piece`` (a header on its own) read as the wrapped end of ``head``?"""
    return head.endswith(("<", "(", "\"")) or bool(re.match(rf"[a-z<>]|{_EMAIL}", piece))


def _quote_follows(kinds: list[_Kind], strength: list[int], start: int) -> bool:
    """Is the next line after this (possibly wrapped) header a quote or a header line?"""
    for j in range(start, len(kinds)):
        if kinds[j] is _Kind.EMPTY or strength[j] > 0:
            continue
        return kinds[j] in (_Kind.QUOTE, _Kind.HEADER)
    return False


# ---------------------------------------------------------------- decisions

def _next_content(kinds: list[_Kind], start: int, skip: tuple[_Kind, ...] = (_Kind.EMPTY,)) -> int:
    j = start
    while j < len(kinds) and kinds[j] in skip:
        j += 1
    return j


def _header_block_end(lines: list[str], kinds: list[_Kind], start: int, minimum: int,
                      evidence: bool = True) -> int:
    """End (exclusive) of a "From: / Sent: / To: / Subject:" block at ``start``, or 0.

    With ``evidence``, some line must carry an address or a time, as every client's block
    does: a citizen's own letter heading ("Nga: ... / Për: ... / Tema: ...") has neither.
    """
    if start >= len(kinds) or kinds[start] is not _Kind.HEADER:
        return 0
    count, j, end = 0, start, start
    while j < len(kinds):
        if kinds[j] is _Kind.HEADER:
            count += 1
            j += 1
            end = j
            continue
        # A wrapped Subject line, or one blank line between header lines.
        nxt = j + 1
        if (kinds[j] in (_Kind.TEXT, _Kind.EMPTY) and nxt < len(kinds)
                and kinds[nxt] is _Kind.HEADER and kinds[j - 1] is _Kind.HEADER):
            j = nxt
            continue
        break
    if count < minimum:
        return 0
    # Header values are short; the cap keeps the address search linear on hostile lines.
    block = [line[:_MARKER_MAX] for line in lines[start:end]]
    if evidence and not any(_HAS_EMAIL.search(line) or _HAS_CLOCK.search(line) for line in block):
        return 0
    return end


def _inline_follows(lines: list[str], kinds: list[_Kind], start: int, own: bool) -> bool:
    """Does the citizen answer below the quote that follows a reply header at ``start``?"""
    j = _next_content(kinds, start)
    if j >= len(kinds) or kinds[j] is not _Kind.QUOTE:
        return False
    j = _next_content(kinds, j, (_Kind.EMPTY, _Kind.QUOTE))
    if j >= len(kinds) or kinds[j] is not _Kind.TEXT:
        return False
    if not own or _Kind.QUOTE in kinds[j:]:
        return True  # bottom-posted, or answers interleaved with quotes
    # Text above the header and a little text below one quote: that little text is a
    # signature placed under the quote (a Thunderbird option) or a list footer.
    tail = [lines[k].strip() for k in range(j, len(lines))
            if kinds[k] in (_Kind.TEXT, _Kind.HEADER)]
    return len(tail) > _TAIL_MAX_LINES or sum(map(len, tail)) > _TAIL_MAX_CHARS


def _only_leftovers(kinds: list[_Kind], start: int) -> bool:
    return all(kind is not _Kind.TEXT for kind in kinds[start:])


def _signature_like(lines: list[str], kinds: list[_Kind], start: int) -> bool:
    rest = [lines[k].strip() for k in range(start, len(lines)) if kinds[k] is not _Kind.EMPTY]
    return len(rest) <= 5 and all(len(line) <= 72 for line in rest)


def _delimiter_ends_message(lines: list[str], kinds: list[_Kind], start: int) -> bool:
    """A dashed line ends the message if a header, a signature or nothing of ours follows."""
    # Right under a line of text it underlines a heading, unless a header follows.
    underline = start >= 2 and kinds[start - 2] is _Kind.TEXT
    j = _next_content(kinds, start, (_Kind.EMPTY, _Kind.DELIMITER))
    if j >= len(kinds) or _only_leftovers(kinds, j):
        return True
    if kinds[j] in (_Kind.MARKER, _Kind.SIG_DASHES, _Kind.MOBILE):
        return True
    if _header_block_end(lines, kinds, j, 2):
        return True
    return not underline and _signature_like(lines, kinds, j)


def _decide(lines: list[str], kinds: list[_Kind]) -> list[bool]:
    """Which lines are the citizen's: one pass from the top."""
    n = len(lines)
    keep = [False] * n
    own = False  # has the citizen said anything yet?
    i = 0
    while i < n:
        kind = kinds[i]
        if kind is _Kind.EMPTY:
            keep[i] = True
        elif kind is _Kind.SIG_DASHES:
            break
        elif kind is _Kind.DELIMITER:
            block = _next_content(kinds, i + 1, (_Kind.EMPTY, _Kind.DELIMITER))
            end = _header_block_end(lines, kinds, block, 2)
            if end and not own:
                i = end  # an Outlook forward with no comment: keep the forwarded text
                continue
            if _delimiter_ends_message(lines, kinds, i + 1):
                break
            keep[i] = True
        elif kind is _Kind.MARKER:
            end = _next_content(kinds, i, (_Kind.MARKER,))
            if own and not _inline_follows(lines, kinds, end, own):
                break  # top-posting: everything below is the old message
            # A reply header above a bottom-posted or inline reply, or a forward with no
            # comment: drop the header (and the forwarded headers), keep reading.
            i = _next_content(kinds, end)
            i = _header_block_end(lines, kinds, i, 2, evidence=False) or i
            continue
        elif kind is _Kind.HEADER:
            end = _header_block_end(lines, kinds, i, 3)
            if end and own:
                break  # Outlook's "From: / Sent: / To: / Subject:" above the old message
            if end:
                i = end
                continue
            keep[i] = True
            own = True
        elif kind is _Kind.TEXT:
            keep[i] = True
            own = True
        # QUOTE and MOBILE lines are dropped where they stand.
        i += 1
    return keep


# ---------------------------------------------------------------- output

def _runs(lines: list[str], flags: list[bool], want: bool) -> list[list[int]]:
    runs: list[list[int]] = []
    for i, flag in enumerate(flags):
        if flag != want:
            continue
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    out = []
    for run in runs:
        while run and not lines[run[0]].strip():
            run.pop(0)
        while run and not lines[run[-1]].strip():
            run.pop()
        if run:
            out.append(run)
    return out


def _join_runs(lines: list[str], runs: list[list[int]]) -> str:
    parts: list[str] = []
    previous_end = -1
    for run in runs:
        if parts:
            gap = lines[previous_end + 1:run[0]]
            # Keep a paragraph break where a cut part sat between two paragraphs.
            parts.append("\n\n" if any(not g.strip() for g in gap) else "\n")
        parts.append("\n".join(lines[k] for k in run))
        previous_end = run[-1]
    return "".join(parts)


def trim_reply(text: str) -> Trimmed:
    """The citizen's own words, and what was cut (quotes, forwarded headers, signatures)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    keep = _decide(lines, _classify(lines))
    kept = _join_runs(lines, _runs(lines, keep, True))
    if not kept.strip():
        return Trimmed(text=text, removed="")
    removed_runs = _runs(lines, keep, False)
    removed = "\n\n".join("\n".join(lines[k] for k in run) for run in removed_runs)
    return Trimmed(text=kept, removed=removed)
