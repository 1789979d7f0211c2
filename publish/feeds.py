"""Atom feeds of published comments: all comments, or one commitment's, in one language.

Pure: comments in, bytes out; no clock, no files. The same comments give the same bytes
(the feed's ``updated`` is its newest entry's date, never "now"), so the publisher rewrites
a feed only when its comments change. Only ``CommentPublic`` fields are used: an entry's
author is the name the citizen consented to publish, never an address. A campaign is
one entry (its page, its text, its count), never one per member.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape

from feedgen.feed import FeedGenerator  # type: ignore[import-untyped]

from moderation.public import CommentPublic
from publish import urls
from publish.campaigns import CampaignPublic
from publish.i18n import translate
from publish.urls import Language

# A feed reader shows the newest; the archive pages hold the rest.
MAX_ENTRIES = 50
# Entry ids are tag URIs (RFC 4151) built from the comment's page path: they stay the same
# when the site moves to another address, as an Atom id must.
TAG_PREFIX = "tag:ogp-feedback,2020:"
GENERATOR = "ogp-feedback"


# Characters XML 1.0 cannot carry (C0 controls other than tab and newlines, lone
# surrogates, U+FFFE/FFFF): a pasted control character must not break the whole feed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: str) -> str:
    return _NOT_XML.sub("", value)


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; the pipeline stores UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def entry_date(comment: CommentPublic, fallback: datetime) -> datetime:
    """When the comment was published (or received, for a row published before the date
    was recorded)."""
    return _aware(comment.published_at or comment.received_at or fallback)


def newest_first(comments: Sequence[CommentPublic], fallback: datetime) -> list[CommentPublic]:
    return sorted(comments, key=lambda c: (entry_date(c, fallback), c.id), reverse=True)


def entry_id(language: Language, reference: str) -> str:
    return TAG_PREFIX + urls.comment_page(language, reference)


def _href(site_url: str, self_path: str, path: str) -> str:
    """Absolute under ``site_url``; without it, relative to the feed's own location."""
    if site_url:
        return site_url.rstrip("/") + "/" + path
    return urls.relative(self_path, path)


def _alternate(self_path: str) -> str:
    """The page a feed belongs to: "sq/feed.atom" -> "sq/index.html",
    "sq/commitments/3.atom" -> "sq/commitments/3.html" (see publish.urls)."""
    if self_path == urls.ROOT_FEED:
        return urls.ROOT_INDEX
    folder, _, name = self_path.rpartition("/")
    if name == "feed.atom":
        return f"{folder}/index.html"
    return self_path.removesuffix(".atom") + ".html"


def _campaign_content(campaign: CampaignPublic, language: Language) -> str:
    words = translate("campaign_senders_one" if campaign.count == 1 else "campaign_senders",
                      language)
    return (f'<p class="campaign-summary"><span class="campaign-count">{campaign.count}'
            f"</span> {escape(words)}</p>{campaign.display_html}")


def atom_feed(comments: Sequence[CommentPublic], *, language: Language, self_path: str,
              title: str, site_url: str, updated: datetime,
              campaigns: Sequence[CampaignPublic] = ()) -> bytes:
    """The Atom document for ``comments`` (newest first, at most ``MAX_ENTRIES``).

    ``self_path`` is the feed's path in the site (``publish.urls.feed`` or
    ``commitment_feed``); ``site_url`` the site's public address ("" when unknown: links are
    then relative to the feed); ``updated`` is used only for a feed with no entries.
    """
    fallback = _aware(updated)
    # A campaign stands where its first member was published (as in the listings); it is
    # updated when its last one was.
    items: list[CommentPublic | CampaignPublic] = [*comments, *campaigns]
    items.sort(key=lambda item: (_placed(item, fallback), isinstance(item, CampaignPublic),
                                 item.id), reverse=True)
    shown = items[:MAX_ENTRIES]
    generator = FeedGenerator()
    generator.id(TAG_PREFIX + self_path)
    generator.title(xml_text(title))
    generator.language(language)
    generator.author({"name": xml_text(title)})
    generator.generator(GENERATOR)
    generator.link(href=_href(site_url, self_path, self_path), rel="self",
                   type="application/atom+xml")
    generator.link(href=_href(site_url, self_path, _alternate(self_path)), rel="alternate",
                   type="text/html")
    generator.updated(max((_updated(item, fallback) for item in shown), default=fallback))
    for item in shown:
        if isinstance(item, CampaignPublic):
            _campaign_entry(generator, item, language, self_path, site_url)
            continue
        comment = item
        moment = entry_date(comment, _aware(updated))
        page = urls.comment_page(language, comment.reference)
        entry = generator.add_entry(order="append")
        entry.id(entry_id(language, comment.reference))
        entry.title(xml_text(f"{comment.reference}: {comment.subject}" if comment.subject
                             else comment.reference))
        entry.link(href=_href(site_url, self_path, page), rel="alternate", type="text/html")
        entry.published(moment)
        entry.updated(moment)
        entry.content(xml_text(comment.display_html), type="html")
        for label_id in comment.commitments:
            entry.category(term=label_id)
        if comment.author:
            entry.author({"name": xml_text(comment.author)})
    result: bytes = generator.atom_str(pretty=True, encoding="UTF-8", xml_declaration=True)
    return result


def _placed(item: CommentPublic | CampaignPublic, fallback: datetime) -> datetime:
    if isinstance(item, CampaignPublic):
        return _aware(item.first_published)
    return entry_date(item, fallback)


def _updated(item: CommentPublic | CampaignPublic, fallback: datetime) -> datetime:
    if isinstance(item, CampaignPublic):
        return _aware(item.last_published)
    return entry_date(item, fallback)


def _campaign_entry(generator: FeedGenerator, campaign: CampaignPublic, language: Language,
                    self_path: str, site_url: str) -> None:
    page = urls.campaign_page(language, campaign.id)
    entry = generator.add_entry(order="append")
    entry.id(TAG_PREFIX + page)
    name = translate("campaign_title", language, id=campaign.id)
    entry.title(xml_text(f"{name}: {campaign.subject}" if campaign.subject else name))
    entry.link(href=_href(site_url, self_path, page), rel="alternate", type="text/html")
    entry.published(_aware(campaign.first_published))
    entry.updated(_aware(campaign.last_published))
    entry.content(xml_text(_campaign_content(campaign, language)), type="html")
    for label_id in campaign.commitments:
        entry.category(term=label_id)
