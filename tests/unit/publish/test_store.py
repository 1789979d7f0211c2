"""``SiteStore``: immutable folders behind one symlink, rebuilt only where pages changed."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from publish.store import MARKER, SiteStore, StoreError


class Renderer:
    """Renders "<path>@<key>" and remembers which pages it was asked for."""

    def __init__(self, plans: dict[str, str]) -> None:
        self.plans = plans
        self.calls: list[str] = []

    def __call__(self, path: str) -> bytes:
        self.calls.append(path)
        return f"{path}@{self.plans[path]}".encode()


def publish(out: Path, plans: dict[str, str],
            render: Callable[[str], bytes] | None = None) -> tuple[Renderer, int, int]:
    renderer = Renderer(plans)
    store = SiteStore(out)
    with store.locked():
        report = store.publish(plans, render or renderer)
    return renderer, report.written, report.unchanged


def site_of(out: Path) -> dict[str, str]:
    files = {}
    for folder, _dirs, names in os.walk(out, followlinks=True):
        for name in names:
            path = Path(folder, name)
            files[path.relative_to(out).as_posix()] = path.read_text(encoding="utf-8")
    files.pop(MARKER)
    return files


SITE = {
    "index.html": "a",
    "sq/index.html": "b",
    "sq/comments/000/OGP-000001.html": "c1",
    "sq/comments/000/OGP-000002.html": "c2",
    "sq/comments/001/OGP-001000.html": "c3",
    "en/index.html": "d",
}


def test_the_output_is_a_symlink_to_a_complete_site(tmp_path: Path) -> None:
    out = tmp_path / "site"
    renderer, written, unchanged = publish(out, SITE)

    assert out.is_symlink()
    assert site_of(out) == {path: f"{path}@{key}" for path, key in SITE.items()}
    assert (written, unchanged) == (len(SITE), 0)
    assert sorted(renderer.calls) == sorted(SITE)


def test_one_changed_page_is_the_only_one_rendered(tmp_path: Path) -> None:
    out = tmp_path / "site"
    publish(out, SITE)
    first_root = out.resolve()

    changed = {**SITE, "sq/comments/000/OGP-000002.html": "c2-edited"}
    renderer, written, unchanged = publish(out, changed)

    assert renderer.calls == ["sq/comments/000/OGP-000002.html"]
    assert (written, unchanged) == (1, len(SITE) - 1)
    assert site_of(out)["sq/comments/000/OGP-000002.html"] == (
        "sq/comments/000/OGP-000002.html@c2-edited")
    # A reader who opened the old site a moment ago still finds every page of it.
    assert (first_root / "sq" / "comments" / "000" / "OGP-000002.html").read_text() == (
        "sq/comments/000/OGP-000002.html@c2")
    # Unchanged folders are shared between the two sites, not copied.
    assert (out / "sq" / "comments" / "001").resolve() == (
        first_root / "sq" / "comments" / "001").resolve()


def test_nothing_changed_renders_nothing(tmp_path: Path) -> None:
    out = tmp_path / "site"
    publish(out, SITE)
    renderer, written, unchanged = publish(out, SITE)
    assert (renderer.calls, written, unchanged) == ([], 0, len(SITE))


def test_a_page_rendered_to_the_same_bytes_is_not_counted_as_written(tmp_path: Path) -> None:
    out = tmp_path / "site"
    publish(out, SITE)
    same_bytes = {**SITE, "en/index.html": "d2"}

    _, written, unchanged = publish(out, same_bytes,
                                    render=lambda path: f"{path}@{SITE[path]}".encode())

    assert (written, unchanged) == (0, len(SITE))


def test_removed_pages_disappear_and_old_trees_are_collected(tmp_path: Path) -> None:
    out = tmp_path / "site"
    publish(out, SITE)
    oldest = out.resolve()
    smaller = {path: key for path, key in SITE.items() if "001" not in path}
    publish(out, smaller)
    publish(out, {**smaller, "index.html": "a2"})

    assert "sq/comments/001/OGP-001000.html" not in site_of(out)
    assert not oldest.exists()  # neither the current site nor the one before it


def test_a_failed_publish_leaves_the_site_as_it_was(tmp_path: Path) -> None:
    out = tmp_path / "site"
    publish(out, SITE)
    before = site_of(out)

    def broken(path: str) -> bytes:
        raise RuntimeError("template error")

    with pytest.raises(RuntimeError):
        publish(out, {**SITE, "index.html": "a2"}, render=broken)

    assert site_of(out) == before
    renderer, _, _ = publish(out, {**SITE, "index.html": "a2"})
    assert renderer.calls == ["index.html"]


def test_a_folder_publish_did_not_make_is_refused_untouched(tmp_path: Path) -> None:
    out = tmp_path / "documents"
    out.mkdir()
    (out / "thesis.odt").write_text("years of work", encoding="utf-8")

    with pytest.raises(StoreError, match="did not make"):
        publish(out, SITE)

    assert (out / "thesis.odt").read_text(encoding="utf-8") == "years of work"
    assert not out.is_symlink()


def test_an_empty_folder_becomes_the_site(tmp_path: Path) -> None:
    out = tmp_path / "site"
    out.mkdir()
    publish(out, SITE)
    assert out.is_symlink()
    assert site_of(out)["index.html"] == "index.html@a"


def test_the_store_stays_inside_the_output_folders_parent(tmp_path: Path) -> None:
    volume = tmp_path / "srv-site"  # e.g. a volume's mount point: never renamed
    volume.mkdir()
    publish(volume / "current", SITE)
    publish(volume / "current", {**SITE, "index.html": "a2"})
    assert sorted(p.name for p in volume.iterdir()) == [".current.store", "current"]
    assert (volume / "current" / "index.html").read_text() == "index.html@a2"


@pytest.mark.parametrize("bad", ["../escape.html", "a//b.html", "/abs.html", MARKER])
def test_page_names_that_could_escape_the_site_are_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(StoreError):
        publish(tmp_path / "site", {bad: "x"})
