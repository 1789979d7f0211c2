"""The classifier: labels with calibrated scores, off-topic, aspect, confidence and the
words behind each label, however citizens spell Albanian."""

from __future__ import annotations

import io

import numpy as np
import pytest

from config.catalogue import default_catalogue
from intake.classifier.aspect import guess_aspect
from intake.classifier.model import OFF_TOPIC, Model
from intake.classifier.text import fold, normal_word, stem, words
from intake.classify import Classifier, catalogue_model, detect_language

CATALOGUE = default_catalogue()
CLASSIFIER = Classifier(CATALOGUE)
LABELS = [label.id for label in CATALOGUE.labels]


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
    plain = CLASSIFIER.classify("", "sherbimet ne e-albania nuk punojne, cdo dite gabim")
    accented = CLASSIFIER.classify("", "shërbimet në e-Albania nuk punojnë, çdo ditë gabim")
    assert plain.scores == accented.scores
    assert plain.commitment_ids == accented.commitment_ids == ["3"]


def test_fold_drops_diacritics_and_punctuation() -> None:
    assert fold("Çdo shërbim në E-Albania!") == "cdo sherbim ne e albania"


def test_spelling_variants_meet() -> None:
    assert words("Përgjigjja") == words("pergjigja")  # doubled letters, diacritics
    assert normal_word("asht") == "eshte"  # Gheg
    assert stem("qeverisjes") == stem("qeverisja") == stem("qeverisje") == "qeveris"
    assert stem("data") == "data"  # short words stay whole


@pytest.mark.parametrize("text", ["open data portal", "Please publish more OPEN DATA.",
                                  "Portali i të dhënave të hapura duhet të përditësohet."])
def test_open_data_goes_to_commitment_4(text: str) -> None:
    assert labels(text) == ["4"]


def test_a_situation_without_the_plans_words_finds_its_commitment() -> None:
    result = CLASSIFIER.classify("Radha", "Prita tre orë në sportel dhe askush nuk më tha "
                                 "sa do të zgjaste. Sporteli u mbyll për drekë.")
    assert result.commitment_ids == ["6"]
    assert not result.spam
    assert "sportel" in [w.lower() for w in result.labels[0].matched]


def test_text_about_nothing_in_the_plan_is_off_topic() -> None:
    result = CLASSIFIER.classify("Pyetje", "Moti sot është i bukur dhe macja fle.")
    assert result.spam is True
    assert result.labels == ()
    assert result.scores[OFF_TOPIC] >= 0.5
    assert result.explanation()[OFF_TOPIC]


def test_consultation_deadline_is_general_with_its_reasons() -> None:
    result = CLASSIFIER.classify("", "Ju lutem zgjatni afatin për komente.")
    assert result.commitment_ids == ["general"]
    assert result.aspect == "general"
    assert "afatin" in result.labels[0].matched
    assert result.labels[0].score == result.scores["general"] >= 0.5


def test_scores_are_probabilities_for_every_label_and_off_topic() -> None:
    result = CLASSIFIER.classify("", "Buxheti i bashkisë nuk publikohet kurrë.")
    assert set(result.scores) == {*LABELS, OFF_TOPIC}
    assert all(0.0 <= value <= 1.0 for value in result.scores.values())
    assert result.model_version == catalogue_model(CATALOGUE).version


def test_two_topics_get_two_labels_ordered_by_score() -> None:
    result = CLASSIFIER.classify("Buxheti i qytetarit", "Portali i të dhënave të hapura")
    assert sorted(result.commitment_ids) == ["4", "9"]
    scores = [label.score for label in result.labels]
    assert scores == sorted(scores, reverse=True)


MANY_TOPICS = ("korrupsion në ministri, portali i të dhënave të hapura, e-albania, "
               "buxheti i qytetarit, ndihmë juridike, tatimet, vendimet gjyqësore")


def test_at_most_three_labels() -> None:
    eager = Classifier(CATALOGUE)
    eager.threshold = 0.0  # every label qualifies: only the cap limits them
    result = eager.classify("", MANY_TOPICS)
    assert len(result.labels) == 3
    assert "general" not in result.commitment_ids


def test_unsure_answers_are_flagged_low_confidence() -> None:
    unsure = CLASSIFIER.classify("", "Kam një pyetje.")
    sure = CLASSIFIER.classify("", "Kërkoj të dhëna të hapura në format CSV në portalin "
                               "opendata.gov.al")
    assert unsure.low_confidence
    assert unsure.confidence < 0.5
    assert not sure.low_confidence
    assert sure.confidence >= 0.5
    strict = Classifier(CATALOGUE, low_confidence_below=1.0)
    assert strict.classify("", "Kërkoj të dhëna të hapura në format CSV.").low_confidence


@pytest.mark.parametrize(
    ("text", "chosen", "aspect"),
    [("Propozoj që bashkitë të jenë partnere dhe ta drejtojnë këtë punë.", ("9",),
      "institutions"),
     ("Deri në qershor 2022 duhet të ketë 50 grupe të dhënash, me tregues të qartë.", ("4",),
      "milestones"),
     ("Zgjatni afatin e konsultimit publik.", ("general",), "general"),
     ("Shtoni një angazhim të ri për mjedisin.", ("general",), "commitment"),
     ("Radhët në sportel janë shumë të gjata.", ("6",), "commitment")],
)
def test_aspect(text: str, chosen: tuple[str, ...], aspect: str) -> None:
    assert guess_aspect(text, chosen).aspect == aspect


def test_model_survives_a_round_trip_through_bytes() -> None:
    model = catalogue_model(CATALOGUE)
    again = Model.from_bytes(model.to_bytes())
    text = "Firma që fitoi tenderin është e regjistruar në emër të një shoferi."
    assert again.version == model.version
    assert again.score(text).probabilities == model.score(text).probabilities


def test_model_bytes_never_unpickle() -> None:
    buffer = io.BytesIO()
    np.savez(buffer, header=np.array([{"format": 1}], dtype=object))
    with pytest.raises(ValueError, match="pickle"):
        Model.from_bytes(buffer.getvalue())


@pytest.mark.parametrize(
    ("text", "language"),
    [("Përshëndetje, kjo është shumë e rëndësishme dhe duhet të ndryshojë.", "sq"),
     ("Pershendetje, kjo eshte shume e rendesishme dhe duhet te ndryshoje.", "sq"),
     ("The plan should be published and we would like to read it.", "en"),
     ("Pershendetje, kjo eshte e rendesishme dhe duhet. "
      "The plan should be published and we have it.", "mixed"),
     ("Prita tre orë në sportel. Nobody told me how long it would take, it is a shame.",
      "mixed"),
     ("ok", "und"),
     ("Faleminderit!", "und"),
     ("", "und")],
)
def test_detect_language(text: str, language: str) -> None:
    assert detect_language(text) == language
