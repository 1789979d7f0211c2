"""Which side of the plan a message talks about: ``commitment`` (content, scope),
``institutions`` (who leads or should partner), ``milestones`` (timeline, targets,
indicators) or ``general`` (the process, the plan as a whole).

Rules as data: each cue is a named pattern over the folded text (no diacritics, lower
case), in Albanian and English. A message about ``general`` alone is about the process
unless it proposes a new theme (then it is about content); a cue for institutions or
milestones overrides that default when it is clear enough.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from config.catalogue import GENERAL
from intake.classifier.text import fold

COMMITMENT = "commitment"
INSTITUTIONS = "institutions"
MILESTONES = "milestones"
ASPECTS = (COMMITMENT, INSTITUTIONS, MILESTONES, GENERAL)


@dataclass(frozen=True)
class Cue:
    name: str
    aspect: str
    pattern: re.Pattern[str]
    # 1: enough on its own; 0.5: only together with another cue of the same aspect.
    weight: float = 1.0


def _cue(name: str, aspect: str, pattern: str, weight: float = 1.0) -> Cue:
    return Cue(name, aspect, re.compile(pattern), weight)


CUES: tuple[Cue, ...] = (
    _cue("partners", INSTITUTIONS,
         r"\b(partner\w*|bashkepun\w*|in partnership)\b"),
    _cue("who leads", INSTITUTIONS,
         r"\b(who (leads|will lead|coordinates|is responsible|will do|runs)"
         r"|lead (institution|agency)"
         r"|should (lead|coordinate|be (involved|responsible|in charge))|in charge of"
         r"|kush (e )?(drejton|koordinon|zbaton|udheheq)|institucion\w* pergjegjes"
         r"|duhet te (jete|jene) (drejtues|pergjegjes|pjese)|te jene drejtues\w*)\b"),
    _cue("involve", INSTITUTIONS,
         r"\b(involve[ds]?|be named|formal partners?|perfshi\w*|te perfshihen|roli? (i|e) )\b",
         0.5),
    _cue("coordination", INSTITUTIONS, r"\b(coordinat\w*|koordinim\w*|koordinator\w*)\b", 0.5),
    _cue("independent body", INSTITUTIONS,
         r"\b(independent (body|monitor\w*|institution)|organ i pavarur)\b"),
    _cue("deadline", MILESTONES,
         r"\b(deadline\w*|timeline|timetable|by what date|by when|by the end of"
         r"|by (20\d\d|january|march|june|september|december)|afat\w* (te|i|per) "
         r"(zbatim|perfundim)|deri (ne|me) (fund|qershor|dhjetor|mars|janar|20\d\d))\b"),
    _cue("targets", MILESTONES,
         r"\b(targets?|indicators?|measurable|milestones?|benchmark\w*|tregues\w*|objektiv\w*"
         r"|synim\w*|te matshem|si do (te )?matet|matet)\b"),
    _cue("schedule", MILESTONES,
         r"\b(every (month|quarter|six months|year)|quarterly|each year|twice a year"
         r"|cdo (muaj|tremujor|gjashte muaj|vit)|tremujor\w*|progress report\w*"
         r"|raport\w* (cdo|periodik\w*|progresi))\b", 0.5),
    _cue("how many by", MILESTONES,
         r"\b(how many\b.{0,60}\bby\b|sa\b.{0,40}\bderi\b|a number and a year"
         r"|\d+\s?(%|percent|perqind))"),
)

NEW_THEME = re.compile(
    r"\b((new|additional|another|separate) (commitment|component|area|theme|topic)"
    r"|add(ing)? (a |an )?(new )?(commitment|component)|(commitment|area) (on|for|about)"
    r"|nothing about|not a (single )?word (about|on)|does not (say|mention|include)"
    r"|is missing|angazhim\w* (te |i )?(ri|re)\b|komponent\w* (te |i )?(ri|rinj)\b"
    r"|teme? (te |e )?re\b|tema e re|nje angazhim (per|te))")


@dataclass(frozen=True)
class AspectGuess:
    aspect: str
    cues: tuple[str, ...]  # the names of the cues that matched, for the explanation


def guess_aspect(text: str, labels: tuple[str, ...]) -> AspectGuess:
    folded = fold(text)
    hits = [cue for cue in CUES if cue.pattern.search(folded)]
    counts = {INSTITUTIONS: 0.0, MILESTONES: 0.0}
    for cue in hits:
        counts[cue.aspect] += cue.weight
    only_general = set(labels) == {GENERAL}
    default = GENERAL if only_general and not NEW_THEME.search(folded) else COMMITMENT
    # About the whole plan, a single cue is weak ("afati" of the consultation):
    # ask for two.
    needed = 2 if only_general else 1
    best = max(counts, key=lambda aspect: (counts[aspect], aspect == MILESTONES))
    # A tie between the two is no clear cue for either.
    if counts[best] >= needed and counts[best] > min(counts.values()):
        return AspectGuess(best, tuple(c.name for c in hits if c.aspect == best))
    return AspectGuess(default, ())
