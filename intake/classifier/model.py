"""A trained model as plain arrays: how a text is scored, explained and stored.

One linear layer over tf-idf weighted features (``text.features``) gives a decision
value for each label and for "off-topic"; a per-column sigmoid fitted on out-of-fold
decisions (Platt scaling) turns each into a calibrated probability. The arrays are
saved with ``numpy.savez`` and read back with ``allow_pickle=False``: loading a model
never runs code from the database.
"""

from __future__ import annotations

import io
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from intake.classifier import text as textmod

OFF_TOPIC = "off-topic"
FORMAT = 1

Floats = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Scored:
    """What the linear layer says about one text, before any decision."""

    probabilities: dict[str, float]  # label (and ``off-topic``) -> calibrated probability
    # label (and ``off-topic``) -> words that pushed towards it, strongest first
    reasons: dict[str, tuple[str, ...]]


@dataclass
class Model:
    version: str
    labels: tuple[str, ...]  # the catalogue's labels, then ``off-topic`` last
    vocabulary: dict[str, int]
    idf: Floats
    weights: Floats  # (features, columns)
    bias: Floats  # (columns,)
    platt_a: Floats  # (columns,) calibrated p = sigmoid(a * decision + b)
    platt_b: Floats
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def columns(self) -> tuple[str, ...]:
        return self.labels

    # ------------------------------------------------------------ scoring

    def score(self, text: str, explain: int = 5) -> Scored:
        pairs = textmod.word_pairs(text)
        occurrences: list[tuple[int, int]] = []  # (feature column, word position)
        vocab = self.vocabulary
        for position, (normal, _) in enumerate(pairs):
            for feature in textmod.word_features(normal):
                index = vocab.get(feature)
                if index is not None:
                    occurrences.append((index, position))
        columns = len(self.labels)
        if not occurrences:
            decision = self.bias.astype(np.float64)
            return Scored(self._calibrate(decision), {})
        counts = Counter(index for index, _ in occurrences)
        indices = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
        values = (1.0 + np.log(tf)) * self.idf[indices]
        norm = float(np.sqrt(np.dot(values, values)))
        if norm > 0:
            values /= norm
        rows = self.weights[indices]  # (unique features, columns)
        contributions = rows * values[:, None]
        decision = contributions.sum(axis=0, dtype=np.float64) + self.bias
        probabilities = self._calibrate(decision)
        reasons: dict[str, tuple[str, ...]] = {}
        if explain:
            reasons = self._reasons(pairs, occurrences, indices, tf, contributions, columns,
                                    explain)
        return Scored(probabilities, reasons)

    def _calibrate(self, decision: npt.NDArray[np.float64]) -> dict[str, float]:
        z = self.platt_a * decision + self.platt_b
        probabilities = 1.0 / (1.0 + np.exp(-z))
        return {label: float(p) for label, p in zip(self.labels, probabilities, strict=True)}

    def _reasons(self, pairs: list[tuple[str, str]], occurrences: list[tuple[int, int]],
                 indices: npt.NDArray[np.int64], tf: Floats,
                 contributions: npt.NDArray[np.floating[Any]],
                 columns: int, explain: int) -> dict[str, tuple[str, ...]]:
        """Share each feature's contribution among the words it came from, then add the
        shares up per distinct word (as the citizen wrote it)."""
        position_of = {int(index): i for i, index in enumerate(indices)}
        per_occurrence = contributions / tf[:, None]
        by_word: dict[str, npt.NDArray[np.float64]] = {}
        written: dict[str, str] = {}
        for index, position in occurrences:
            normal, as_written = pairs[position]
            if len(normal) < 3 and not normal.isdigit():
                continue  # "e", "te", "në": glue, not a reason a moderator can use
            key = textmod.stem(normal)  # "sportel", "sporteli": one reason
            total = by_word.get(key)
            share = per_occurrence[position_of[index]].astype(np.float64)
            by_word[key] = share if total is None else total + share
            written.setdefault(key, as_written)
        reasons: dict[str, tuple[str, ...]] = {}
        if not by_word:
            return reasons
        names = list(by_word)
        matrix = np.vstack([by_word[name] for name in names])  # (words, columns)
        for column in range(columns):
            weights = matrix[:, column]
            order = np.argsort(-weights, kind="stable")[:explain]
            reasons[self.labels[column]] = tuple(
                written[names[i]] for i in order if weights[i] > 0.0)
        return reasons

    # ------------------------------------------------------------ storage

    def to_bytes(self) -> bytes:
        features = [""] * len(self.vocabulary)
        for feature, index in self.vocabulary.items():
            features[index] = feature
        buffer = io.BytesIO()
        header = {"format": FORMAT, "version": self.version, "labels": list(self.labels),
                  "meta": self.meta}
        np.savez_compressed(
            buffer, header=np.array(json.dumps(header)), features=np.array(features),
            idf=self.idf, weights=self.weights, bias=self.bias, platt_a=self.platt_a,
            platt_b=self.platt_b)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Model:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            header = json.loads(str(arrays["header"]))
            if header.get("format") != FORMAT:
                raise ValueError(f"unknown classifier model format {header.get('format')!r}")
            features = arrays["features"].tolist()
            return cls(
                version=str(header["version"]),
                labels=tuple(header["labels"]),
                vocabulary={feature: i for i, feature in enumerate(features)},
                idf=arrays["idf"].astype(np.float32),
                weights=np.ascontiguousarray(arrays["weights"], dtype=np.float32),
                bias=arrays["bias"].astype(np.float32),
                platt_a=arrays["platt_a"].astype(np.float32),
                platt_b=arrays["platt_b"].astype(np.float32),
                meta=dict(header.get("meta") or {}),
            )


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))
