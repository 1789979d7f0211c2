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
_WORD_CACHE = 200_000

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
    _word_columns: dict[str, tuple[int, ...]] = field(default_factory=dict, repr=False,
                                                       compare=False)

    @property
    def columns(self) -> tuple[str, ...]:
        return self.labels

    # ------------------------------------------------------------ scoring

    def _indices(self, word: str) -> tuple[int, ...]:
        """The vocabulary columns of one normalised word's features (kept per model:
        words repeat across messages far more than they vary)."""
        found = self._word_columns.get(word)
        if found is None:
            vocab = self.vocabulary
            found = tuple(vocab[f] for f in textmod.word_features(word) if f in vocab)
            if len(self._word_columns) >= _WORD_CACHE:
                self._word_columns.clear()
            self._word_columns[word] = found
        return found

    def score(self, text: str, explain: int = 5) -> Scored:
        pairs = textmod.word_pairs(text)
        word_counts = Counter(normal for normal, _ in pairs)
        counts: dict[int, int] = {}
        for word, times in word_counts.items():
            for index in self._indices(word):
                counts[index] = counts.get(index, 0) + times
        if not counts:
            return Scored(self._calibrate(self.bias.astype(np.float64)), {})
        indices = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
        values = (1.0 + np.log(tf)) * self.idf[indices]
        norm = float(np.sqrt(np.dot(values, values)))
        if norm > 0:
            values /= norm
        contributions = self.weights[indices] * values[:, None]  # (unique features, columns)
        decision = contributions.sum(axis=0, dtype=np.float64) + self.bias
        probabilities = self._calibrate(decision)
        reasons: dict[str, tuple[str, ...]] = {}
        if explain:
            reasons = self._reasons(pairs, word_counts, indices, tf, contributions, explain)
        return Scored(probabilities, reasons)

    def _calibrate(self, decision: npt.NDArray[np.float64]) -> dict[str, float]:
        z = self.platt_a * decision + self.platt_b
        probabilities = 1.0 / (1.0 + np.exp(-z))
        return {label: float(p) for label, p in zip(self.labels, probabilities, strict=True)}

    def _reasons(self, pairs: list[tuple[str, str]], word_counts: Counter[str],
                 indices: npt.NDArray[np.int64], tf: Floats,
                 contributions: npt.NDArray[np.floating[Any]],
                 explain: int) -> dict[str, tuple[str, ...]]:
        """Share each feature's contribution among the word occurrences it came from,
        then add the shares up per word stem ("sportel", "sporteli": one reason),
        shown as the citizen first wrote it."""
        row_of = {int(index): row for row, index in enumerate(indices)}
        written: dict[str, str] = {}
        for normal, as_written in pairs:
            written.setdefault(normal, as_written)
        keys: dict[str, int] = {}
        shown: list[str] = []
        rows: list[int] = []
        owners: list[int] = []
        times: list[float] = []
        for word, count in word_counts.items():
            if len(word) < 3 and not word.isdigit():
                continue  # "e", "te", "në": glue, not a reason a moderator can use
            columns = self._indices(word)
            if not columns:
                continue
            key = textmod.stem(word)
            owner = keys.get(key)
            if owner is None:
                owner = keys[key] = len(shown)
                shown.append(written[word])
            for column in columns:
                rows.append(row_of[column])
                owners.append(owner)
                times.append(count)
        if not rows:
            return {}
        shares = (contributions[rows] / tf[rows, None]) * np.asarray(times)[:, None]
        matrix = np.zeros((len(shown), contributions.shape[1]), dtype=np.float64)
        np.add.at(matrix, np.asarray(owners), shares)
        reasons: dict[str, tuple[str, ...]] = {}
        for column, label in enumerate(self.labels):
            weights = matrix[:, column]
            order = np.argsort(-weights, kind="stable")[:explain]
            reasons[label] = tuple(shown[i] for i in order if weights[i] > 0.0)
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
