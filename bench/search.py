"""Time the public site's search index (Pagefind) at 2,000, 20,000 and 100,000 comments.

usage: python bench/search.py [--sizes 2000,20000,100000] [--workers N]

For each size: a full build from scratch into a fresh folder, then a rebuild after one
comment changed (one segment rebuilt, the others kept by fingerprint), then a build that
adds one new comment. Prints seconds, segments rebuilt and the index size on disk as
Markdown rows. Texts are generated Albanian (with ë/ç), English and mixed sentences of
30 to 250 words, like the consultation's comments.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)

import argparse  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
from dataclasses import replace  # noqa: E402

from intake.receipts import reference_for  # noqa: E402
from publish.search import SearchRecord, build_search_index  # noqa: E402

SENTENCES = [
    "Përgjegjshmëria e qeverisë ndaj qytetarëve duhet të matet çdo vit.",
    "Buxheti i bashkisë nuk botohet kurrë në kohë dhe askush nuk jep llogari.",
    "Regjistri i pronarëve përfitues duhet të jetë i hapur për të gjithë.",
    "Prita dy orë në sportel në qendrën e integruar të shërbimeve.",
    "Shërbimet në e-Albania nuk punojnë natën dhe formularët humbasin.",
    "Vendimet e gjykatave duhet të botohen në internet brenda një jave.",
    "Prokurimi publik ka nevojë për të dhëna të hapura në format CSV.",
    "Konsultimi publik u njoftua vetëm dy ditë përpara afatit.",
    "Qeverisja e hapur kërkon pjesëmarrjen e shoqërisë civile në çdo hap.",
    "Ministria e Drejtësisë nuk iu përgjigj kërkesës sime për informim.",
    "Pergjegjshmeria e institucioneve eshte e dobet ne qytetin tone.",
    "The open data portal should publish procurement data as CSV every month.",
    "Citizens need a simple way to follow what happened to their complaint.",
    "Municipal budgets must be published in a machine readable format.",
    "The anti-corruption commitment lacks measurable indicators and deadlines.",
    "Public consultations should last at least twenty days, not two.",
]
SUBJECTS = ["Buxheti i bashkisë", "Regjistri i pronarëve", "e-Albania", "Drejtësia",
            "Open data", "Prokurimi publik", "Përgjegjshmëria", "Konsultimi", ""]


def records(count: int, seed: int = 1) -> list[SearchRecord]:
    rnd = random.Random(seed)
    result = []
    for number in range(1, count + 1):
        words: list[str] = []
        target = rnd.randint(30, 250)
        while len(words) < target:
            words.extend(rnd.choice(SENTENCES).split())
        reference = reference_for(number)
        result.append(SearchRecord(
            reference=reference, title=rnd.choice(SUBJECTS) or reference,
            content=" ".join(words),
            meta={"reference": reference, "date": f"2026-{rnd.randint(1, 11):02d}-"
                                                  f"{rnd.randint(1, 28):02d}"}))
    return result


def size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def files(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,20000,100000")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    print(f"# Pagefind search index, {os.cpu_count()} cores, Python {platform.python_version()}")
    print("| records | run | seconds | segments rebuilt | size MB | files |")
    print("|---:|---|---:|---:|---:|---:|")
    for count in (int(n) for n in args.sizes.split(",")):
        batch = records(count)
        with tempfile.TemporaryDirectory(prefix="bench-search-") as folder:
            out = Path(folder) / "pagefind"
            runs = [("from scratch", batch)]
            changed = list(batch)
            middle = len(changed) // 2
            edited = changed[middle]
            changed[middle] = replace(edited, content=edited.content + " ndryshim")
            runs.append(("one comment changed", changed))
            added = [*changed, *records(1, seed=2)]
            added[-1] = replace(added[-1], reference=reference_for(count + 1),
                                meta={"reference": reference_for(count + 1)})
            runs.append(("one comment added", added))
            for label, batch_run in runs:
                report = build_search_index(batch_run, out, workers=args.workers)
                print(f"| {count:,} | {label} | {report.seconds:.1f} | "
                      f"{report.rebuilt}/{len(report.segments)} | {size_mb(out):.1f} | "
                      f"{files(out):,} |", flush=True)
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
