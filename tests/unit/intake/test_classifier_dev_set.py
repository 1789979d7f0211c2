"""The regression floor: the catalogue-only classifier on the development set
(``tests/data/classifier_dev.jsonl``, hand-written, see ``tests/data/README.md``).

The floors sit a little under today's figures (bench/README.md): a change that costs
more than noise fails here. The set is for measuring, not for tuning to: the held-out
set it stands for is worded by other people.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from config.catalogue import default_catalogue
from intake.classifier.metrics import Gold, Scores, evaluate
from intake.classify import Classification, Classifier
from workers.cli_classifier import extract

DEV_SET = Path(__file__).parents[2] / "data" / "classifier_dev.jsonl"
CATALOGUE = default_catalogue()


def _rows() -> list[dict[str, Any]]:
    with DEV_SET.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@pytest.fixture(scope="module")
def predicted() -> list[tuple[dict[str, Any], Classification]]:
    classifier = Classifier(CATALOGUE)
    return [(row, classifier.classify(row["subject"], extract(row["body"]))) for row in _rows()]


@pytest.fixture(scope="module")
def scores(predicted: list[tuple[dict[str, Any], Classification]]) -> Scores:
    gold = [Gold(tuple(str(label) for label in row["labels"]), row["aspect"], row["spam"])
            for row, _ in predicted]
    labels = [label.id for label in CATALOGUE.labels]
    return evaluate(gold, [found for _, found in predicted], labels)


def test_the_set_covers_what_the_issue_asks_for() -> None:
    rows = _rows()
    assert len(rows) >= 300
    assert {row["language"] for row in rows} == {"sq", "en", "mixed"}
    assert sum(row["spam"] for row in rows) >= 40
    assert sum(len(row["labels"]) > 1 for row in rows) >= 20
    assert sum("> " in row["body"] for row in rows) >= 10  # quoted replies
    assert sum(len(row["body"]) > 600 for row in rows) >= 10  # long letters
    assert sum(len(row["body"]) < 60 for row in rows) >= 10  # one-liners
    assert sum("variant_of" in row for row in rows) >= 30  # typed without ë/ç
    labels = {str(label) for row in rows for label in row["labels"]}
    assert labels == {label.id for label in CATALOGUE.labels}


def test_catalogue_only_model_stays_above_the_floor(scores: Scores) -> None:
    assert scores.macro_f1 >= 0.80
    assert scores.micro_f1 >= 0.80
    assert scores.aspect_accuracy is not None
    assert scores.aspect_accuracy >= 0.82
    assert scores.off_topic_precision >= 0.72
    assert scores.off_topic_recall >= 0.80
    assert min(figures.f1 for figures in scores.per_label.values()) >= 0.65


def test_a_message_typed_without_diacritics_scores_exactly_like_the_original(
        predicted: list[tuple[dict[str, Any], Classification]]) -> None:
    by_id = {row["id"]: found for row, found in predicted}
    pairs = [(by_id[row["variant_of"]], found) for row, found in predicted
             if "variant_of" in row]
    assert pairs
    assert all(original.scores == retyped.scores for original, retyped in pairs)
