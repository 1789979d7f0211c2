"""Operator commands that could destroy refuse before they change anything: ``demo`` on
a production setting or a real consultation's database, ``publish --out`` on a folder
that publish did not make."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select

from config.settings import Settings
from moderation.models import Comment, CommentStatus
from tests.conftest import run_cli
from tests.row_counts import row_counts
from tests.unit.factories import SQLITE_ONLY, make_comment

PRODUCTION = {"OGP_ENVIRONMENT": "production", "OGP_COOKIE_SECURE": "true",
              "OGP_RECEIPTS": "false", "OGP_DECISION_NOTICES": "false",
              "OGP_RESPONSE_NOTICES": "false"}


@SQLITE_ONLY
def test_demo_refuses_under_production_settings(settings: Settings, engine: Engine) -> None:
    before = row_counts(engine)
    result = run_cli(settings, "demo", "--no-serve", timeout=120, **PRODUCTION)
    assert result.returncode == 2
    assert "demo refused: OGP_ENVIRONMENT is production" in result.stderr
    assert "Nothing was changed" in result.stderr
    assert row_counts(engine) == before
    assert not settings.site_dir.exists()


def test_demo_refuses_a_database_with_comments_it_did_not_import(
        settings: Settings, engine: Engine) -> None:
    comment_id = make_comment(engine, "Një koment i vërtetë për planin.")
    before = row_counts(engine)
    result = run_cli(settings, "demo", "--no-serve")
    assert result.returncode == 2
    assert "1 message(s) and their comments that the demo did not import" in result.stderr
    assert row_counts(engine) == before
    with Session(engine) as session:
        comment = session.exec(select(Comment).where(Comment.id == comment_id)).one()
    assert comment.status == CommentStatus.PENDING
    assert not settings.site_dir.exists()


@SQLITE_ONLY
def test_publish_refuses_a_folder_with_an_unrelated_file(settings: Settings,
                                                         tmp_path: Path) -> None:
    documents = tmp_path / "documents"
    documents.mkdir()
    (documents / "thesis.odt").write_text("years of work", encoding="utf-8")
    result = run_cli(settings, "publish", "--out", str(documents))
    assert result.returncode != 0
    assert "is a folder that publish did not make" in result.stderr
    assert [p.name for p in documents.iterdir()] == ["thesis.odt"]
    assert (documents / "thesis.odt").read_text(encoding="utf-8") == "years of work"
    assert not documents.is_symlink()
    assert not (tmp_path / ".documents.store").exists()
