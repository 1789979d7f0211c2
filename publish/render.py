"""Render the pages of the public site: pure, from public values only.

``SiteRenderer.render`` turns one planned page (``publish.plan``) and the public view of
the comments it shows into bytes. Links between pages are relative (``publish.urls``),
so the site works from any folder; every page carries the same strict
Content-Security-Policy (no inline script or style).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from config.catalogue import Catalogue, Commitment
from moderation.public import CommentPublic
from publish import urls
from publish.campaigns import CampaignPublic
from publish.feeds import atom_feed
from publish.i18n import MESSAGES, campaigns_summary, comments_count, translate
from publish.opendata import DATA_FIELDS
from publish.plan import Page, PageKind, SitePlan
from publish.urls import Language

# Pagefind's search runs as WebAssembly: the one relaxation, and no inline code at all.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'"
)
EXCERPT_CHARACTERS = 280
EMPTY_FEED_UPDATED = datetime(2020, 9, 1, tzinfo=UTC)
DATA_LICENCE = "CC-BY-4.0"
DATA_LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
# A campaign's block in a listing shows this many of its members' own sentences; its page
# shows them all.
ADDITIONS_SHOWN = 20


def make_environment() -> Environment:
    return Environment(
        loader=PackageLoader("publish", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@dataclass(frozen=True)
class SiteOptions:
    contact_url: str = "/contact"
    # The site's public address, for feeds (absolute links); pages link relatively.
    site_url: str = "http://127.0.0.1:8000/site/"
    time_zone: str = "Europe/Tirane"


def excerpt(text: str, limit: int = EXCERPT_CHARACTERS) -> str:
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0]
    return cut + " …"


def render_version(catalogue: Catalogue, options: SiteOptions) -> str:
    """Changes with anything every page depends on: templates, words, catalogue, settings."""
    digest = hashlib.sha256()
    for entry in sorted(resources.files("publish").joinpath("templates").iterdir(),
                        key=lambda item: item.name):
        if entry.is_file():
            digest.update(entry.name.encode())
            digest.update(entry.read_bytes())
    digest.update(json.dumps(MESSAGES, sort_keys=True).encode())
    digest.update(repr(DATA_FIELDS).encode())  # the data page and the data package
    digest.update(repr(catalogue).encode())
    digest.update(repr(options).encode())
    digest.update(CONTENT_SECURITY_POLICY.encode())
    return digest.hexdigest()[:16]


class SiteRenderer:
    def __init__(self, catalogue: Catalogue, options: SiteOptions) -> None:
        self.catalogue = catalogue
        self.options = options
        self.zone = ZoneInfo(options.time_zone)
        self.env = make_environment()

    def _day(self, value: datetime | None) -> str:
        if value is None:
            return ""
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(self.zone).strftime("%Y-%m-%d")

    def label_title(self, label: Commitment, language: Language) -> str:
        title = label.title_sq if language == "sq" else label.title_en
        return title if label.id == self.catalogue.general.id else f"{label.id}. {title}"

    def render(self, path: str, page: Page, plan: SitePlan,
               comments: Mapping[int, CommentPublic],
               campaigns: Mapping[int, CampaignPublic] | None = None) -> bytes:
        if page.kind is PageKind.ASSET:
            name = "style.css" if path == urls.STYLESHEET else "search.js"
            return self.env.get_template(name).render().encode()
        language: Language = page.language or urls.DEFAULT_LANGUAGE
        by_id = campaigns or {}
        if page.items:
            # A listing: comments alone and campaigns, in the planned order.
            shown: list[CommentPublic | CampaignPublic] = [
                by_id[item_id] if kind == "campaign" else comments[item_id]
                for kind, item_id in page.items]
        else:
            shown = [comments[comment_id] for comment_id in page.members]
        if page.kind in (PageKind.FEED, PageKind.LABEL_FEED):
            return self._feed(path, page, language, shown)
        return self._html(path, page, plan, language, shown,
                          [by_id[campaign_id] for campaign_id in page.campaigns]).encode()

    def _feed(self, path: str, page: Page, language: Language,
              shown: list[CommentPublic | CampaignPublic]) -> bytes:
        site_title = self.catalogue.title_sq if language == "sq" else self.catalogue.title_en
        title = site_title
        if page.label is not None:
            title = f"{self.label_title(self.catalogue.label(page.label), language)} · {site_title}"
        # ``updated`` dates only a feed without entries: a constant keeps its bytes stable.
        return atom_feed([item for item in shown if isinstance(item, CommentPublic)],
                         language=language, self_path=path, title=title,
                         site_url=self.options.site_url, updated=EMPTY_FEED_UPDATED,
                         campaigns=[item for item in shown if isinstance(item, CampaignPublic)])

    def _html(self, path: str, page: Page, plan: SitePlan, language: Language,
              shown: list[CommentPublic | CampaignPublic],
              campaigns: list[CampaignPublic]) -> str:
        other = urls.other_language(language)

        def link(to: str) -> str:
            return urls.relative(path, to)

        def t(key: str, **values: object) -> str:
            return translate(key, language, **values)

        common = {
            "path": path, "language": language, "other": other, "t": t, "link": link,
            "urls": urls, "catalogue": self.catalogue, "plan": plan, "day": self._day,
            "csp": CONTENT_SECURITY_POLICY, "contact_url": self.options.contact_url,
            "switch_to": link(urls.in_language(path, other)),
            "site_title": self.catalogue.title_sq if language == "sq" else self.catalogue.title_en,
            "label_title": lambda label: self.label_title(label, language),
            "comments_count": lambda count: comments_count(count, language),
            "excerpt": excerpt, "comments": shown, "licence": DATA_LICENCE,
            "licence_url": DATA_LICENCE_URL,
            "is_campaign": lambda item: isinstance(item, CampaignPublic),
            "campaigns_summary": lambda campaigns, comments, unique: campaigns_summary(
                campaigns, comments, unique, language),
            "additions_shown": ADDITIONS_SHOWN,
        }
        if page.kind in (PageKind.ROOT, PageKind.INDEX):
            return self.env.get_template("index.html").render(**common)
        if page.kind is PageKind.SEARCH:
            return self.env.get_template("search.html").render(**common)
        if page.kind is PageKind.DATA:
            return self.env.get_template("data.html").render(fields=DATA_FIELDS, **common)
        known = {label.id for label in self.catalogue.labels}
        if page.kind is PageKind.CAMPAIGN:
            campaign = campaigns[0]
            labels = [self.catalogue.label(label_id) for label_id in campaign.commitments
                      if label_id in known]
            return self.env.get_template("campaign.html").render(
                campaign=campaign, labels=labels or [self.catalogue.general], **common)
        if page.kind is PageKind.COMMENT:
            comment = shown[0]
            assert isinstance(comment, CommentPublic)
            labels = [self.catalogue.label(label_id)
                      for label_id in plan.entries[comment.id].labels if label_id in known]
            return self.env.get_template("comment.html").render(
                comment=comment, labels=labels or [self.catalogue.general],
                campaign=campaigns[0] if campaigns else None, **common)
        label = self.catalogue.label(page.label or self.catalogue.general.id)
        context = {"label": label, "component": self.catalogue.component_of(label),
                   "archives": plan.archives.get(label.id, []), "count": plan.count(label.id),
                   "page": page, **common}
        if page.kind is PageKind.FRONT:
            return self.env.get_template("commitment.html").render(**context)
        return self.env.get_template("archive.html").render(**context)
