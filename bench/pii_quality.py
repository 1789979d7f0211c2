"""Personal-data detection quality: precision and recall per kind on the labelled sentences.

usage: python bench/pii_quality.py [--verbose] [--dataset FILE]

Runs ``intake.pii.detect_personal_data`` over every line of ``tests/data/pii_sentences.jsonl``
(text, sender name, expected spans) and prints a Markdown table: for each kind, how many
spans were expected and found, how many of those match exactly (kind and boundaries), and
precision and recall. ``--verbose`` lists every false positive and false negative. The
scoring is the one the unit test holds floors on (``tests/unit/intake/test_pii.py``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.unit.intake.test_pii import DATASET, load_dataset, score, table  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Personal-data detection precision/recall")
    parser.add_argument("--verbose", action="store_true", help="list every miss")
    parser.add_argument("--dataset", type=Path, default=DATASET,
                        help="labelled JSON lines (default: %(default)s)")
    args = parser.parse_args(argv)
    items = load_dataset(args.dataset)
    scores = score(items)
    print(f"{len(items)} sentences, {sum(1 for i in items if not i.expected)} with nothing "
          "to find")
    print(table(scores))
    if args.verbose:
        for kind, entry in scores.items():
            for miss in entry.misses:
                print(f"  {kind.value}: {miss}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
