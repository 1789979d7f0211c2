"""Precision, recall and F1 per label, micro and macro F1, aspect accuracy and off-topic
precision and recall: the figures ``classify --eval`` prints and ``train`` compares."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol


class Predicted(Protocol):
    @property
    def commitment_ids(self) -> list[str]: ...

    @property
    def spam(self) -> bool: ...

    @property
    def aspect(self) -> str: ...


@dataclass(frozen=True)
class Gold:
    labels: tuple[str, ...]
    aspect: str | None
    spam: bool


@dataclass(frozen=True)
class LabelFigures:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Scores:
    messages: int
    per_label: dict[str, LabelFigures] = field(default_factory=dict)
    micro_f1: float = 0.0
    macro_f1: float = 0.0
    aspect_accuracy: float | None = None
    off_topic_precision: float = 0.0
    off_topic_recall: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "messages": self.messages,
            "macro_f1": round(self.macro_f1, 4),
            "micro_f1": round(self.micro_f1, 4),
            "aspect_accuracy": None if self.aspect_accuracy is None
            else round(self.aspect_accuracy, 4),
            "off_topic_precision": round(self.off_topic_precision, 4),
            "off_topic_recall": round(self.off_topic_recall, 4),
            "per_label": {label: {"precision": round(f.precision, 4),
                                  "recall": round(f.recall, 4), "f1": round(f.f1, 4),
                                  "support": f.support}
                          for label, f in self.per_label.items()},
        }


def _ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


def _f1(tp: int, fp: int, fn: int) -> float:
    return _ratio(2 * tp, 2 * tp + fp + fn)


def evaluate(gold: Sequence[Gold], predicted: Sequence[Predicted],
             labels: Sequence[str]) -> Scores:
    """Macro F1 averages the labels that occur in the gold set or in the predictions
    (a label nobody wrote about and nobody predicted has no F1 to speak of)."""
    if len(gold) != len(predicted):
        raise ValueError("gold and predictions differ in length")
    tp = dict.fromkeys(labels, 0)
    fp = dict.fromkeys(labels, 0)
    fn = dict.fromkeys(labels, 0)
    aspect_right = aspect_total = 0
    spam_tp = spam_fp = spam_fn = 0
    for truth, guess in zip(gold, predicted, strict=True):
        said = set(guess.commitment_ids)
        real = set(truth.labels)
        for label in labels:
            if label in said and label in real:
                tp[label] += 1
            elif label in said:
                fp[label] += 1
            elif label in real:
                fn[label] += 1
        if truth.aspect is not None and not truth.spam:
            aspect_total += 1
            aspect_right += guess.aspect == truth.aspect
        if guess.spam and truth.spam:
            spam_tp += 1
        elif guess.spam:
            spam_fp += 1
        elif truth.spam:
            spam_fn += 1
    per_label = {
        label: LabelFigures(_ratio(tp[label], tp[label] + fp[label]),
                            _ratio(tp[label], tp[label] + fn[label]),
                            _f1(tp[label], fp[label], fn[label]), tp[label] + fn[label])
        for label in labels
    }
    seen = [label for label in labels if tp[label] + fp[label] + fn[label]]
    macro = sum(per_label[label].f1 for label in seen) / len(seen) if seen else 0.0
    micro = _f1(sum(tp.values()), sum(fp.values()), sum(fn.values()))
    return Scores(
        messages=len(gold), per_label=per_label, micro_f1=micro, macro_f1=macro,
        aspect_accuracy=_ratio(aspect_right, aspect_total) if aspect_total else None,
        off_topic_precision=_ratio(spam_tp, spam_tp + spam_fp),
        off_topic_recall=_ratio(spam_tp, spam_tp + spam_fn),
    )
