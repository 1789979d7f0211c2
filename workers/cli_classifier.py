"""``ogp-feedback classify FILE.jsonl [--eval]`` and ``ogp-feedback classifier train|status``.

``classify`` reads JSON lines (``id``, ``subject``, ``body``; other fields ignored), puts
each body through the e-mail text extraction (HTML to text, quote and signature
trimming) and prints one JSON line per input, in order. With ``--eval`` the lines also
carry gold ``labels``, ``aspect`` and ``spam``, and it prints the figures instead; with
``--cv K`` as well, the figures of a model trained on the other folds of the file.

It uses the active model version when the database has one, else the catalogue-only
model; it needs no initialised database.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy.engine import make_url
from sqlmodel import Session

from intake.classifier import store
from intake.classifier.metrics import Gold, Scores, evaluate
from intake.classifier.model import OFF_TOPIC, Model
from intake.classifier.text import join
from intake.classify import Classification, Classifier, catalogue_model, detect_language
from intake.htmltext import html_to_text
from intake.trim import trim_reply
from moderation.db import schema_is_current
from workers.runtime import Runtime

ACTOR = "cli"
_HTML = re.compile(r"<(?:html|body|p|div|br|table)\b", re.IGNORECASE)


class ClassifyError(Exception):
    """A line the command cannot read; printed as a usage error."""


def extract(body: str) -> str:
    """The citizen's own words, as the mail pipeline takes them."""
    text = html_to_text(body) if _HTML.search(body) else body
    return trim_reply(text).text


def _lines(handle: TextIO) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            raise ClassifyError(f"line {number}: not JSON: {error.msg}") from None
        if not isinstance(item, dict):
            raise ClassifyError(f"line {number}: expected a JSON object")
        yield number, item


def _label_value(label: str) -> int | str:
    return int(label) if label.isdigit() else label


def _gold_labels(raw: object, number: int) -> tuple[str, ...]:
    if not isinstance(raw, list):
        raise ClassifyError(f"line {number}: labels must be a list")
    return tuple(str(label) for label in raw)


def result_line(item_id: object, text: str, found: Classification) -> dict[str, Any]:
    return {
        "id": item_id,
        "labels": [_label_value(label) for label in found.commitment_ids],
        "aspect": found.aspect,
        "spam": found.spam,
        "language": detect_language(text),
        "scores": {label: value for label, value in found.scores.items()
                   if label != OFF_TOPIC},
        "off_topic": found.scores.get(OFF_TOPIC, 0.0),
        "confidence": found.confidence,
        "low_confidence": found.low_confidence,
        "model_version": found.model_version,
        "explanation": found.explanation(),
    }


def _classifier(runtime: Runtime, which: str | None) -> Classifier:
    floor = runtime.settings.classifier_low_confidence
    if which == "catalogue":
        return Classifier(runtime.catalogue, catalogue_model(runtime.catalogue), floor)
    current = False
    url = make_url(runtime.settings.database_url)
    # Looking into an SQLite file that is not there would create it: no file, no model.
    if not runtime.settings.is_sqlite or Path(url.database or "").is_file():
        try:
            current = schema_is_current(runtime.engine)
        except Exception:  # no database at all: the catalogue-only model still works
            current = False
    if which is None:
        if not current:
            return Classifier(runtime.catalogue, catalogue_model(runtime.catalogue), floor)
        with Session(runtime.engine) as session:
            return store.load_classifier(session, runtime.catalogue, floor)
    if not current:
        raise ClassifyError(f"model {which}: the database is not initialised")
    with Session(runtime.engine) as session:
        row = next((r for r in store.versions(session) if r.version == which), None)
        if row is None:
            raise ClassifyError(f"no stored model version {which!r}")
        return Classifier(runtime.catalogue, Model.from_bytes(row.data), floor)


def format_scores(scores: Scores, title: str) -> str:
    lines = [title, f"{'label':<10}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}"]
    for label, figures in scores.per_label.items():
        lines.append(f"{label:<10}{figures.precision:>10.3f}{figures.recall:>10.3f}"
                     f"{figures.f1:>10.3f}{figures.support:>9}")
    aspect = "n/a" if scores.aspect_accuracy is None else f"{scores.aspect_accuracy:.3f}"
    lines += [f"macro F1 {scores.macro_f1:.3f}   micro F1 {scores.micro_f1:.3f}   "
              f"aspect accuracy {aspect}",
              f"off-topic precision {scores.off_topic_precision:.3f}   "
              f"recall {scores.off_topic_recall:.3f}   ({scores.messages} messages)"]
    return "\n".join(lines)


def cmd_classify(runtime: Runtime, args: argparse.Namespace) -> int:
    from intake.classifier.train import Example, cross_validate  # scikit-learn: here only

    try:
        classifier = _classifier(runtime, args.model)
        with open(args.file, encoding="utf-8") as handle:
            items = list(_lines(handle))
        labels = [label.id for label in runtime.catalogue.labels]
        gold: list[Gold] = []
        texts: list[tuple[str, str]] = []
        for number, item in items:
            subject, body = str(item.get("subject") or ""), str(item.get("body") or "")
            texts.append((subject, extract(body)))
            if args.eval:
                gold.append(Gold(_gold_labels(item.get("labels", []), number),
                                 item.get("aspect"), bool(item.get("spam", False))))
    except OSError as error:
        raise ClassifyError(f"{args.file}: {error.strerror}") from None
    if not args.eval:
        out = sys.stdout
        for (_, item), (subject, text) in zip(items, texts, strict=True):
            found = classifier.classify(subject, text)
            line = result_line(item.get("id"), f"{subject}\n{text}", found)
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
        return 0
    predictions = [classifier.classify(subject, text, explain=0) for subject, text in texts]
    scores = evaluate(gold, predictions, labels)
    report = [format_scores(scores, f"model {classifier.version}")]
    result: dict[str, Any] = {"model_version": classifier.version, **scores.as_dict()}
    if args.cv:
        examples = [Example(join(subject, text), truth.labels,
                            str(item.get("variant_of") or item.get("id") or number))
                    for (number, item), (subject, text), truth in zip(items, texts, gold,
                                                                      strict=True)]
        cv = cross_validate(runtime.catalogue, examples, args.cv, gold=gold)
        report.append(format_scores(cv.candidate, f"trained: catalogue + the other folds, "
                                                  f"{args.cv}-fold cross-validation"))
        result["cross_validated"] = cv.candidate.as_dict()
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print("\n\n".join(report))
    return 0


def _scores_text(raw: str | None) -> str:
    if not raw:
        return "-"
    data = json.loads(raw)
    return (f"macro F1 {data['macro_f1']:.3f}, micro F1 {data['micro_f1']:.3f}, off-topic "
            f"P {data['off_topic_precision']:.3f} R {data['off_topic_recall']:.3f}")


def cmd_classifier_train(runtime: Runtime, args: argparse.Namespace) -> int:
    report = store.train(runtime.engine, runtime.catalogue, ACTOR, folds=args.folds)
    if args.json:
        print(json.dumps({
            "version": report.version, "activated": report.activated,
            "examples": report.examples, "folds": report.folds,
            "scores": report.scores.as_dict() if report.scores else None,
            "baseline_version": report.baseline_version,
            "baseline_scores": report.baseline_scores.as_dict()
            if report.baseline_scores else None, "message": report.message}))
        return 0
    print(report.message)
    print(f"labelled comments: {report.examples}; folds: {report.folds}")
    if report.scores is not None:
        print(f"candidate {report.version}: {_scores_text(json.dumps(report.scores.as_dict()))}")
    if report.baseline_scores is not None:
        print(f"active {report.baseline_version} on the same folds: "
              f"{_scores_text(json.dumps(report.baseline_scores.as_dict()))}")
    return 0


def cmd_classifier_status(runtime: Runtime, args: argparse.Namespace) -> int:
    with Session(runtime.engine) as session:
        rows = store.versions(session)
        examples = len(store.training_examples(session))
    active = next((row for row in rows if row.active), None)
    active_version = active.version if active else catalogue_model(runtime.catalogue).version
    if args.json:
        print(json.dumps({
            "active": active_version, "labelled_comments": examples,
            "versions": [{"version": r.version, "active": r.active,
                          "created_at": r.created_at.isoformat(), "created_by": r.created_by,
                          "examples": r.examples, "folds": r.folds,
                          "scores": json.loads(r.scores) if r.scores else None,
                          "baseline_version": r.baseline_version,
                          "baseline_scores": json.loads(r.baseline_scores)
                          if r.baseline_scores else None} for r in rows]}))
        return 0
    source = "stored" if active else "catalogue only, nothing trained yet"
    print(f"active: {active_version} ({source}); labelled comments now: {examples}")
    for row in rows:
        mark = "*" if row.active else " "
        print(f"{mark} {row.version:<8} {row.created_at:%Y-%m-%d %H:%M} by {row.created_by}: "
              f"{row.examples} examples, {row.folds} folds; {_scores_text(row.scores)}"
              + (f"; {row.baseline_version} on the same folds: "
                 f"{_scores_text(row.baseline_scores)}" if row.baseline_scores else ""))
    return 0


ACTIONS: dict[str, Callable[[Runtime, argparse.Namespace], int]] = {
    "train": cmd_classifier_train,
    "status": cmd_classifier_status,
}


def cmd_classifier(runtime: Runtime, args: argparse.Namespace) -> int:
    return ACTIONS[args.classifier_command](runtime, args)


def _guarded(handler: Callable[[Runtime, argparse.Namespace], int],
             error: type[Exception]) -> Callable[[Runtime, argparse.Namespace], int]:
    def run(runtime: Runtime, args: argparse.Namespace) -> int:
        try:
            return handler(runtime, args)
        except ClassifyError as problem:
            raise error(str(problem)) from problem
    return run


def add_classifier_parsers(sub: Any, usage_error: type[Exception]) -> None:
    """``classify`` and ``classifier``, on the top-level subparsers ``sub``; refusals are
    raised as ``usage_error`` (the CLI's own, printed as a usage error)."""
    classify = sub.add_parser("classify", help="classify JSON lines (id, subject, body); "
                                               "--eval: score them against gold labels")
    classify.set_defaults(handler=_guarded(cmd_classify, usage_error))
    classify.add_argument("file", metavar="FILE.jsonl")
    classify.add_argument("--eval", action="store_true",
                          help="lines carry gold labels, aspect and spam: print precision, "
                               "recall and F1 per label, micro and macro F1, aspect accuracy, "
                               "off-topic precision and recall")
    classify.add_argument("--cv", type=int, default=0, metavar="K",
                          help="with --eval: also train on K-1 folds of the file (plus the "
                               "catalogue) and score the held-out fold, for each fold")
    classify.add_argument("--model", metavar="VERSION",
                          help="a stored version, or 'catalogue' (default: the active one)")
    classify.add_argument("--json", action="store_true", help="with --eval: one JSON object")

    classifier = sub.add_parser("classifier", help="train a new classifier version from "
                                                   "moderators' labels, or show the versions")
    classifier.set_defaults(handler=cmd_classifier)
    actions = classifier.add_subparsers(dest="classifier_command", required=True,
                                        metavar="ACTION")
    train = actions.add_parser("train", help="build a version from the catalogue and the "
                                             "labelled comments; activate it only if it beats "
                                             "the active one on the same folds")
    train.add_argument("--folds", type=int, default=store.DEFAULT_FOLDS,
                       help="cross-validation folds (default 5)")
    train.add_argument("--json", action="store_true", help="print the report as JSON")
    status = actions.add_parser("status", help="the active version, its scores, every "
                                               "stored version")
    status.add_argument("--json", action="store_true", help="print a JSON object")
