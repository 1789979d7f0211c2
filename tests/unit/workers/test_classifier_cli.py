"""``ogp-feedback classify`` and ``classifier train|status``, and the loop from a
moderator's correction in the UI to a new model version (issue 11, acceptance 3)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from config.catalogue import default_catalogue
from config.settings import Settings
from intake.classifier import store
from intake.classify import catalogue_model
from moderation.db import session_scope
from moderation.models import ClassifierModel, LabelledExample
from moderation.users import add_user
from moderation.web.app import create_app
from tests.conftest import run_cli
from tests.unit.factories import SQLITE_ONLY, load_comment, make_comment
from tests.unit.moderation.web.staff import TestClient, log_in

pytestmark = pytest.mark.usefixtures("fast_hasher")

CATALOGUE = default_catalogue()
MODERATOR, PASSWORD = "mira", "kodi-i-fshehte-2020"

# A kind of message the catalogue does not describe: delays at the building-legalisation
# agency. Moderators decide it is about service delivery (commitment 6).
LEGALISATION = [
    "Legalizimi i shtëpisë sime në ALUIZNI ka 6 vjet që pret. Askush nuk më përgjigjet.",
    "ALUIZNI më kërkoi sërish të njëjtat dokumente për legalizimin.",
    "Kam paguar për legalizimin para katër vitesh dhe ende nuk kam leje legalizimi.",
    "Dosja e legalizimit tim humbi në zyrat e ALUIZNI-t.",
    "Legalizimi i pallatit tonë është bllokuar, ALUIZNI nuk jep asnjë afat.",
    "Pse legalizimi zgjat kaq shumë? Kam pritur pesë vjet për ALUIZNI.",
    "Lejet e legalizimit jepen vetëm me të njohur në ALUIZNI.",
    "ALUIZNI ka vonuar legalizimin e shtëpisë së prindërve të mi prej vitesh.",
]
OFFER = "Special offer: cheap watches, order today with a 50% discount!"
NEW_CASE: dict[str, object] = {"id": "new", "subject": "Legalizimi",
            "body": "Legalizimi i banesës sime në ALUIZNI nuk ka lëvizur prej tre vitesh."}


@pytest.fixture
def moderator(settings: Settings, engine: Engine) -> Iterator[tuple[TestClient, str]]:
    with session_scope(engine) as session:
        add_user(session, MODERATOR, "moderator", PASSWORD)
    with TestClient(create_app(settings, engine=engine), follow_redirects=False) as client:
        yield client, log_in(client, MODERATOR, PASSWORD)


def _jsonl(path: Path, *items: dict[str, object]) -> Path:
    path.write_text("".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items),
                    encoding="utf-8")
    return path


def _classify(settings: Settings, path: Path, *extra: str) -> list[dict[str, Any]]:
    done = run_cli(settings, "classify", str(path), *extra)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_a_moderators_correction_reaches_a_new_model_version(
        settings: Settings, engine: Engine, moderator: tuple[TestClient, str],
        tmp_path: Path) -> None:
    client, csrf = moderator
    # Day one: the catalogue-only model is stored as the first version.
    first = run_cli(settings, "classifier", "train")
    assert first.returncode == 0, first.stderr
    assert "v1 (catalogue only) stored and active" in first.stdout
    case = _jsonl(tmp_path / "case.jsonl", NEW_CASE)
    [before] = _classify(settings, case)
    assert before["model_version"] == "v1"
    assert before["labels"] != [6]  # the catalogue alone gets this kind wrong

    # Moderators correct each such comment in the UI.
    for text in LEGALISATION:
        comment_id = make_comment(engine, text=text, subject="Legalizimi")
        version = load_comment(engine, comment_id).version
        response = client.post(f"/comments/{comment_id}/reclassify", data={
            "csrf_token": csrf, "version": str(version), "commitments": ["6"]})
        assert response.status_code == 303, response.text
    with Session(engine) as session:
        assert len(store.training_examples(session)) == len(LEGALISATION)
        assert {e.commitments for e in session.exec(select(LabelledExample))} == {"6"}

    trained = run_cli(settings, "classifier", "train", "--folds", "2", "--json")
    assert trained.returncode == 0, trained.stderr
    report = json.loads(trained.stdout)
    assert (report["version"], report["activated"], report["baseline_version"]) == (
        "v2", True, "v1")
    assert report["scores"]["macro_f1"] > report["baseline_scores"]["macro_f1"]

    [after] = _classify(settings, case)
    assert (after["model_version"], after["labels"]) == ("v2", [6])
    # The old version is kept, inactive, and still answers as it did.
    [old] = _classify(settings, case, "--model", "v1")
    assert (old["model_version"], old["labels"]) == ("v1", before["labels"])
    with Session(engine) as session:
        rows = session.exec(select(ClassifierModel).order_by(col(ClassifierModel.id))).all()
        assert [(r.version, r.active) for r in rows] == [("v1", False), ("v2", True)]
        # A worker picks the new version up for the next message.
        assert store.load_classifier(session, CATALOGUE).version == "v2"
    status = run_cli(settings, "classifier", "status")
    assert status.returncode == 0, status.stderr
    assert status.stdout.startswith("active: v2 (stored); labelled comments now: 8")


def test_train_keeps_the_active_version_when_the_candidate_is_no_better(
        settings: Settings, engine: Engine) -> None:
    # Comments the catalogue already gets right: a candidate can only tie, not win.
    for text in ("Portali i të dhënave të hapura duhet të ketë skedarë CSV.",
                 "Publish the open data portal's datasets as CSV files, not PDF.",
                 "Të dhënat e hapura në portal nuk përditësohen kurrë.",
                 "Open data on the portal is never updated."):
        comment_id = make_comment(engine, text=text, subject="Open data")
        with session_scope(engine) as session:
            session.add(LabelledExample(comment_id=comment_id, commitments="4",
                                        source="approve", actor=MODERATOR))
    assert store.train(engine, CATALOGUE, "test", folds=2, examples=[]).version == "v1"
    report = store.train(engine, CATALOGUE, "test", folds=2)
    assert (report.version, report.activated, report.baseline_version) == ("v2", False, "v1")
    assert report.scores is not None
    assert report.baseline_scores is not None
    assert report.scores.macro_f1 == report.baseline_scores.macro_f1 == 1.0
    with Session(engine) as session:
        assert [(r.version, r.active) for r in store.versions(session)] == [
            ("v1", True), ("v2", False)]


def test_rejections_as_not_about_the_plan_and_erased_comments(engine: Engine) -> None:
    spam_id = make_comment(engine, text=OFFER, subject="Offer")
    erased_id = make_comment(engine, text="Radhët në sportel janë të gjata.")
    with session_scope(engine) as session:
        spam = load_comment(engine, spam_id)
        spam.status, spam.reject_code = "rejected", "spam"
        erased = load_comment(engine, erased_id)
        erased.erased = True
        session.add_all([spam, erased])
        session.add(LabelledExample(comment_id=erased_id, commitments="6", source="approve",
                                    actor=MODERATOR))
    # Approved with no commitment: about the plan, but which part is unknown.
    approved_id = make_comment(engine, text="Diçka për planin.")
    # Unticked everything: about none of the plan.
    none_id = make_comment(engine, text="Diçka tjetër.")
    with session_scope(engine) as session:
        session.add(LabelledExample(comment_id=approved_id, commitments="", source="approve",
                                    actor=MODERATOR))
        session.add(LabelledExample(comment_id=none_id, commitments="", source="reclassify",
                                    actor=MODERATOR))
    with Session(engine) as session:
        examples = store.training_examples(session)
    assert [(e.group, e.labels) for e in examples] == [(f"comment:{spam_id}", ()),
                                                       (f"comment:{none_id}", ())]


@SQLITE_ONLY
def test_classify_prints_one_line_per_input_in_order(settings: Settings, tmp_path: Path,
                                                     engine: Engine) -> None:
    quoted = ("Të dhënat e hapura duhen në CSV.\n\n"
              "Më 12 tetor 2020, në 10:15, Sekretariati <ogp@example.al> shkroi:\n"
              "> Buxheti i qytetarit, buxheti, shpenzimet e bashkisë, buxheti.\n"
              "> Buxheti i bashkisë dhe shpenzimet publike.\n")
    path = _jsonl(tmp_path / "in.jsonl",
                  {"id": 7, "subject": "", "body": quoted, "labels": [4], "extra": "ignored"},
                  {"id": "b", "subject": "Offer", "body": OFFER},
                  {"id": "c", "subject": "Afati", "body": "Ju lutem zgjatni afatin e komenteve."})
    lines = _classify(settings, path)
    assert [line["id"] for line in lines] == [7, "b", "c"]
    assert set(lines[0]) >= {"id", "labels", "aspect", "spam", "language", "scores",
                             "confidence", "model_version"}
    # The quoted reply about the budget is trimmed before classification.
    assert lines[0]["labels"] == [4]
    assert lines[0]["spam"] is False
    assert (lines[1]["labels"], lines[1]["spam"]) == ([], True)
    assert lines[2]["labels"] == ["general"]
    assert lines[2]["aspect"] == "general"
    assert lines[0]["model_version"] == catalogue_model(CATALOGUE).version
    scores = lines[0]["scores"]
    assert isinstance(scores, dict)
    assert set(scores) == {label.id for label in CATALOGUE.labels}


@SQLITE_ONLY
def test_classify_eval_prints_the_figures(settings: Settings, tmp_path: Path,
                                          engine: Engine) -> None:
    path = _jsonl(tmp_path / "gold.jsonl",
                  {"id": 1, "subject": "", "body": "Portali i të dhënave të hapura.",
                   "labels": [4], "aspect": "commitment", "spam": False},
                  {"id": 2, "subject": "", "body": OFFER,
                   "labels": [], "aspect": "general", "spam": True},
                  {"id": 3, "subject": "", "body": "Portali i të dhënave të hapura.",
                   "labels": [9], "aspect": "milestones", "spam": False})
    done = run_cli(settings, "classify", str(path), "--eval", "--json")
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["per_label"]["4"] == {"precision": 0.5, "recall": 1.0, "f1": 0.6667,
                                         "support": 1}
    assert figures["per_label"]["9"]["recall"] == 0.0
    assert figures["macro_f1"] == pytest.approx((0.6667 + 0.0) / 2, abs=1e-3)
    assert figures["aspect_accuracy"] == 0.5
    assert (figures["off_topic_precision"], figures["off_topic_recall"]) == (1.0, 1.0)
    text = run_cli(settings, "classify", str(path), "--eval")
    assert "macro F1 0.333" in text.stdout
    assert "off-topic precision 1.000" in text.stdout


@SQLITE_ONLY
def test_classify_refuses_a_line_that_is_not_json(settings: Settings, tmp_path: Path,
                                                  engine: Engine) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": 1, "body": "ok"}\nnot json\n', encoding="utf-8")
    done = run_cli(settings, "classify", str(path))
    assert done.returncode == 2
    assert "line 2: not JSON" in done.stderr
