"""Render the public site from public values only: pure, no files, no database."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from config.catalogue import Catalogue, Commitment
from moderation.public import CommentPublic


def make_environment() -> Environment:
    return Environment(
        loader=PackageLoader("publish", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def page_name(label: Commitment) -> str:
    return f"commitment-{label.id}.html" if label.id.isdigit() else f"{label.slug}.html"


@dataclass(frozen=True)
class RenderedSite:
    files: dict[str, str]


def render_site(
    catalogue: Catalogue,
    comments: Sequence[CommentPublic],
    generated_at: datetime,
    contact_url: str = "/contact",
) -> RenderedSite:
    env = make_environment()
    by_label: dict[str, list[CommentPublic]] = defaultdict(list)
    for comment in comments:
        for label_id in comment.commitments or ("general",):
            by_label[label_id].append(comment)
    common = {
        "catalogue": catalogue,
        "generated_at": generated_at,
        "page_name": page_name,
        "total": len(comments),
        "contact_url": contact_url,
        "counts": {label_id: len(items) for label_id, items in by_label.items()},
    }
    files = {
        "index.html": env.get_template("index.html").render(**common),
        "style.css": env.get_template("style.css").render(),
    }
    page = env.get_template("commitment.html")
    for label in catalogue.labels:
        files[page_name(label)] = page.render(
            label=label,
            component=catalogue.component_of(label),
            comments=by_label.get(label.id, []),
            **common,
        )
    return RenderedSite(files)
