"""The site's two outputs that cover every comment: the search index and the open data.

Both are built per segment of reference numbers (``publish.search.segment_of``): a
comment never changes segment except once, when its block of 10,000 is sealed, and new
comments land in the newest, small segment. Each segment has a key made from the light
entries of its comments (``publish.plan.Entry``), so a republish knows which segments
changed without reading any comment's text, loads the comments of those segments only,
rebuilds their part of the search index and of the data files, and reuses the rest: the
search files from the published site (by key), the data rows from a cache beside it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

from config.catalogue import Catalogue
from moderation.public import CommentPublic
from publish import search, urls
from publish.opendata import csv_header, csv_rows, json_array, json_rows
from publish.plan import Entry, SitePlan
from publish.store import SiteStore

_STATE = "segments"


@dataclass(frozen=True)
class Segment:
    name: str
    key: str
    entries: tuple[Entry, ...]


def _number(entry: Entry) -> int:
    return int(entry.reference.removeprefix("OGP-"))


def member_keys(plan: SitePlan) -> dict[int, str]:
    """Per member of a shown campaign, what its record shows besides itself: the campaign
    (its id, in the data) and the campaign's text (the member's record is that text and
    its own approved sentences)."""
    return {member: f"c{campaign.id}:{campaign.text_key}"
            for campaign in plan.campaigns.values() for member in campaign.members}


def segments_of(entries: Iterable[Entry], version: str,
                extra: Mapping[int, str] | None = None) -> list[Segment]:
    """``extra``: per comment, what else its record depends on (``member_keys``)."""
    extra = extra or {}
    listed = list(entries)
    newest = max((_number(entry) // search.SEGMENT_SIZE for entry in listed), default=0)
    grouped: dict[str, list[Entry]] = defaultdict(list)
    for entry in listed:
        grouped[search.segment_of(_number(entry), newest)].append(entry)
    salt = f"{version}|{search.FORMAT}|{package_version('pagefind')}"
    result = []
    for name in sorted(grouped, key=search.segment_order):
        members = sorted(grouped[name], key=lambda entry: (entry.published_at, entry.id))
        digest = hashlib.sha256(salt.encode())
        for entry in members:
            digest.update(f"{entry.id}|{entry.fingerprint}|{','.join(entry.labels)}|"
                          f"{extra.get(entry.id, '')}\n".encode())
        result.append(Segment(name, digest.hexdigest()[:16], tuple(members)))
    return result


def _sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()[:32]


class SegmentedOutputs:
    """One publish's search index and data files; ``remember`` once the site is switched."""

    def __init__(self, store: SiteStore, catalogue: Catalogue, site_url: str,
                 segments: Sequence[Segment], scratch: Path,
                 campaign_of: Mapping[int, int] | None = None) -> None:
        self.store = store
        self.campaign_of = dict(campaign_of or {})
        self.catalogue = catalogue
        self.site_url = site_url
        self.segments = list(segments)
        self.scratch = scratch
        self.cache = store.home / "cache"
        state = store.previous_extra(_STATE) or {}
        self.before: dict[str, dict[str, Any]] = state.get("segments", {})
        live = store.out / urls.SEARCH_INDEX_DIR
        self.dirty = [
            segment for segment in self.segments
            if self.before.get(segment.name, {}).get("key") != segment.key
            or not (live / segment.name / "pagefind.js").is_file()
            or not (self.cache / f"data-{segment.name}.json").is_file()
        ]
        names = {segment.name for segment in self.segments}
        data = state.get("data", {})
        # Nothing to assemble when no segment changed and none came or went.
        self.changed = bool(self.dirty) or set(self.before) != names or not data
        self.data_keys: dict[str, str] = data if not self.changed else {}
        self.files: dict[str, bytes] = {}
        self.keys: dict[str, str] = {}
        self.after: dict[str, dict[str, Any]] = {}

    def comments_needed(self) -> set[int]:
        return {entry.id for segment in self.dirty for entry in segment.entries}

    def build(self, public: Mapping[int, CommentPublic]) -> None:
        """Rebuild the dirty segments from ``public``; assemble the data files."""
        self.cache.mkdir(parents=True, exist_ok=True)
        dirty = {segment.name for segment in self.dirty}
        for segment in self.segments:
            if segment.name not in dirty:
                kept = self.before[segment.name]
                self.after[segment.name] = kept
                self.keys.update(kept["files"])
                continue
            comments = [public[entry.id] for entry in segment.entries]
            folder = self.scratch / segment.name
            size = search.index_segment(segment.name, [search.record_for(c) for c in comments],
                                        self.scratch)
            files = {f"{urls.SEARCH_INDEX_DIR}/{segment.name}/"
                     f"{path.relative_to(folder).as_posix()}": path.read_bytes()
                     for path in sorted(folder.rglob("*")) if path.is_file()}
            shutil.rmtree(folder)
            self.files.update(files)
            keys = {path: _sha(content) for path, content in files.items()}
            self.keys.update(keys)
            part = {"key": segment.key,
                    "csv": csv_rows(comments, self.catalogue, site_url=self.site_url,
                                    campaigns=self.campaign_of),
                    "json": json_rows(comments, self.catalogue, site_url=self.site_url,
                                      campaigns=self.campaign_of)}
            (self.cache / f"data-{segment.name}.json").write_text(
                json.dumps(part, ensure_ascii=False), encoding="utf-8")
            self.after[segment.name] = {"key": segment.key, "records": len(comments),
                                        "bytes": size, "files": keys}
        if self.changed:
            self._assemble()
        else:
            self.keys.update(self.data_keys)

    def _assemble(self) -> None:
        manifest = search.manifest_json([
            (segment.name, self.after[segment.name]["records"], segment.key,
             self.after[segment.name]["bytes"]) for segment in self.segments]).encode()
        self._add(f"{urls.SEARCH_INDEX_DIR}/{search.MANIFEST}", manifest)
        csv_parts, json_parts = [csv_header()], []
        for segment in self.segments:
            part = json.loads((self.cache / f"data-{segment.name}.json").read_text("utf-8"))
            csv_parts.append(part["csv"])
            json_parts.extend(part["json"])
        self._add(urls.DATA_CSV, "".join(csv_parts).encode())
        self._add(urls.DATA_JSON, json_array(json_parts).encode())

    def _add(self, path: str, content: bytes) -> None:
        self.files[path] = content
        self.keys[path] = self.data_keys[path] = _sha(content)

    def remember(self) -> None:
        """After the switch: the site now holds these segments (and the cache their rows)."""
        self.store.remember_extra(_STATE, {"segments": self.after, "data": self.data_keys})
        names = {f"data-{segment.name}.json" for segment in self.segments}
        if self.cache.is_dir():
            for entry in self.cache.iterdir():
                if entry.name.startswith("data-") and entry.name not in names:
                    entry.unlink()
