"""Build a model from the catalogue plus labelled examples (scikit-learn), and score
a recipe by cross-validation.

Day one has no examples: every sentence of the catalogue (titles, summaries, lead
institutions, keywords, in both languages) is a short document labelled with its
commitment, and ``seeds.OFF_TOPIC_SEEDS`` stand for mail about none. Moderators'
labels are added as whole documents, weighted above the catalogue's fragments because
they are what citizens really write.

Pure: takes values, returns a ``Model``; no database.
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import sparse  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression

from config.catalogue import Catalogue
from intake.classifier import text as textmod
from intake.classifier.metrics import Gold, Scores, evaluate
from intake.classifier.model import OFF_TOPIC, Model
from intake.classifier.seeds import OFF_TOPIC_SEEDS

# Regularisation of every column; liblinear, balanced classes.
C = 4.0
EXAMPLE_WEIGHT = 3.0
CALIBRATION_FOLDS = 4
_SENTENCE = re.compile(r"(?<=[.;:!?])\s+")


@dataclass(frozen=True)
class Example:
    """A text with its labels (empty: about none of the plan). ``group`` keeps related
    texts (one comment, or a message and its retyped copy) in the same fold."""

    text: str
    labels: tuple[str, ...]
    group: str = ""
    weight: float = 1.0


def catalogue_examples(catalogue: Catalogue) -> list[Example]:
    out: list[Example] = []
    for label in catalogue.labels:
        one = (label.id,)
        pieces = [label.title_en, label.title_sq, label.lead_en, label.lead_sq,
                  label.summary_en, label.summary_sq]
        for summary in (label.summary_en, label.summary_sq):
            pieces.extend(_SENTENCE.split(summary))
        pieces.extend(label.keywords_en)
        pieces.extend(label.keywords_sq)
        out.extend(Example(p, one, f"catalogue:{label.id}:{i}")
                   for i, p in enumerate(pieces) if p.strip())
    for component in catalogue.components:
        ids = tuple(component.commitment_ids)
        for piece in (component.title_en, component.title_sq, component.summary_en,
                      component.summary_sq):
            out.append(Example(piece, ids, f"component:{component.id}"))
    out.extend(Example(seed, (), f"seed:{i}") for i, seed in enumerate(OFF_TOPIC_SEEDS))
    return out


@lru_cache(maxsize=16384)
def _features(text: str) -> tuple[str, ...]:
    # The catalogue's documents are featurised once per process, not once per fold.
    return tuple(textmod.features(text))


def _raw(featured: Sequence[Sequence[str]]) -> tuple[dict[str, int], sparse.csr_matrix]:
    """The vocabulary and the sublinear term frequencies (1 + log tf), one row a text."""
    vocabulary: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for row, items in enumerate(featured):
        counts = Counter(vocabulary.setdefault(f, len(vocabulary)) for f in items)
        rows.extend([row] * len(counts))
        cols.extend(counts.keys())
        vals.extend(1.0 + math.log(c) for c in counts.values())
    matrix = sparse.csr_matrix((vals, (rows, cols)), shape=(len(featured), len(vocabulary)),
                               dtype=np.float64)
    return vocabulary, matrix


def _idf(raw: sparse.csr_matrix) -> np.ndarray:
    """Smoothed idf; 0 for a feature no row has, which the model then never reads
    (as ``Model.score`` skips a feature outside its vocabulary)."""
    df = np.bincount(raw.indices, minlength=raw.shape[1])
    idf = np.log((1.0 + raw.shape[0]) / (1.0 + df)) + 1.0
    idf[df == 0] = 0.0
    return np.asarray(idf, dtype=np.float64)


def _weigh(raw: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    matrix = sparse.csr_matrix(raw.multiply(idf))
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix)


def _targets(examples: Sequence[Example], columns: Sequence[str]) -> np.ndarray:
    y = np.zeros((len(examples), len(columns)), dtype=np.int8)
    for row, example in enumerate(examples):
        for col, label in enumerate(columns):
            if label == OFF_TOPIC:
                y[row, col] = 0 if example.labels else 1
            else:
                y[row, col] = 1 if label in example.labels else 0
    return y


def _fit_columns(x: sparse.csr_matrix, y: np.ndarray, weights: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    coef = np.zeros((x.shape[1], y.shape[1]), dtype=np.float64)
    bias = np.full(y.shape[1], -5.0)
    for col in range(y.shape[1]):
        target = y[:, col]
        if target.min() == target.max():
            bias[col] = 5.0 if target[0] else -5.0
            continue
        fitted = LogisticRegression(C=C, solver="liblinear", dual=True,
                                    class_weight="balanced", max_iter=1000)
        fitted.fit(x, target, sample_weight=weights)
        coef[:, col] = fitted.coef_[0]
        bias[col] = fitted.intercept_[0]
    return coef, bias


def _folds(examples: Sequence[Example], k: int, seed: int = 0) -> list[int]:
    """A fold number for each example; examples of one group share a fold."""
    groups = sorted({e.group or f"#{i}" for i, e in enumerate(examples)})
    random.Random(seed).shuffle(groups)  # noqa: S311 - folds, not secrets
    fold_of = {group: i % k for i, group in enumerate(groups)}
    return [fold_of[e.group or f"#{i}"] for i, e in enumerate(examples)]


def _platt(decisions: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = np.ones(y.shape[1])
    b = np.zeros(y.shape[1])
    for col in range(y.shape[1]):
        target = y[:, col]
        if target.min() == target.max():
            continue
        fitted = LogisticRegression(C=100.0)
        fitted.fit(decisions[:, [col]], target)
        a[col] = fitted.coef_[0][0]
        b[col] = fitted.intercept_[0]
    return a, b


# How off-topic is decided (``intake.classify``): "absolute" (its probability reaches one
# half and no label's does) or "relative" (it is more likely than the best label).
OFF_TOPIC_RULES = ("absolute", "relative")
_MIN_RULE_EXAMPLES = 5


def _off_topic_rule(decisions: np.ndarray, y: np.ndarray, platt_a: np.ndarray,
                    platt_b: np.ndarray, is_example: list[bool]) -> str:
    """The rule that does better on the moderators' examples, judged on out-of-fold
    probabilities. The catalogue's fragments cannot judge it (they are not messages):
    without enough examples of both kinds the rule stays "absolute"."""
    rows = np.flatnonzero(is_example)
    off = y[rows, -1]
    if off.sum() < _MIN_RULE_EXAMPLES or (1 - off).sum() < _MIN_RULE_EXAMPLES:
        return "absolute"
    p = 1.0 / (1.0 + np.exp(-(platt_a * decisions[rows] + platt_b)))
    p_off, p_top = p[:, -1], p[:, :-1].max(axis=1)
    said = {"absolute": (p_off >= 0.5) & (p_top < 0.5), "relative": p_off > p_top}

    def f1(guess: np.ndarray) -> float:
        tp = float((guess & (off == 1)).sum())
        return 2 * tp / (float(guess.sum()) + float(off.sum()))

    return "relative" if f1(said["relative"]) > f1(said["absolute"]) else "absolute"


def fit(catalogue: Catalogue, examples: Sequence[Example], version: str,
        meta: dict[str, object] | None = None) -> Model:
    """The catalogue's documents plus ``examples``, one logistic regression per column,
    each calibrated on its out-of-fold decisions."""
    columns = (*(label.id for label in catalogue.labels), OFF_TOPIC)
    data = [*catalogue_examples(catalogue),
            *(Example(e.text, e.labels, e.group or f"example:{i}", EXAMPLE_WEIGHT)
              for i, e in enumerate(examples))]
    vocabulary, raw = _raw([_features(e.text) for e in data])
    weights = np.array([e.weight for e in data])
    y = _targets(data, columns)
    idf = _idf(raw)
    coef, bias = _fit_columns(_weigh(raw, idf), y, weights)
    # Out-of-fold decisions for the calibration: each document scored by a model that
    # did not see it (nor its group).
    decisions = np.zeros(y.shape, dtype=np.float64)
    fold_of = np.array(_folds(data, CALIBRATION_FOLDS))
    for fold in range(CALIBRATION_FOLDS):
        train, test = fold_of != fold, fold_of == fold
        fold_idf = _idf(raw[train])
        fold_coef, fold_bias = _fit_columns(_weigh(raw[train], fold_idf), y[train],
                                            weights[train])
        decisions[test] = _weigh(raw[test], fold_idf) @ fold_coef + fold_bias
    platt_a, platt_b = _platt(decisions, y)
    meta = {**(meta or {}), "off_topic_rule": _off_topic_rule(
        decisions, y, platt_a, platt_b, [e.weight == EXAMPLE_WEIGHT for e in data])}
    return Model(
        version=version, labels=columns, vocabulary=vocabulary,
        idf=idf.astype(np.float32),
        weights=np.ascontiguousarray(coef, dtype=np.float32),
        bias=bias.astype(np.float32), platt_a=platt_a.astype(np.float32),
        platt_b=platt_b.astype(np.float32), meta=meta)


@dataclass(frozen=True)
class CrossValidation:
    folds: int
    candidate: Scores
    baseline: Scores | None
    # Each example's prediction by the candidate trained without its fold, in order.
    predictions: tuple[object, ...] = ()


def cross_validate(catalogue: Catalogue, examples: Sequence[Example], folds: int,
                   baseline_groups: set[str] | None = None,
                   gold: Sequence[Gold] | None = None) -> CrossValidation:
    """Train on all folds but one, score the held-out fold, for each fold.

    ``baseline_groups``: the example groups the active version was built from (empty for
    the catalogue-only model). Its recipe is retrained on the same folds, from those of
    its examples that lie in the training part, so both are scored on exactly the same
    held-out messages. ``gold``: figures with aspects (default: labels and off-topic).
    """
    from intake.classify import Classifier  # the decision rule lives in the façade

    fold_of = _folds(examples, folds)
    truth = list(gold) if gold is not None else [
        Gold(labels=e.labels, aspect=None, spam=not e.labels) for e in examples]
    candidate_predictions: list[object] = [None] * len(examples)
    baseline_predictions: list[object] = [None] * len(examples)
    for fold in range(folds):
        train = [e for e, f in zip(examples, fold_of, strict=True) if f != fold]
        test = [i for i, f in enumerate(fold_of) if f == fold]
        if not test:
            continue
        candidate = Classifier(catalogue, fit(catalogue, train, f"cv-{fold}"))
        baseline = None
        if baseline_groups is not None:
            kept = [e for e in train if e.group in baseline_groups]
            baseline = (Classifier(catalogue, fit(catalogue, kept, f"cv-base-{fold}"))
                        if kept else Classifier(catalogue))
        for i in test:
            example = examples[i]
            candidate_predictions[i] = candidate.classify("", example.text, explain=0)
            if baseline is not None:
                baseline_predictions[i] = baseline.classify("", example.text, explain=0)
    labels = [label.id for label in catalogue.labels]
    return CrossValidation(
        folds=folds,
        candidate=evaluate(truth, candidate_predictions, labels),  # type: ignore[arg-type]
        baseline=evaluate(truth, baseline_predictions, labels)  # type: ignore[arg-type]
        if baseline_groups is not None else None,
        predictions=tuple(candidate_predictions),
    )
