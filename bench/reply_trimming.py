"""Reply trimming quality: exact matches on discourse/email_reply_trimmer's expected outputs.

usage: python bench/reply_trimming.py [--verbose] [--corpus DIR]

Runs ``intake.trim.trim_reply`` over every ``emails/X.txt`` of the corpus and compares
its text with ``trimmed/X.txt`` after collapsing whitespace runs to one space and
stripping. Prints the share of exact matches; ``--verbose`` also lists the failing names.
The scoring is the one the unit test asserts a floor on
(``tests/unit/intake/test_trim.py``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.unit.intake.test_trim import TRIMMER_CORPUS, score_corpus  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Reply trimming exact-match score")
    parser.add_argument("--verbose", action="store_true", help="list the failing fixtures")
    parser.add_argument("--corpus", type=Path, default=TRIMMER_CORPUS,
                        help="folder holding emails/ and trimmed/ (default: %(default)s)")
    args = parser.parse_args(argv)
    if not (args.corpus / "emails").is_dir():
        print(f"corpus not found: {args.corpus}", file=sys.stderr)
        return 2
    score = score_corpus(args.corpus)
    print(f"exact matches (whitespace-normalised): {score.matches}/{score.total} "
          f"= {score.share:.1%}")
    if args.verbose:
        for name in score.failures:
            print(f"  FAIL {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
