"""Backup and restore as docs/operations.md says (issue 12, acceptance 3).

A PostgreSQL database with comments (approved, rejected, pending, one answered) is dumped
with ``pg_dump --format=custom``, restored with ``pg_restore`` into a new database, and the
restored system publishes the same site as the original: the same files, byte for byte,
apart from the generation time a few pages print.
"""

from __future__ import annotations

import filecmp
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlmodel import SQLModel

from config.catalogue import default_catalogue
from config.settings import Settings
from moderation.db import make_engine, session_scope
from moderation.responses import respond
from moderation.transitions import approve, reject
from moderation.users import add_user
from publish.site import PublishReport, publish_with_settings
from tests.conftest import PG_ADMIN_URL, derive, pg_admin_engine, unavailable
from tests.unit.factories import make_comment

pytestmark = [pytest.mark.services,
              pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)]

# What differs between two publishes of one database: the time of generation, printed as
# a date and time (digests, statistics) or an ISO timestamp (feeds, data files).
GENERATED = re.compile(
    rb"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2}| UTC)?")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        unavailable(f"{name} is not installed (PostgreSQL client)")
    return str(path)


@pytest.fixture
def restored_name() -> Iterator[str]:
    name = f"ogp_restored_{uuid.uuid4().hex[:10]}"
    yield name
    admin = pg_admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _seed(engine: Engine) -> int:
    ids = [make_comment(engine, text) for text in (
        "Regjistri i pronave duhet të jetë i hapur për të gjithë qytetarët.",
        "The open data portal should publish procurement contracts every week.",
        "Buxheti i bashkisë nuk publikohet në kohë; kërkoj transparencë.",
        "Reklamë: bli tani!",
        "Shërbimet në e-Albania nuk punojnë të dielën.",
    )]
    with session_scope(engine) as session:
        for comment_id in ids[:3]:
            approve(session, comment_id, "secretariat")
        reject(session, ids[3], "secretariat", "spam")
        add_user(session, "sekretaria", "secretariat", "a long password 12345")
        # A response, so the restored site must carry answers too.
        respond(session, [ids[0]], "adopted", "Do ta shqyrtojmë në rishikimin e planit.", "",
                None, "sekretaria")
    return ids[0]


def _tree(site: Path) -> Path:
    assert site.is_symlink() or site.is_dir()
    return site.resolve()


def publish(engine: Engine, settings: Settings, out: Path) -> PublishReport:
    """What ``ogp-feedback publish --out OUT`` does."""
    return publish_with_settings(engine, default_catalogue(), settings, actor="publisher",
                                 out=out)


def files(site: Path) -> list[Path]:
    """Every file a web server would serve (the store's subtrees are symlinked folders)."""
    found = []
    for folder, _, names in os.walk(site, followlinks=True):
        found += [(Path(folder) / name).relative_to(site) for name in names]
    return sorted(found)


def _differences(left: Path, right: Path) -> list[str]:
    """Files that differ other than by generation times; also files only on one side."""
    left_files, right_files = files(left), files(right)
    assert left_files == right_files, "the two sites hold different files"
    differ = []
    for name in left_files:
        a, b = left / name, right / name
        if filecmp.cmp(a, b, shallow=False):
            continue
        if GENERATED.sub(b"<time>", a.read_bytes()) != GENERATED.sub(b"<time>", b.read_bytes()):
            differ.append(str(name))
    return differ


def test_a_restored_dump_publishes_the_same_site(settings: Settings, engine: Engine,
                                                 tmp_path: Path, restored_name: str) -> None:
    pg_dump, pg_restore, createdb = _tool("pg_dump"), _tool("pg_restore"), _tool("createdb")
    _seed(engine)
    publish(engine, settings, tmp_path / "first" / "current")

    # The backup, as docs/operations.md says: a custom-format dump of the whole database.
    dump = tmp_path / "ogp.dump"
    source_url = settings.database_url.replace("postgresql+psycopg://", "postgresql://")
    subprocess.run([pg_dump, "--format=custom", "--file", str(dump), source_url], check=True,
                   timeout=120)
    server = PG_ADMIN_URL.rsplit("/", 1)[0]
    subprocess.run([createdb, "--maintenance-db", PG_ADMIN_URL, restored_name], check=True,
                   timeout=60)
    subprocess.run([pg_restore, "--no-owner", "--exit-on-error", "--dbname",
                    f"{server}/{restored_name}", str(dump)], check=True, timeout=120)
    restored = derive(settings, database_url=f"{server}/{restored_name}")

    # Both systems publish now, from the same state.
    original_site = tmp_path / "original" / "current"
    restored_site = tmp_path / "restored" / "current"
    restored_engine = make_engine(restored.database_url)
    try:
        for where, system, db in ((original_site, settings, engine),
                                  (restored_site, restored, restored_engine)):
            report = publish(db, system, where)
            assert (report.total, report.newly_published) == (3, 0)

        left, right = _tree(original_site), _tree(restored_site)
        assert (left / "index.html").is_file()
        pages = "".join((left / p).read_text() for p in files(left) if p.suffix == ".html")
        assert "Do ta shqyrtojmë" in pages
        assert _differences(left, right) == []

        # The restored database holds every row (the audit log included), not only the site.
        for table in ("comment", "inbound_message", "moderation_event", "app_user", "response"):
            counts = []
            for db in (engine, restored_engine):
                with db.connect() as conn:
                    rows = select(func.count()).select_from(SQLModel.metadata.tables[table])
                    counts.append(conn.execute(rows).scalar())
            assert counts[0] == counts[1], table
            assert counts[0], table
    finally:
        restored_engine.dispose()
