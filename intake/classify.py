"""The classifier: which commitments (or ``general``) a message is about, whether it is
about the plan at all, which aspect, how sure, and why.

``Classifier`` wraps a ``Model`` (``intake.classifier``): the catalogue-only model from
day one, or a trained version from the database. The decision rule lives here, in one
place: off-topic when its calibrated probability reaches one half; else every label
whose probability reaches the threshold (at most three), or the single best one; the
confidence is that of the weakest part of the decision, and below the configured floor
the comment is flagged for a person rather than trusted.

Pure: no database, no clock; the same text always gets the same answer from one model.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from config.catalogue import GENERAL, Catalogue
from intake.classifier.aspect import guess_aspect
from intake.classifier.language import detect_language
from intake.classifier.model import OFF_TOPIC, Model
from intake.classifier.text import fold, join, stem, tokens

__all__ = ["Classification", "Classifier", "LabelScore", "catalogue_model",
           "detect_language", "fold", "stem", "tokens"]

DEFAULT_LOW_CONFIDENCE = 0.5
_PACKAGE = Path(__file__).with_name("classifier")


@dataclass(frozen=True)
class LabelScore:
    commitment_id: str
    score: float  # calibrated probability
    matched: tuple[str, ...]  # the words that weighed most for this label


@dataclass(frozen=True)
class Classification:
    labels: tuple[LabelScore, ...]
    spam: bool = False
    aspect: str = "commitment"
    confidence: float = 0.0
    low_confidence: bool = False
    model_version: str = ""
    # Every label's calibrated probability, and ``off-topic``'s.
    scores: Mapping[str, float] = field(default_factory=dict)
    spam_reasons: tuple[str, ...] = ()
    aspect_cues: tuple[str, ...] = ()

    @property
    def commitment_ids(self) -> list[str]:
        return [label.commitment_id for label in self.labels]

    def explanation(self) -> dict[str, list[str]]:
        """Label (or ``off-topic``, ``aspect``) -> the terms that weighed most."""
        out = {label.commitment_id: list(label.matched) for label in self.labels}
        if self.spam:
            out[OFF_TOPIC] = list(self.spam_reasons)
        if self.aspect_cues:
            out["aspect"] = list(self.aspect_cues)
        return out


def _catalogue_digest(catalogue: Catalogue) -> str:
    """Changes with the catalogue and with the code that turns it into a model."""
    digest = hashlib.sha256(repr(catalogue).encode("utf-8"))
    for name in ("text.py", "train.py", "seeds.py", "model.py"):
        digest.update((_PACKAGE / name).read_bytes())
    return digest.hexdigest()[:10]


@cache
def catalogue_model(catalogue: Catalogue) -> Model:
    """The model built from the catalogue alone (and the off-topic seeds): what the
    classifier uses until a trained version is activated.

    Building takes seconds; loading the arrays well under one. So the built model is
    kept in the temporary directory under a name that changes with the catalogue and
    the code, and each process builds it at most once.
    """
    version = f"catalogue-{_catalogue_digest(catalogue)}"
    cached = Path(tempfile.gettempdir()) / "ogp-feedback-classifier" / f"{version}.npz"
    try:
        model = Model.from_bytes(cached.read_bytes())
        if model.version == version:
            return model
    except (OSError, ValueError, KeyError):
        pass  # not built yet here, or unreadable: build it
    from intake.classifier.train import fit  # scikit-learn only when building

    model = fit(catalogue, [], version, {"examples": 0, "source": "catalogue"})
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(model.to_bytes())
        os.replace(partial, cached)
    except OSError:
        pass  # a read-only temporary directory only costs the next process a build
    return model


class Classifier:
    max_labels = 3
    threshold = 0.5

    def __init__(self, catalogue: Catalogue, model: Model | None = None,
                 low_confidence_below: float = DEFAULT_LOW_CONFIDENCE) -> None:
        self.catalogue = catalogue
        self.model = model if model is not None else catalogue_model(catalogue)
        self.low_confidence_below = low_confidence_below

    @property
    def version(self) -> str:
        return self.model.version

    def classify(self, subject: str, text: str, explain: int = 5) -> Classification:
        scored = self.model.score(join(subject, text), explain=explain)
        p = scored.probabilities
        off_topic = p.get(OFF_TOPIC, 0.0)
        scores = {label: round(value, 4) for label, value in p.items()}
        ranked = sorted((label for label in p if label != OFF_TOPIC),
                        key=lambda label: (-p[label], label))
        top = p[ranked[0]]
        # The catalogue-only model: off-topic only when no label fits either (a message
        # that clearly names a commitment's subject is feedback, however personal its
        # tone). A trained model may have learnt, on moderators' examples, that "more
        # likely off-topic than any label" decides better (``train.OFF_TOPIC_RULES``).
        if self.model.meta.get("off_topic_rule") == "relative":
            off = off_topic > top
        else:
            off = off_topic >= 0.5 and top < self.threshold
        if off:
            return Classification(
                labels=(), spam=True, aspect="general", confidence=round(off_topic, 4),
                low_confidence=off_topic < self.low_confidence_below,
                model_version=self.version, scores=scores,
                spam_reasons=scored.reasons.get(OFF_TOPIC, ()))
        chosen = [label for label in ranked[: self.max_labels] if p[label] >= self.threshold]
        if not chosen:
            chosen = ranked[:1]
        elif chosen[0] != GENERAL and GENERAL in chosen:
            # "The plan" is in almost every letter ("Komente për planin"): beside a
            # commitment that fits better, ``general`` is that boilerplate, not a topic.
            chosen.remove(GENERAL)
        labels = tuple(LabelScore(label, round(p[label], 4), scored.reasons.get(label, ()))
                       for label in chosen)
        aspect = guess_aspect(f"{subject}\n{text}", tuple(chosen))
        # As sure as the weakest step: "about the plan" and "about this label".
        confidence = round(min(1.0 - off_topic, p[chosen[0]]), 4)
        return Classification(
            labels=labels, spam=False, aspect=aspect.aspect, confidence=confidence,
            low_confidence=confidence < self.low_confidence_below,
            model_version=self.version, scores=scores, aspect_cues=aspect.cues)
