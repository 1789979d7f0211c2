"""Read a published site as a reader would: every file, through the store's symlinks."""

from __future__ import annotations

import gzip
import os
from pathlib import Path


def published_files(site: Path, suffix: str | None = None) -> dict[str, str]:
    """Every file of the site by its path ("sq/index.html"), as text. The search index's
    gzipped fragments are read uncompressed, so a check for a leak sees inside them."""
    files = {}
    for folder, _dirs, names in os.walk(site, followlinks=True):
        for name in names:
            if suffix is not None and not name.endswith(suffix):
                continue
            path = Path(folder, name)
            data = path.read_bytes()
            if data[:2] == b"\x1f\x8b":
                data = gzip.decompress(data)
            files[path.relative_to(site).as_posix()] = data.decode("utf-8", errors="replace")
    return files


def published_text(site: Path, suffix: str | None = ".html") -> str:
    return "\n".join(published_files(site, suffix).values())
