"""The catalogue of the draft plan: four components, ten commitments and ``general``."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest

from config.catalogue import (
    CATALOGUE_PATH,
    GENERAL,
    CatalogueError,
    default_catalogue,
    load_catalogue,
    parse_catalogue,
)


@pytest.fixture(scope="module")
def raw_catalogue() -> dict[str, Any]:
    with CATALOGUE_PATH.open("rb") as handle:
        return tomllib.load(handle)


def test_loads_four_components_and_ten_commitments_plus_general() -> None:
    catalogue = load_catalogue()
    assert [c.id for c in catalogue.components] == [
        "anti_corruption", "digital_governance", "access_to_justice", "fiscal_transparency"]
    assert [c.id for c in catalogue.commitments] == [str(n) for n in range(1, 11)]
    assert catalogue.general.id == GENERAL
    assert catalogue.general.component_id is None
    assert [label.id for label in catalogue.labels] == [*(str(n) for n in range(1, 11)), GENERAL]


def test_every_commitment_belongs_to_exactly_one_component() -> None:
    catalogue = default_catalogue()
    for commitment in catalogue.commitments:
        owners = [c for c in catalogue.components if commitment.id in c.commitment_ids]
        assert len(owners) == 1, f"commitment {commitment.id} listed by {owners}"
        assert owners[0].id == commitment.component_id
        assert catalogue.component_of(commitment) == owners[0]
    assert catalogue.component_of(catalogue.general) is None


def test_every_label_has_titles_summaries_and_keywords_in_both_languages() -> None:
    for label in default_catalogue().labels:
        for field in ("title_en", "title_sq", "summary_en", "summary_sq", "keywords_en",
                      "keywords_sq"):
            assert getattr(label, field), f"{label.id}: empty {field}"


def test_slugs_are_unique() -> None:
    slugs = [label.slug for label in default_catalogue().labels]
    assert len(slugs) == len(set(slugs))


def test_label_lookup_and_unknown_label() -> None:
    catalogue = default_catalogue()
    assert catalogue.label("3").slug == "e-government-services"
    assert catalogue.label(GENERAL) is catalogue.general
    with pytest.raises(KeyError, match="unknown commitment '99'"):
        catalogue.label("99")


def test_commitment_with_unknown_component_is_rejected(raw_catalogue: dict[str, Any]) -> None:
    data = copy.deepcopy(raw_catalogue)
    data["commitments"][2]["component"] = "space_programme"
    with pytest.raises(CatalogueError, match="commitment 3 has unknown component"):
        parse_catalogue(data)


def test_commitment_without_component_is_rejected(raw_catalogue: dict[str, Any]) -> None:
    data = copy.deepcopy(raw_catalogue)
    del data["commitments"][0]["component"]
    with pytest.raises(CatalogueError, match="commitment 1 has unknown component"):
        parse_catalogue(data)


def test_component_naming_unknown_commitment_is_rejected(raw_catalogue: dict[str, Any]) -> None:
    data = copy.deepcopy(raw_catalogue)
    data["components"][0]["commitments"] = [1, 2, 11]
    with pytest.raises(CatalogueError, match="unknown commitments"):
        parse_catalogue(data)


def test_keywords_must_be_a_list_of_strings(raw_catalogue: dict[str, Any]) -> None:
    data = copy.deepcopy(raw_catalogue)
    data["commitments"][0]["keywords_en"] = "integrity plan"
    with pytest.raises(CatalogueError, match="keywords_en must be a list of strings"):
        parse_catalogue(data)


def test_missing_sections_are_rejected(raw_catalogue: dict[str, Any]) -> None:
    data = copy.deepcopy(raw_catalogue)
    del data["general"]
    with pytest.raises(CatalogueError, match=r"\[general\]"):
        parse_catalogue(data)


@pytest.mark.parametrize(
    ("line", "hostile"),
    [('slug = "integrity-plans"', 'slug = "../x"'),
     ('slug = "integrity-plans"', 'slug = "integrity/plans"'),
     ('slug = "integrity-plans"', 'slug = "Integrity-Plans"'),
     ('slug = "integrity-plans"', 'slug = ""'),
     ("id = 1\n", 'id = "../1"\n'),
     ("id = 1\n", 'id = "1 "\n'),
     ("id = 1\n", 'id = "general"\n'),
     ("id = 1\n", "id = 2\n"),
     ('id = "anti_corruption"', 'id = "../anti"')],
)
def test_a_name_that_could_leave_the_site_folder_is_refused_at_load(
        tmp_path: Path, line: str, hostile: str) -> None:
    text = CATALOGUE_PATH.read_text(encoding="utf-8")
    assert line in text
    path = tmp_path / "catalogue.toml"
    path.write_text(text.replace(line, hostile, 1), encoding="utf-8")
    with pytest.raises(CatalogueError):
        load_catalogue(path)


def test_the_refusal_names_the_bad_slug(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.toml"
    path.write_text(CATALOGUE_PATH.read_text(encoding="utf-8").replace(
        'slug = "integrity-plans"', 'slug = "../x"'), encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"commitment 1's slug '\.\./x' may hold only"):
        load_catalogue(path)
