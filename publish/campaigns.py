"""A campaign as the public site shows it: one text, its true count, what members added.

Pure: built from public values only (``CommentPublic`` of the campaign's text, the
planner's ``CampaignPlan``, and the members' approved own sentences the adapter read), so
a template cannot show what it never gets. A member's own sentences are published only
once a moderator approved them; a member's full text is never published under a campaign
(approving the campaign approves the common text, not what a member added to it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from intake.campaigns import sentences
from moderation.public import CommentPublic
from moderation.redaction import PLACEHOLDER
from publish.plan import CampaignPlan


@dataclass(frozen=True, slots=True)
class Addition:
    """A member's own sentences, approved, with the member's reference (its page)."""

    comment_id: int
    reference: str
    text: str


@dataclass(frozen=True, slots=True)
class CampaignPublic:
    id: int
    subject: str
    text: str
    display_html: str
    language: str
    count: int  # published members, the text's comment included
    additions: tuple[Addition, ...]  # oldest first
    commitments: tuple[str, ...]
    first_published: datetime
    last_published: datetime

    def additions_of(self, comment_id: int) -> str:
        """The member's own approved sentences, or "" (nothing of its own is shown)."""
        return next((item.text for item in self.additions if item.comment_id == comment_id),
                    "")


def hide(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every hidden span of the member's text hidden too: its own sentences
    were cut from its text when it was grouped, before a moderator may have hidden more."""
    for secret in sorted({s for s in secrets if s.strip()}, key=len, reverse=True):
        text = text.replace(secret, PLACEHOLDER)
    return text


def cut_own(text: str, own: str) -> str:
    """``text`` without the sentences of ``own`` (a member's additions): the common text
    of a campaign whose representative is not published."""
    cut = {" ".join(sentence.split()) for sentence in sentences(own)}
    if not cut:
        return text
    kept = [part for part in text.split("\n\n")
            if " ".join(part.split()) not in cut]
    result = "\n\n".join(kept)
    for sentence in sentences(own):
        result = result.replace(sentence, "")
    return "\n\n".join(part.strip() for part in result.split("\n\n") if part.strip())


def campaign_public(plan: CampaignPlan, source: CommentPublic, additions: Mapping[int, str],
                    references: Mapping[int, str], format_text: Callable[[str], str],
                    source_own: str = "") -> CampaignPublic:
    """The campaign from its text's public view and the members' approved additions
    (comment id -> text, already hidden as ``hide`` does). ``source_own``: the text's own
    sentences, cut when the text is not the representative's (``plan.own_cut``)."""
    text, html = source.text, source.display_html
    if plan.own_cut and source_own:
        text = cut_own(text, source_own)
        html = format_text(text)
    return CampaignPublic(
        id=plan.id, subject=source.subject, text=text, display_html=html,
        language=source.language, count=plan.count,
        additions=tuple(Addition(member, references[member], additions[member])
                        for member in plan.with_additions if additions.get(member, "").strip()),
        commitments=plan.labels, first_published=plan.published_at,
        last_published=plan.last_published)


def as_member(member: CommentPublic, campaign: CampaignPublic,
              format_text: Callable[[str], str]) -> CommentPublic:
    """A member as published under its campaign (search index, open data): the campaign's
    words and the member's own approved sentences, never the rest of what it wrote."""
    own = campaign.additions_of(member.id)
    text = f"{campaign.text}\n\n{own}" if own else campaign.text
    html = (campaign.display_html + format_text(own)) if own else campaign.display_html
    return member.model_copy(update={"subject": campaign.subject, "text": text,
                                     "display_html": html})
