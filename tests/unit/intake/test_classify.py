"""Comments are labelled with commitments however citizens spell Albanian."""

from __future__ import annotations

import pytest

from config.catalogue import default_catalogue
from intake.classify import Classifier, detect_language, fold, stem

CLASSIFIER = Classifier(default_catalogue())


def labels(text: str, subject: str = "") -> list[str]:
    return CLASSIFIER.classify(subject, text).commitment_ids


@pytest.mark.parametrize(
    "text",
    ["e-qeverisje", "qeverisja elektronike", "e qeverisje", "eqeverisje",
     "Kam probleme me e-qeverisjen", "QEVERISJA ELEKTRONIKE nuk funksionon"],
)
def test_e_government_spellings_go_to_commitment_3(text: str) -> None:
    assert labels(text) == ["3"]


def test_with_and_without_diacritics_classify_the_same() -> None:
    plain = CLASSIFIER.classify("", "sherbimet ne e-albania")
    accented = CLASSIFIER.classify("", "shërbimet në e-Albania")
    assert plain == accented
    assert plain.commitment_ids == ["3"]


def test_fold_drops_diacritics_and_punctuation() -> None:
    assert fold("Çdo shërbim në E-Albania!") == "cdo sherbim ne e albania"


def test_stem_removes_one_inflection_ending() -> None:
    assert stem("qeverisjes") == stem("qeverisja") == stem("qeverisje") == "qeveris"
    assert stem("data") == "data"  # short words stay whole


@pytest.mark.parametrize("text", ["open data portal", "Please publish more OPEN DATA."])
def test_english_open_data_goes_to_commitment_4(text: str) -> None:
    assert labels(text) == ["4"]


def test_albanian_open_data_goes_to_commitment_4() -> None:
    assert labels("Portali i të dhënave të hapura duhet të përditësohet.") == ["4"]


def test_unrelated_text_is_general() -> None:
    result = CLASSIFIER.classify("Pyetje", "Moti sot është i bukur dhe macja fle.")
    assert result.commitment_ids == ["general"]


def test_general_keywords_label_general_with_the_match() -> None:
    result = CLASSIFIER.classify("", "Ju lutem zgjatja e afatit për komente.")
    assert result.commitment_ids == ["general"]
    assert "zgjatja e afatit" in result.labels[0].matched
    assert result.labels[0].score > 0


def test_subject_counts_more_than_text() -> None:
    budget, open_data = "Buxheti i qytetarit", "Portali i të dhënave të hapura"
    assert labels(open_data, subject=budget)[0] == "9"
    assert labels(budget, subject=open_data)[0] == "4"


MANY_TOPICS = ("korrupsion në ministri, portali i të dhënave të hapura, e-albania, "
               "buxheti i qytetarit, ndihmë juridike, tatimet, vendimet gjyqësore")


def test_at_most_three_labels() -> None:
    unbounded = Classifier(default_catalogue())
    unbounded.max_labels = 20
    unbounded.relative_floor = 0.0
    assert len(unbounded.classify("", MANY_TOPICS).labels) > 3  # the text really is broad
    result = CLASSIFIER.classify("", MANY_TOPICS)
    assert len(result.labels) == 3
    assert "general" not in result.commitment_ids


def test_labels_are_ordered_by_score() -> None:
    result = CLASSIFIER.classify("", "e-albania e-qeverisje qeverisja elektronike; open data")
    scores = [label.score for label in result.labels]
    assert result.commitment_ids[0] == "3"
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize(
    ("text", "language"),
    [("Përshëndetje, kjo është shumë e rëndësishme dhe duhet të ndryshojë.", "sq"),
     ("Pershendetje, kjo eshte shume e rendesishme dhe duhet te ndryshoje.", "sq"),
     ("The plan should be published and we would like to read it.", "en"),
     ("Pershendetje, kjo eshte e rendesishme dhe duhet. "
      "The plan should be published and we have it.", "mixed"),
     ("ok", "und"),
     ("Faleminderit!", "und"),
     ("", "und")],
)
def test_detect_language(text: str, language: str) -> None:
    assert detect_language(text) == language
