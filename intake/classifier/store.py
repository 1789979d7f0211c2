"""Model versions and training data in the database: the classifier's only adapter.

- ``load_classifier``: the active stored version, else the catalogue-only model.
- ``training_examples``: what moderators said (the latest reclassification or approval
  of each comment; rejections as spam, off-topic or not about the plan count as "about
  none"); erased comments never train anything.
- ``train``: a candidate from the catalogue plus those examples, scored against the
  active version on the same folds, stored in every case, activated only if it wins.
- ``record_classification``: the classifier's view of one comment, with the version.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from config.catalogue import Catalogue
from intake.classifier.metrics import Scores
from intake.classifier.model import Model
from intake.classifier.text import join
from intake.classify import Classification, Classifier, catalogue_model
from moderation.db import session_scope
from moderation.models import (
    ClassifierModel,
    Comment,
    CommentClassification,
    LabelledExample,
    RejectCode,
    utcnow,
)

if TYPE_CHECKING:  # scikit-learn loads only to train: every command imports this module
    from intake.classifier.train import Example

NOT_ABOUT_THE_PLAN = (RejectCode.SPAM, RejectCode.OFF_TOPIC, RejectCode.NOT_ABOUT_PLAN)
DEFAULT_FOLDS = 5


def active_row(session: Session) -> ClassifierModel | None:
    return session.exec(select(ClassifierModel).where(col(ClassifierModel.active))
                        .order_by(col(ClassifierModel.id).desc())).first()


def load_classifier(session: Session, catalogue: Catalogue,
                    low_confidence_below: float = 0.5) -> Classifier:
    row = active_row(session)
    model = Model.from_bytes(row.data) if row is not None else catalogue_model(catalogue)
    return Classifier(catalogue, model, low_confidence_below)


class ClassifierCache:
    """The active classifier for a long-running process; looks for a newly activated
    version at most every ``check_seconds`` (one small query), loads it when it changed."""

    def __init__(self, engine: Engine, catalogue: Catalogue, low_confidence_below: float,
                 check_seconds: float = 60.0) -> None:
        self._engine = engine
        self._catalogue = catalogue
        self._floor = low_confidence_below
        self._check_seconds = check_seconds
        self._lock = threading.Lock()
        self._classifier: Classifier | None = None
        self._checked = 0.0

    def get(self) -> Classifier:
        with self._lock:
            now = time.monotonic()
            if self._classifier is not None and now - self._checked < self._check_seconds:
                return self._classifier
            self._checked = now
            with Session(self._engine) as session:
                version = session.exec(select(ClassifierModel.version).where(
                    col(ClassifierModel.active)).order_by(col(ClassifierModel.id).desc())).first()
                current = self._classifier
                if current is None or (version is not None and version != current.version):
                    self._classifier = load_classifier(session, self._catalogue, self._floor)
            assert self._classifier is not None
            return self._classifier


def record_classification(session: Session, comment_id: int,
                          classification: Classification) -> CommentClassification:
    row = CommentClassification(
        comment_id=comment_id, model_version=classification.model_version[:64],
        spam=classification.spam, aspect=classification.aspect,
        confidence=classification.confidence, low_confidence=classification.low_confidence,
        explanation=json.dumps(classification.explanation(), ensure_ascii=False),
        scores=json.dumps(dict(classification.scores), sort_keys=True))
    session.add(row)
    return row


def training_examples(session: Session) -> list[Example]:
    from intake.classifier.train import Example

    latest = (select(LabelledExample.comment_id, func.max(LabelledExample.id).label("last"))
              .group_by(col(LabelledExample.comment_id)).subquery())
    labelled = session.exec(
        select(Comment, LabelledExample)
        .join(latest, col(Comment.id) == latest.c.comment_id)
        .join(LabelledExample, col(LabelledExample.id) == latest.c.last)
        .where(col(Comment.erased).is_(False))
        .order_by(col(Comment.id))).all()
    examples: dict[int, Example] = {}
    for comment, example in labelled:
        labels = tuple(c for c in example.commitments.split(",") if c)
        if not labels and example.source != "reclassify":
            # Approved while it had no commitment (classified off-topic, not corrected):
            # about the plan, but nobody said which part; it teaches nothing safe.
            continue
        examples[comment.id or 0] = Example(join(comment.subject, comment.text), labels,
                                            f"comment:{comment.id}")
    rejected = session.exec(
        select(Comment).where(col(Comment.reject_code).in_([str(c) for c in NOT_ABOUT_THE_PLAN]),
                              col(Comment.erased).is_(False),
                              col(Comment.status) == "rejected")).all()
    for comment in rejected:
        # A rejection as not about the plan says more than an earlier approval did.
        examples[comment.id or 0] = Example(join(comment.subject, comment.text), (),
                                            f"comment:{comment.id}")
    return [examples[key] for key in sorted(examples)]


@dataclass(frozen=True)
class TrainReport:
    version: str | None  # the stored candidate; None when nothing was stored
    activated: bool
    examples: int
    folds: int
    scores: Scores | None
    baseline_version: str | None
    baseline_scores: Scores | None
    message: str


def _better(candidate: Scores, baseline: Scores) -> bool:
    """Strictly better on macro F1 over the labels; on a tie, on off-topic F1, then
    micro F1 (a tie everywhere keeps the active version)."""
    def off_topic_f1(s: Scores) -> float:
        p, r = s.off_topic_precision, s.off_topic_recall
        return 2 * p * r / (p + r) if p + r else 0.0

    key_c = (round(candidate.macro_f1, 6), round(off_topic_f1(candidate), 6),
             round(candidate.micro_f1, 6))
    key_b = (round(baseline.macro_f1, 6), round(off_topic_f1(baseline), 6),
             round(baseline.micro_f1, 6))
    return key_c > key_b


def _next_version(session: Session) -> str:
    count = session.exec(select(func.count()).select_from(ClassifierModel)).one()
    return f"v{int(count) + 1}"


def train(engine: Engine, catalogue: Catalogue, actor: str, folds: int = DEFAULT_FOLDS,
          examples: Sequence[Example] | None = None) -> TrainReport:
    from intake.classifier.train import cross_validate, fit

    with Session(engine) as session:
        found = list(examples) if examples is not None else training_examples(session)
        active = active_row(session)
        version = _next_version(session)
    active_model = Model.from_bytes(active.data) if active is not None else None
    groups = sorted({e.group for e in found})
    if len(groups) < 2:
        if active is not None:
            return TrainReport(None, False, len(found), 0, None, active.version, None,
                               "not enough labelled comments to cross-validate (need 2); "
                               f"{active.version} stays active")
        model = fit(catalogue, found, version,
                    {"examples": len(found), "groups": groups, "source": "catalogue"})
        _store(engine, model, actor, True, len(found), 0, None, None, None)
        return TrainReport(version, True, len(found), 0, None, None, None,
                           f"{version} (catalogue only) stored and active")
    k = min(folds, len(groups))
    baseline_groups: set[str] = set()
    if active_model is not None:
        baseline_groups = {str(g) for g in active_model.meta.get("groups", [])}
    cv = cross_validate(catalogue, found, k, baseline_groups=baseline_groups)
    assert cv.baseline is not None
    activated = _better(cv.candidate, cv.baseline)
    model = fit(catalogue, found, version,
                {"examples": len(found), "groups": groups, "source": "trained"})
    baseline_version = active.version if active is not None else catalogue_model(catalogue).version
    _store(engine, model, actor, activated, len(found), k, cv.candidate, baseline_version,
           cv.baseline)
    verdict = ("activated" if activated else
               f"kept inactive: it does not beat {baseline_version} on the same folds")
    return TrainReport(version, activated, len(found), k, cv.candidate, baseline_version,
                       cv.baseline, f"{version} stored and {verdict}")


def _store(engine: Engine, model: Model, actor: str, activate: bool, examples: int,
           folds: int, scores: Scores | None, baseline_version: str | None,
           baseline_scores: Scores | None) -> None:
    with session_scope(engine) as session:
        now = utcnow()
        if activate:
            for row in session.exec(select(ClassifierModel).where(col(ClassifierModel.active))):
                row.active = False
                session.add(row)
        session.add(ClassifierModel(
            version=model.version, created_by=actor, active=activate,
            activated_at=now if activate else None, examples=examples, folds=folds,
            scores=json.dumps(scores.as_dict()) if scores is not None else None,
            baseline_version=baseline_version,
            baseline_scores=json.dumps(baseline_scores.as_dict())
            if baseline_scores is not None else None,
            data=model.to_bytes()))


def versions(session: Session) -> list[ClassifierModel]:
    return list(session.exec(select(ClassifierModel).order_by(col(ClassifierModel.id))).all())
