"""The dependency lock says what pyproject.toml asks for, and the venv holds exactly it.

``uv.lock`` records the project's own requirements as it resolved them; when
pyproject.toml changes without ``make lock``, the two disagree and this fails (it is
the comparison ``uv lock --check`` starts with, done without uv). The exported,
hashed ``requirements/*.txt`` that ``make install`` and the image install must carry
the versions of ``uv.lock``; and the venv the tests run in (CI: a fresh clone after
``make install``) must hold those versions and nothing else.
"""

from __future__ import annotations

import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCK = tomllib.loads((ROOT / "uv.lock").read_text())
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# What a venv brings with it, and the project itself (installed editable, not locked).
NOT_LOCKED = {"ogp-feedback", "pip", "setuptools", "wheel"}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._\-]*)==([^\s;\\]+)(?:\s*;\s*([^\\]+?))?\s*\\?$")


def _canonical(requirement: str | Requirement) -> str:
    req = requirement if isinstance(requirement, Requirement) else Requirement(requirement)
    extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
    specifier = ",".join(sorted(str(s) for s in req.specifier))
    marker = f"; {req.marker}" if req.marker else ""
    return f"{canonicalize_name(req.name)}{extras}{specifier}{marker}"


def _pyproject_requirements() -> set[str]:
    project = PYPROJECT["project"]
    wanted = {_canonical(r) for r in project["dependencies"]}
    for extra, requirements in project.get("optional-dependencies", {}).items():
        for text in requirements:
            req = Requirement(text)
            req.marker = Marker(f"extra == '{extra}'")  # none of ours carries a marker
            wanted.add(_canonical(req))
    return wanted


def _locked_project() -> dict[str, object]:
    return next(p for p in LOCK["package"] if p["name"] == "ogp-feedback")


def _lock_requirements() -> set[str]:
    recorded = set()
    for entry in _locked_project()["metadata"]["requires-dist"]:  # type: ignore[index]
        extras = f"[{','.join(sorted(entry['extras']))}]" if entry.get("extras") else ""
        marker = f"; {entry['marker']}" if entry.get("marker") else ""
        recorded.add(_canonical(f"{entry['name']}{extras}{entry.get('specifier', '')}{marker}"))
    return recorded


def _pins(path: Path) -> list[tuple[str, str, str | None]]:
    pins = []
    for line in path.read_text().splitlines():
        match = PIN.match(line)
        if match:
            pins.append((canonicalize_name(match[1]), match[2], match[3]))
    return pins


def test_the_lock_was_made_from_this_pyproject() -> None:
    pyproject, locked = _pyproject_requirements(), _lock_requirements()
    assert (sorted(pyproject - locked), sorted(locked - pyproject)) == ([], []), (
        "pyproject.toml and uv.lock disagree (left: only in pyproject.toml, right: only in "
        "the lock); run 'make lock' and commit uv.lock and requirements/")
    assert set(_locked_project()["metadata"].get("provides-extras", [])) == set(  # type: ignore[attr-defined]
        PYPROJECT["project"].get("optional-dependencies", {}))


def test_the_requirements_files_carry_the_lock() -> None:
    locked = {(canonicalize_name(p["name"]), p["version"]) for p in LOCK["package"]
              if p["name"] != "ogp-feedback"}
    test_pins = {(name, version) for name, version, _ in _pins(ROOT / "requirements/test.txt")}
    runtime_pins = {(name, version)
                    for name, version, _ in _pins(ROOT / "requirements/runtime.txt")}
    assert test_pins == locked, "requirements/test.txt is not the export of uv.lock: make lock"
    assert runtime_pins < test_pins
    assert {"pytest", "mypy"} & {name for name, _ in runtime_pins} == set()
    lines = (ROOT / "requirements/test.txt").read_text().splitlines()
    entries = [i for i, line in enumerate(lines) if line[:1].isalnum()]
    # Every entry is an exact pin followed by its hashes (pip --require-hashes needs both).
    assert len(entries) == len(_pins(ROOT / "requirements/test.txt"))
    assert all(lines[i + 1].strip().startswith("--hash=sha256:") for i in entries)


def test_this_venv_holds_exactly_the_locked_versions() -> None:
    """Acceptance 4: CI runs the suite in the venv ``make install`` made on a fresh clone."""
    expected = {name: version for name, version, marker in _pins(ROOT / "requirements/test.txt")
                if marker is None or Marker(marker).evaluate()}
    installed = {canonicalize_name(dist.metadata["Name"]): dist.version
                 for dist in metadata.distributions()}
    installed = {name: version for name, version in installed.items() if name not in NOT_LOCKED}
    assert installed == expected, (
        f"{sys.prefix} differs from requirements/test.txt: "
        f"missing or other version {sorted(set(expected.items()) - set(installed.items()))}, "
        f"not locked {sorted(set(installed.items()) - set(expected.items()))}; run make install "
        "(it adds and changes; 'make clean install' also removes what the lock dropped)")
