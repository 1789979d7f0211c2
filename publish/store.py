"""The published site on disk: immutable folders, one symlink switched atomically.

A site is a tree of folders. Each folder is stored once, under the hash of its content,
in a private store beside the output path (``.NAME.store/trees/<hash>/``); a folder
links to its sub-folders by relative symlinks (``../<hash>``), the way git stores trees.
The output path itself is a symlink to the root folder's tree, replaced in one
``rename``: a reader sees the old site or the new one, never half of each, and the
folder it lives in (a volume's mount point, say) is never renamed.

Publishing again builds only the folders whose pages changed: a page whose input key
(what it shows, hashed by the caller) is unchanged is hard-linked from the previous
tree and not rendered at all; a folder whose keys are all unchanged is reused whole.
One new comment therefore costs the few folders on the paths to its pages, whatever
the size of the site.

The store keeps the trees of the current and the previous site (a reader who opened a
page a moment ago still finds its neighbours) and removes the rest.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# In every tree's root: how a folder made by ``publish`` is recognised.
MARKER = ".ogp-site"
MARKER_TEXT = b"Published by ogp-feedback. The folder is replaced on every publish.\n"
_MANIFEST = "manifest.json"
_FORMAT = 1


class StoreError(RuntimeError):
    """The output path cannot be published to (said in plain words)."""


@dataclass(frozen=True)
class DirState:
    """A folder as published: the hash of its inputs and of its content."""

    inputs: str
    tree: str


@dataclass
class _Folder:
    files: dict[str, str] = field(default_factory=dict)  # name -> input key
    folders: dict[str, _Folder] = field(default_factory=dict)
    _inputs: str | None = None

    def inputs_hash(self) -> str:
        if self._inputs is None:
            lines = [f"f\0{name}\0{self.files[name]}" for name in sorted(self.files)]
            lines += [f"d\0{name}\0{self.folders[name].inputs_hash()}"
                      for name in sorted(self.folders)]
            self._inputs = hashlib.sha256("\n".join(lines).encode()).hexdigest()
        return self._inputs


@dataclass(frozen=True)
class WriteReport:
    written: int  # pages rendered whose content changed
    unchanged: int  # pages kept as they were (not rendered, or rendered to the same bytes)
    folders_built: int
    root: Path
    # Which files: those whose content changed, and every page rendered (its key changed).
    written_paths: tuple[str, ...] = ()
    rendered_paths: tuple[str, ...] = ()


def _tree(plans: Mapping[str, str]) -> _Folder:
    root = _Folder()
    folders = {"": root}

    def folder_of(path: str) -> _Folder:
        found = folders.get(path)
        if found is None:
            parent, _, name = path.rpartition("/")
            if name in ("", ".", ".."):
                raise StoreError(f"{path!r} is not a folder name the site can hold")
            found = folders[path] = folder_of(parent).folders.setdefault(name, _Folder())
        return found

    for path, key in plans.items():
        directory, _, name = path.rpartition("/")
        if name in ("", ".", "..") or path == MARKER or path.startswith("/"):
            raise StoreError(f"{path!r} is not a page name the site can hold")
        folder_of(directory).files[name] = key
    for path, folder in folders.items():
        clash = set(folder.files) & set(folder.folders)
        if clash:
            raise StoreError(f"{path}/{clash.pop()} is both a page and a folder")
    return root


class SiteStore:
    """The store of one output path. Use ``publish`` inside ``locked()``."""

    def __init__(self, out: Path) -> None:
        self.out = Path(os.path.abspath(out))
        self.home = self.out.parent / f".{self.out.name}.store"
        self.trees = self.home / "trees"
        self.meta = self.home / "meta"

    # -- what was published -------------------------------------------------

    def _manifest(self) -> dict[str, DirState]:
        try:
            data = json.loads((self.home / _MANIFEST).read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}
        if data.get("format") != _FORMAT or not self.out.is_symlink():
            return {}
        current = os.readlink(self.out).rsplit("/", 1)[-1]
        dirs = {path: DirState(*pair) for path, pair in data.get("dirs", {}).items()}
        # The symlink is the truth: a publish that died before switching left a manifest
        # for a site nobody sees.
        if dirs.get("") is None or dirs[""].tree != current:
            return {}
        return dirs

    def _files_of(self, state: DirState) -> dict[str, tuple[str, str]]:
        """name -> (input key, content sha256) of a published folder's pages."""
        try:
            data = json.loads((self.meta / f"{state.inputs}.json").read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}
        if data.get("tree") != state.tree:
            return {}
        return {name: (key, sha) for name, (key, sha) in data["files"].items()}

    def previous_extra(self, name: str) -> dict[str, Any] | None:
        """A caller's note about the published site (e.g. which search index it holds)."""
        try:
            data = json.loads((self.home / f"extra-{name}.json").read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def remember_extra(self, name: str, data: Mapping[str, Any]) -> None:
        _write_atomic(self.home / f"extra-{name}.json", json.dumps(data).encode())

    @contextmanager
    def locked(self) -> Iterator[None]:
        """One publish at a time per output path (a task and a command may race)."""
        self._check_out()
        self.trees.mkdir(parents=True, exist_ok=True)
        self.meta.mkdir(exist_ok=True)
        with open(self.home / "lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _check_out(self) -> None:
        if self.out.is_symlink() or not self.out.exists():
            return
        if not self.out.is_dir():
            raise StoreError(f"{self.out} exists and is not a folder; choose another output")
        names = {p.name for p in self.out.iterdir()}
        if names and MARKER not in names:
            raise StoreError(
                f"{self.out} is a folder that publish did not make; nothing was written. "
                "Remove it or choose another output folder (publish replaces the whole "
                "folder)")

    # -- publishing ---------------------------------------------------------

    def changed_pages(self, plans: Mapping[str, str]) -> set[str]:
        """The pages whose input key differs from the published one: those to render."""
        before = self._manifest()
        changed: set[str] = set()

        def walk(folder: _Folder, prefix: str) -> None:
            path = prefix.rstrip("/")
            state = before.get(path)
            if state is not None and state.inputs == folder.inputs_hash():
                return
            known = self._files_of(state) if state is not None else {}
            for name, key in folder.files.items():
                old = known.get(name)
                if old is None or old[0] != key:
                    changed.add(prefix + name)
            for name, child in folder.folders.items():
                walk(child, f"{prefix}{name}/")

        walk(_tree(plans), "")
        return changed

    def publish(self, plans: Mapping[str, str], render: Callable[[str], bytes]) -> WriteReport:
        """Make the site hold exactly ``plans`` (path -> input key); ``render(path)`` is
        called for each page whose key changed. Then switch the output path to it."""
        before = self._manifest()
        after: dict[str, DirState] = {}
        counts = {"written": 0, "unchanged": 0, "built": 0}
        written: list[str] = []
        rendered: list[str] = []

        def build(folder: _Folder, path: str) -> DirState:
            inputs = folder.inputs_hash()
            state = before.get(path)
            if state is not None and state.inputs == inputs and (self.trees / state.tree).is_dir():
                counts["unchanged"] += _page_count(folder)
                _record(folder, path, state)
                return state
            old_tree = self.trees / state.tree if state is not None else None
            if old_tree is None or not old_tree.is_dir():
                old_tree, known = None, {}
            else:
                known = self._files_of(state) if state is not None else {}
            children = {name: build(child, f"{path}/{name}".lstrip("/"))
                        for name, child in folder.folders.items()}
            staging = Path(tempfile.mkdtemp(prefix=".new-", dir=self.trees))
            files: dict[str, tuple[str, str]] = {}
            for name, key in folder.files.items():
                old = known.get(name)
                target = staging / name
                if old is not None and old[0] == key and old_tree is not None:
                    os.link(old_tree / name, target)
                    files[name] = old
                    counts["unchanged"] += 1
                    continue
                page = f"{path}/{name}".lstrip("/")
                content = render(page)
                rendered.append(page)
                sha = hashlib.sha256(content).hexdigest()
                if old is not None and old[1] == sha and old_tree is not None:
                    os.link(old_tree / name, target)  # same bytes: keep the file as it was
                    counts["unchanged"] += 1
                else:
                    target.write_bytes(content)
                    target.chmod(0o644)
                    counts["written"] += 1
                    written.append(page)
                files[name] = (key, sha)
            if path == "":
                (staging / MARKER).write_bytes(MARKER_TEXT)
            for name, child_state in children.items():
                os.symlink(f"../{child_state.tree}", staging / name)
            tree = _tree_hash(files, children, root=path == "")
            final = self.trees / tree
            if final.is_dir():
                shutil.rmtree(staging)
            else:
                staging.chmod(0o755)  # mkdtemp makes 0700; a web server must read it
                staging.rename(final)
                counts["built"] += 1
            state = DirState(inputs, tree)
            meta = {"tree": tree, "files": files}
            (self.meta / f"{inputs}.json").write_text(json.dumps(meta), encoding="utf-8")
            after[path] = state
            return state

        def _record(folder: _Folder, path: str, state: DirState) -> None:
            """A reused folder: its sub-folders are reused too, as they were."""
            after[path] = state
            for name, child in folder.folders.items():
                child_path = f"{path}/{name}".lstrip("/")
                if child_path in before:
                    _record(child, child_path, before[child_path])

        root = build(_tree(plans), "")
        self._switch(root.tree)
        manifest = {"format": _FORMAT,
                    "dirs": {path: [s.inputs, s.tree] for path, s in sorted(after.items())}}
        _write_atomic(self.home / _MANIFEST, json.dumps(manifest).encode())
        self._collect(keep=list(after.values()) + list(before.values()))
        return WriteReport(written=counts["written"], unchanged=counts["unchanged"],
                           folders_built=counts["built"], root=self.trees / root.tree,
                           written_paths=tuple(sorted(written)),
                           rendered_paths=tuple(sorted(rendered)))

    def _switch(self, tree: str) -> None:
        target = os.path.relpath(self.trees / tree, self.out.parent)
        if self.out.exists() and not self.out.is_symlink():
            # A folder left by an earlier version of publish (checked by ``_check_out``):
            # moved into the store, then replaced by the symlink.
            retired = Path(tempfile.mkdtemp(prefix=".retired-", dir=self.home))
            self.out.rename(retired / "site")
        swap = self.out.with_name(f".{self.out.name}.swap")
        swap.unlink(missing_ok=True)
        os.symlink(target, swap)
        os.replace(swap, self.out)

    def _collect(self, keep: list[DirState]) -> None:
        """Remove the trees and metadata of neither the current nor the previous site."""
        trees = {state.tree for state in keep}
        metas = {f"{state.inputs}.json" for state in keep}
        for entry in os.scandir(self.trees):
            if entry.name not in trees:
                shutil.rmtree(entry.path, ignore_errors=True)
        for entry in os.scandir(self.meta):
            if entry.name not in metas:
                os.unlink(entry.path)
        for entry in os.scandir(self.home):
            if entry.name.startswith(".retired-"):
                shutil.rmtree(entry.path, ignore_errors=True)


def _page_count(folder: _Folder) -> int:
    return len(folder.files) + sum(_page_count(child) for child in folder.folders.values())


def _tree_hash(files: Mapping[str, tuple[str, str]], children: Mapping[str, DirState],
               root: bool) -> str:
    digest = hashlib.sha256(b"root\n" if root else b"folder\n")
    for name in sorted(files):
        digest.update(f"f\0{name}\0{files[name][1]}\n".encode())
    for name in sorted(children):
        digest.update(f"d\0{name}\0{children[name].tree}\n".encode())
    return digest.hexdigest()[:40]


def _write_atomic(path: Path, content: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(content)
    os.replace(temporary, path)
