"""``ogp-feedback evidence --out FILE.zip`` as the secretariat runs it, on both databases."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from pathlib import Path

from sqlalchemy import Engine

from config.settings import Settings
from tests.conftest import run_cli
from tests.unit.publish.consultation import build_consultation

SITE = "https://ogp.example.al/faqja/"


def test_evidence_writes_a_verified_zip(settings: Settings, engine: Engine,
                                        tmp_path: Path) -> None:
    book = build_consultation(engine, settings.site_dir)
    out = tmp_path / "dorezim" / "ogp-evidence.zip"

    result = run_cli(settings, "evidence", "--out", str(out),
                     OGP_PUBLIC_SITE_URL=SITE, OGP_TIME_ZONE="America/New_York")

    assert result.returncode == 0, result.stderr
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert result.stdout.strip() == (
        f"wrote {out}: 14 files (manifest verified), 4 published comments, 6 decisions, "
        f"1 responses; SHA-256 {digest}")
    with zipfile.ZipFile(out) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(files.pop("manifest.json"))
    assert {entry["name"]: entry["sha256"] for entry in manifest["files"]} == {
        name: hashlib.sha256(content).hexdigest() for name, content in files.items()}
    comments = json.loads(files["comments.json"])
    assert [row["reference"] for row in comments] == sorted(
        book.references[i] for i in book.published.values())
    assert all(str(row["url"]).startswith(SITE) for row in comments)
    assert json.loads(files["statistics.json"])["time_zone"] == "America/New_York"
    assert "America/New_York" in files["README.md"].decode()
    for name, content in files.items():
        assert re.search(rb"[\w.+\-]+@[\w\-]+\.[\w.\-]+", content) is None, name


def test_evidence_refuses_a_folder_and_needs_out(settings: Settings, tmp_path: Path) -> None:
    result = run_cli(settings, "evidence", "--out", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"ogp-feedback: {tmp_path} is a folder; name the zip file to write")
    missing = run_cli(settings, "evidence")
    assert missing.returncode == 2
    assert "the following arguments are required: --out" in missing.stderr
