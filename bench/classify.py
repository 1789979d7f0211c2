"""Classifier v1: quality on the development set, speed, model load time.

usage: python bench/classify.py [--repeat N] [--folds K] [--skip-cv]

- Quality: the catalogue-only model on ``tests/data/classifier_dev.jsonl``, and a model
  trained on the catalogue plus K-1 folds of the set, scored on the held-out fold, for each
  fold (a message and its copy typed without ë/ç share a fold). Macro and micro F1 over
  the 11 labels, aspect accuracy, off-topic precision and recall, and the expected
  calibration error of the label probabilities (10 bins over every message x label).
- Speed: the set's messages (after quote and signature trimming) classified N times over,
  one thread, as CPU seconds of this process (per core, whatever else the machine runs);
  "classification alone" is ``Classifier.classify`` (labels, off-topic, aspect, scores,
  explanations), "with language" adds ``detect_language``.
- Load: ``Model.from_bytes`` of the stored arrays (what a worker does at start and after a
  new version is activated), best of 5; and a new Python process that imports the
  classifier and loads the model.

Prints Markdown rows for ``bench/README.md``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # this folder has a queue.py that would hide the standard library's

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import date  # noqa: E402

from config.catalogue import default_catalogue  # noqa: E402
from intake.classifier.metrics import Gold, Scores, evaluate  # noqa: E402
from intake.classifier.model import OFF_TOPIC, Model  # noqa: E402
from intake.classifier.text import join  # noqa: E402
from intake.classifier.train import Example, cross_validate, fit  # noqa: E402
from intake.classify import (  # noqa: E402
    Classification,
    Classifier,
    catalogue_model,
    detect_language,
)
from workers.cli_classifier import extract  # noqa: E402

DEV_SET = ROOT / "tests" / "data" / "classifier_dev.jsonl"


def calibration_error(gold: list[Gold], found: list[Classification], labels: list[str]
                      ) -> float:
    """Expected calibration error of every label probability (10 equal-width bins)."""
    pairs = [(c.scores.get(label, 0.0), 1.0 if label in g.labels else 0.0)
             for g, c in zip(gold, found, strict=True) for label in labels]
    bins: list[list[tuple[float, float]]] = [[] for _ in range(10)]
    for p, y in pairs:
        bins[min(int(p * 10), 9)].append((p, y))
    return sum(abs(sum(p for p, _ in b) - sum(y for _, y in b)) for b in bins if b) / len(pairs)


def row(name: str, scores: Scores, ece: float) -> str:
    aspect = "-" if scores.aspect_accuracy is None else f"{scores.aspect_accuracy:.3f}"
    return (f"| {date.today()} | {name} | {scores.messages} | {scores.macro_f1:.3f} | "
            f"{scores.micro_f1:.3f} | {aspect} | {scores.off_topic_precision:.3f} | "
            f"{scores.off_topic_recall:.3f} | {ece:.3f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--skip-cv", action="store_true")
    args = parser.parse_args()

    catalogue = default_catalogue()
    labels = [label.id for label in catalogue.labels]
    rows = [json.loads(line) for line in DEV_SET.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    texts = [(r["subject"], extract(r["body"])) for r in rows]
    gold = [Gold(tuple(str(x) for x in r["labels"]), r["aspect"], r["spam"]) for r in rows]

    classifier = Classifier(catalogue)
    found = [classifier.classify(s, t) for s, t in texts]
    print("| date | model | messages | macro F1 | micro F1 | aspect acc. | off-topic P "
          "| off-topic R | calibration error |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(row("catalogue only", evaluate(gold, found, labels),
              calibration_error(gold, found, labels)))
    if not args.skip_cv:
        examples = [Example(join(s, t), g.labels, r.get("variant_of") or r["id"])
                    for r, (s, t), g in zip(rows, texts, gold, strict=True)]
        cv = cross_validate(catalogue, examples, args.folds, gold=gold)
        cv_found = [c for c in cv.predictions if isinstance(c, Classification)]
        print(row(f"trained, {args.folds}-fold cross-validated", cv.candidate,
                  calibration_error(gold, cv_found, labels)))

    # Speed: CPU seconds of this process, one thread.
    work = texts * args.repeat
    classifier.classify(*work[0])
    started = time.process_time()
    for subject, text in work:
        classifier.classify(subject, text)
    alone = time.process_time() - started
    started = time.process_time()
    for subject, text in work:
        classifier.classify(subject, text)
        detect_language(f"{subject}\n{text}")
    with_language = time.process_time() - started
    chars = sum(len(s) + len(t) for s, t in texts) / len(texts)

    # Load: the catalogue-only model, and one trained on the whole set (more features).
    trained = fit(catalogue, [Example(join(s, t), g.labels) for (s, t), g
                              in zip(texts, gold, strict=True)], "bench")
    loads = {}
    for name, model in (("catalogue only", catalogue_model(catalogue)), ("trained", trained)):
        data = model.to_bytes()
        best = min(_timed(lambda data=data: Model.from_bytes(data)) for _ in range(5))
        loads[name] = (best, len(data), len(model.vocabulary))
    with tempfile.NamedTemporaryFile(suffix=".npz", delete=False) as handle:
        handle.write(trained.to_bytes())
    fresh = subprocess.run(
        [sys.executable, "-c",
         "import time; t = time.perf_counter();"
         "from pathlib import Path;"
         "from config.catalogue import default_catalogue;"
         "from intake.classify import Classifier;"
         "from intake.classifier.model import Model;"
         f"m = Model.from_bytes(Path({handle.name!r}).read_bytes());"
         "c = Classifier(default_catalogue(), m);"
         "c.classify('', 'Prita tre orë në sportel.');"
         "print(time.perf_counter() - t)"],
        cwd=ROOT, capture_output=True, text=True, check=True)
    Path(handle.name).unlink()

    machine = f"{platform.machine()}, Python {platform.python_version()}"
    print()
    print("| date | messages | mean chars | classification alone msg/s/core "
          "| with language msg/s/core | machine |")
    print("|---|---|---|---|---|---|")
    print(f"| {date.today()} | {len(work)} | {chars:.0f} | {len(work) / alone:.0f} | "
          f"{len(work) / with_language:.0f} | {machine} |")
    print()
    print("| date | model | features | stored KB | load (from_bytes) ms | new process: import + "
          "load + first message s |")
    print("|---|---|---|---|---|---|")
    for name, (best, size, features) in loads.items():
        extra = f"{float(fresh.stdout):.2f}" if name == "trained" else "-"
        print(f"| {date.today()} | {name} | {features} | {size // 1024} | {best * 1000:.0f} | "
              f"{extra} |")
    assert OFF_TOPIC in classifier.model.labels
    return 0


def _timed(action: object) -> float:
    assert callable(action)
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


if __name__ == "__main__":
    raise SystemExit(main())
