"""Where each page of the public site lives: one place, so links never disagree.

Every path is relative to the site's root and names a file (``.html``), never a
folder, so the site works from a static web server and from a folder opened in a
browser alike. Pages in a language live under ``sq/`` or ``en/``; the root holds the
Albanian index, the assets, the search index and the open data.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

Language = Literal["sq", "en"]
LANGUAGES: tuple[Language, ...] = ("sq", "en")
DEFAULT_LANGUAGE: Language = "sq"

# Comments and archive pages a commitment shows per page.
PAGE_SIZE = 50


def comment_shard(reference: str) -> str:
    """The folder of a comment page: the reference number without its last three digits
    ("OGP-000123" -> "000", "OGP-123456" -> "123"), so no folder holds more than 1,000 pages
    and one new comment changes one folder."""
    digits = reference.removeprefix("OGP-")
    return digits[:-3] or "0"


def comment_page(language: Language, reference: str) -> str:
    return f"{language}/comments/{comment_shard(reference)}/{reference}.html"


def campaign_page(language: Language, campaign_id: int) -> str:
    """A campaign's page: its text, its count, its members' own sentences; the members'
    pages link to it. Few (tens), so one folder."""
    return f"{language}/campaigns/{campaign_id}.html"


def index_page(language: Language) -> str:
    return f"{language}/index.html"


def commitment_page(language: Language, label_id: str) -> str:
    """The front page of a commitment ("general" included): counts and the newest comments."""
    return f"{language}/commitments/{label_id}.html"


def archive_page(language: Language, label_id: str, number: int) -> str:
    """Page ``number`` of a commitment's comments, counted from the oldest published: page 1
    always holds the first 50, so a page's URL keeps its comments as new ones arrive."""
    return f"{language}/commitments/{label_id}/page-{number}.html"


def commitment_feed(language: Language, label_id: str) -> str:
    return f"{language}/commitments/{label_id}.atom"


def feed(language: Language) -> str:
    return f"{language}/feed.atom"


def search_page(language: Language) -> str:
    return f"{language}/search.html"


def data_page(language: Language) -> str:
    """The open data: the files, the data dictionary and the licence."""
    return f"{language}/data.html"


ROOT_INDEX = "index.html"
ROOT_FEED = "feed.atom"
STYLESHEET = "assets/style.css"
SEARCH_SCRIPT = "assets/search.js"
SEARCH_INDEX_DIR = "pagefind"
DATA_CSV = "data/comments.csv"
DATA_JSON = "data/comments.json"
DATA_PACKAGE = "data/datapackage.json"


def relative(from_page: str, to_path: str) -> str:
    """The link from one page to another path of the site ("sq/index.html" to
    "assets/style.css" is "../assets/style.css"; "sq/commitments/6/page-1.html" to
    "sq/commitments/6/page-2.html" is "page-2.html")."""
    return _relative(from_page.rpartition("/")[0], to_path)


@lru_cache(maxsize=65536)
def _relative(from_folder: str, to_path: str) -> str:
    here = from_folder.split("/") if from_folder else []
    there = to_path.split("/")
    common = 0
    while (common < len(here) and common < len(there) - 1
           and here[common] == there[common]):
        common += 1
    return "../" * (len(here) - common) + "/".join(there[common:])


def other_language(language: Language) -> Language:
    return "en" if language == "sq" else "sq"


def in_language(path: str, language: Language) -> str:
    """The same page in ``language`` (the language switcher); the root index maps to the
    language's index."""
    if path == ROOT_INDEX:
        return index_page(language)
    head, _, rest = path.partition("/")
    if head in LANGUAGES:
        return f"{language}/{rest}"
    return path
