"""The plan's catalogue: components, commitments and the ``general`` label.

Loaded from ``catalogue.toml`` beside this module into frozen values; the
classifier and the publisher read it, the database keeps a copy for joins.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CATALOGUE_PATH = Path(__file__).with_name("catalogue.toml")
GENERAL = "general"
# Commitment ids and slugs become file names and URL parts of the public site
# (``publish.urls``): nothing that could climb out of a folder or need escaping.
SAFE_NAME = re.compile(r"[a-z0-9-]+")
# Component ids only name anchors and database rows; the plan's own use underscores.
SAFE_COMPONENT_ID = re.compile(r"[a-z0-9_-]+")


@dataclass(frozen=True)
class Component:
    id: str
    code: str
    title_en: str
    title_sq: str
    summary_en: str
    summary_sq: str
    commitment_ids: tuple[str, ...]


@dataclass(frozen=True)
class Commitment:
    """A commitment of the plan, or the ``general`` label (component ``None``)."""

    id: str
    slug: str
    component_id: str | None
    title_en: str
    title_sq: str
    summary_en: str
    summary_sq: str
    lead_en: str
    lead_sq: str
    keywords_en: tuple[str, ...]
    keywords_sq: tuple[str, ...]


@dataclass(frozen=True)
class Catalogue:
    title_en: str
    title_sq: str
    components: tuple[Component, ...]
    commitments: tuple[Commitment, ...]
    general: Commitment

    @property
    def labels(self) -> tuple[Commitment, ...]:
        """Every label a comment can carry: the commitments, then ``general``."""
        return (*self.commitments, self.general)

    def label(self, label_id: str) -> Commitment:
        for item in self.labels:
            if item.id == label_id:
                return item
        raise KeyError(f"unknown commitment {label_id!r}")

    def component_of(self, commitment: Commitment) -> Component | None:
        for component in self.components:
            if component.id == commitment.component_id:
                return component
        return None


class CatalogueError(ValueError):
    pass


def _strings(table: dict[str, object], key: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CatalogueError(f"{key} must be a list of strings")
    return tuple(value)


def _text(table: dict[str, object], key: str) -> str:
    value = table.get(key, "")
    if not isinstance(value, str):
        raise CatalogueError(f"{key} must be a string")
    return value.strip()


def _checked(kind: str, value: str, pattern: re.Pattern[str] = SAFE_NAME) -> None:
    if not pattern.fullmatch(value):
        allowed = "a-z, 0-9, '-' and '_'" if pattern is SAFE_COMPONENT_ID else "a-z, 0-9 and '-'"
        raise CatalogueError(f"{kind} {value!r} may hold only {allowed}")


def _validate_names(commitments: tuple[Commitment, ...],
                    components: tuple[Component, ...]) -> None:
    for commitment in commitments:
        _checked("commitment id", commitment.id)
        _checked(f"commitment {commitment.id}'s slug", commitment.slug)
    for component in components:
        _checked("component id", component.id, SAFE_COMPONENT_ID)
    ids = [c.id for c in commitments]
    if len(set(ids)) != len(ids) or GENERAL in ids:
        raise CatalogueError(f"commitment ids must be unique and not {GENERAL!r}")


def parse_catalogue(data: dict[str, object]) -> Catalogue:
    plan = data.get("plan")
    raw_components = data.get("components")
    raw_commitments = data.get("commitments")
    raw_general = data.get("general")
    if not isinstance(plan, dict) or not isinstance(raw_components, list):
        raise CatalogueError("catalogue needs [plan] and [[components]]")
    if not isinstance(raw_commitments, list) or not isinstance(raw_general, dict):
        raise CatalogueError("catalogue needs [[commitments]] and [general]")

    commitments = tuple(
        Commitment(
            id=str(item["id"]),
            slug=_text(item, "slug"),
            component_id=_text(item, "component"),
            title_en=_text(item, "title_en"),
            title_sq=_text(item, "title_sq"),
            summary_en=_text(item, "summary_en"),
            summary_sq=_text(item, "summary_sq"),
            lead_en=_text(item, "lead_en"),
            lead_sq=_text(item, "lead_sq"),
            keywords_en=_strings(item, "keywords_en"),
            keywords_sq=_strings(item, "keywords_sq"),
        )
        for item in raw_commitments
    )
    components = tuple(
        Component(
            id=_text(item, "id"),
            code=_text(item, "code"),
            title_en=_text(item, "title_en"),
            title_sq=_text(item, "title_sq"),
            summary_en=_text(item, "summary_en"),
            summary_sq=_text(item, "summary_sq"),
            commitment_ids=tuple(str(c) for c in item.get("commitments", [])),
        )
        for item in raw_components
    )
    general = Commitment(
        id=GENERAL,
        slug=GENERAL,
        component_id=None,
        title_en=_text(raw_general, "title_en"),
        title_sq=_text(raw_general, "title_sq"),
        summary_en=_text(raw_general, "summary_en"),
        summary_sq=_text(raw_general, "summary_sq"),
        lead_en="",
        lead_sq="",
        keywords_en=_strings(raw_general, "keywords_en"),
        keywords_sq=_strings(raw_general, "keywords_sq"),
    )
    _validate_names(commitments, components)
    known = {c.id for c in commitments}
    component_ids = {c.id for c in components}
    for component in components:
        missing = set(component.commitment_ids) - known
        if missing:
            raise CatalogueError(f"component {component.id} names unknown commitments {missing}")
    for commitment in commitments:
        if commitment.component_id not in component_ids:
            raise CatalogueError(f"commitment {commitment.id} has unknown component")
    return Catalogue(
        title_en=_text(plan, "title_en"),
        title_sq=_text(plan, "title_sq"),
        components=components,
        commitments=commitments,
        general=general,
    )


def load_catalogue(path: Path = CATALOGUE_PATH) -> Catalogue:
    with path.open("rb") as handle:
        return parse_catalogue(tomllib.load(handle))


@cache
def default_catalogue() -> Catalogue:
    return load_catalogue()
