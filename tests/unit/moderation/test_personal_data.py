"""Issue 9: withdrawal, erasure (bytes searched on disk and in a dump), retention, consent."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from config.catalogue import default_catalogue
from config.settings import Settings
from intake.receipts import reference_for
from intake.store import RawMessage, store_raw_batch
from intake.webform import Submission, build_message
from moderation.db import session_scope
from moderation.models import (
    Comment,
    CommentStatus,
    InboundMessage,
    InboundSource,
    InboundStatus,
    ModerationEvent,
    Receipt,
)
from moderation.personal_data import address_hash
from moderation.transitions import approve, record_consent
from moderation.users import add_user
from publish.site import publish_site
from tests.conftest import SECRET, run_cli
from tests.published import published_files, published_text
from tests.unit.factories import CLASSIFIER, comment_for, make_comment, plain_mail, store
from workers.pipeline import process_inbound
from workers.sweeper import purge_expired

NAME = "Zyhdi Qarrishta"
ADDRESS = "zyhdi.qarrishta@example.al"
TEXT = "Buxheti i bashkisë Gjirokastër duhet të botohet çdo muaj."
OTHER = "Regjistri i pronarëve përfitues duhet të jetë i hapur."


def _site_text(settings: Settings) -> str:
    return published_text(Path(settings.site_dir), suffix=None)


def _publish(engine: Engine, settings: Settings) -> None:
    publish_site(engine, default_catalogue(), settings.site_dir, actor="publisher")


def _setup(engine: Engine) -> tuple[int, int]:
    with session_scope(engine) as session:
        add_user(session, "sara", "secretariat", "kodi-i-fshehte-2020")
        add_user(session, "mira", "moderator", "kodi-i-fshehte-2020")
    mine = make_comment(engine, text=f"{TEXT}\n\nMe respekt,\n{NAME}\n{ADDRESS}",
                        sender=f"{NAME} <{ADDRESS}>", subject="Buxheti i Zyhdi Qarrishta")
    other = make_comment(engine, text=OTHER)
    with session_scope(engine) as session:
        approve(session, mine, "mira")
        approve(session, other, "mira")
        comment = session.get(Comment, mine)
        assert comment is not None
        session.add(Receipt(inbound_id=comment.inbound_id, comment_id=mine, address=ADDRESS,
                            day="2020-09-01", reference="OGP-000001"))
    # Mail from the same sender that never became a comment (waiting), address in capitals.
    store(engine, plain_mail("Një shtesë.", sender=f"{NAME} <ZYHDI.Qarrishta@Example.AL>"))
    return mine, other


def _stored_bytes(settings: Settings) -> bytes:
    url = settings.database_url
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1])
        files = [path, Path(f"{path}-wal"), Path(f"{path}-journal")]
        return b"".join(p.read_bytes() for p in files if p.exists())
    dump = subprocess.run(["pg_dump", "--no-owner", url.replace("+psycopg", "")],
                          capture_output=True, check=True, timeout=120)
    return dump.stdout


def test_erase_leaves_no_address_or_name_anywhere(settings: Settings, engine: Engine) -> None:
    mine, _other = _setup(engine)
    _publish(engine, settings)
    assert TEXT in _site_text(settings)
    assert b"qarrishta" in _stored_bytes(settings).lower()

    result = run_cli(settings, "erase", "--email", "Zyhdi.Qarrishta@example.al", "--as", "sara")
    assert result.returncode == 0, result.stderr
    assert "2 message(s), 1 comment(s) (1 withdrawn), 0 attachment(s), 1 receipt(s)" in (
        result.stdout)
    assert ADDRESS not in result.stdout

    site = _site_text(settings)
    assert TEXT not in site
    assert f'id="comment-{mine}"' not in site
    assert OTHER in site
    engine.dispose()
    stored = _stored_bytes(settings).lower()
    for secret in (b"qarrishta", b"zyhdi", ADDRESS.encode()):
        assert secret not in stored
    with Session(engine) as session:
        comment = session.get(Comment, mine)
        assert comment is not None
        assert comment.erased
        assert comment.status == CommentStatus.WITHDRAWN
        messages = session.exec(select(InboundMessage)).all()
        assert sum(1 for m in messages if m.raw == b"" and m.raw_purged_at) == 2
        [event] = session.exec(select(ModerationEvent).where(
            ModerationEvent.action == "erase")).all()
    assert event.actor == "sara"
    assert event.comment_id == mine
    assert f"hmac-sha256:{address_hash(SECRET, ADDRESS)}" in (event.detail or "")


def test_erase_keep_anonymised_keeps_the_comment_without_the_name(
        settings: Settings, engine: Engine) -> None:
    mine, _ = _setup(engine)
    _publish(engine, settings)
    result = run_cli(settings, "erase", "--email", ADDRESS, "--keep-anonymised", "--as", "sara")
    assert result.returncode == 0, result.stderr
    site = _site_text(settings)
    assert "Gjirokastër" in site
    assert "Qarrishta" not in site
    engine.dispose()
    stored = _stored_bytes(settings).lower()
    assert b"qarrishta" not in stored
    assert ADDRESS.encode() not in stored
    comment = _load(engine, mine)
    assert comment.status == CommentStatus.PUBLISHED
    assert comment.erased


def test_a_moderator_may_not_erase_or_withdraw(settings: Settings, engine: Engine) -> None:
    mine, _ = _setup(engine)
    for args in (("erase", "--email", ADDRESS), ("withdraw", str(mine), "--reason", "request")):
        result = run_cli(settings, *args, "--as", "mira")
        assert result.returncode == 2
        assert "needs the role admin or secretariat" in result.stderr


def _load(engine: Engine, comment_id: int) -> Comment:
    with Session(engine) as session:
        comment = session.get(Comment, comment_id)
        assert comment is not None
        return comment


def test_withdrawal_removes_the_comment_from_every_public_file(
        settings: Settings, engine: Engine) -> None:
    mine, _ = _setup(engine)
    pending = make_comment(engine, text="Ende pa vendim.")
    _publish(engine, settings)
    assert TEXT in _site_text(settings)
    result = run_cli(settings, "withdraw", str(mine), str(pending), "--reason",
                     f"kërkesë e {NAME} me email", "--as", "sara")
    assert result.returncode == 0, result.stderr
    assert f"{mine}: withdrawn; the next publish removes it from the site" in result.stdout
    _publish(engine, settings)
    files = published_files(Path(settings.site_dir), suffix=None)
    assert files
    reference = reference_for(_load(engine, mine).inbound_id)
    for path, text in files.items():
        assert TEXT not in text, path
        assert reference not in path, path
    assert _load(engine, pending).status == CommentStatus.WITHDRAWN
    with Session(engine) as session:
        reasons = session.exec(select(ModerationEvent.reason).where(
            ModerationEvent.action == "withdraw").order_by(col(ModerationEvent.id))).all()
    # The audit row keeps the reason, without that comment's sender's name.
    assert reasons == ["kërkesë e [name] me email", f"kërkesë e {NAME} me email"]
    again = run_cli(settings, "approve", str(pending), "--as", "sara")
    assert again.returncode == 1
    assert "withdrawn; cannot approve" in again.stderr


def test_retention_deletes_old_raw_mail_and_keeps_comments(
        settings: Settings, engine: Engine) -> None:
    old = make_comment(engine, text="Koment i vjetër.")
    new = make_comment(engine, text="Koment i ri.")
    [waiting] = store(engine, plain_mail("Ende pa përpunuar."))
    long_ago = datetime.now(UTC) - timedelta(days=200)
    with session_scope(engine) as session:
        old_inbound = _load(engine, old).inbound_id
        session.exec(update(InboundMessage).where(
            col(InboundMessage.id).in_([old_inbound, waiting])).values(created_at=long_ago))
    result = run_cli(settings, "purge")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("purged the raw mail of 1 processed message(s)")
    assert run_cli(settings, "purge").stdout.startswith("purged the raw mail of 0 ")
    with Session(engine) as session:
        purged = session.get(InboundMessage, old_inbound)
        assert purged is not None
        assert purged.raw == b""
        assert purged.raw_purged_at is not None
        kept = session.get(InboundMessage, waiting)
        assert kept is not None
        assert kept.raw
        assert kept.status == InboundStatus.RECEIVED
        assert session.get(InboundMessage, _load(engine, new).inbound_id).raw  # type: ignore[union-attr]
    assert _load(engine, old).text == "Koment i vjetër."
    # The periodic job inside ``poll`` does the same with OGP_RAW_RETENTION_DAYS.
    assert purge_expired(engine, 180) == 0
    assert purge_expired(engine, 0) == 1
    assert run_cli(settings, "purge", "--older-than-days", "0").stdout.startswith(
        "purged the raw mail of 0 ")


def _form_comment(engine: Engine, consent: bool, name: str) -> int:
    submission = Submission(name=name, address="ana@example.al", subject="Forma",
                            commitment=None, comment=f"Koment nga forma {name}.",
                            consent=consent)
    raw = build_message(submission, "feedback@ogp.example.al", datetime.now(UTC),
                        f"<{name.replace(' ', '.')}@ogp.example.al>")
    with session_scope(engine) as session:
        [stored] = store_raw_batch(session, [RawMessage(raw, InboundSource.FORM)])
    process_inbound(engine, stored.inbound_id, CLASSIFIER)
    comment = comment_for(engine, stored.inbound_id)
    assert comment is not None
    assert comment.id is not None
    return comment.id


def test_a_name_is_published_only_with_consent(settings: Settings, engine: Engine) -> None:
    ticked = _form_comment(engine, True, "Drita Koleci")
    unticked = _form_comment(engine, False, "Arben Mema")
    # E-mail from outside cannot consent by header: anyone can write one.
    forged = plain_mail("Me email.", sender="Fatos Lika <fatos@example.al>").replace(
        b"\nSubject:", b"\nX-OGP-Consent: publish-name\nSubject:")
    [forged_id] = store(engine, forged)
    process_inbound(engine, forged_id, CLASSIFIER)
    by_mail = make_comment(engine, text="Me shkrim.", sender="Besa Duka <besa@example.al>")
    with session_scope(engine) as session:
        record_consent(session, by_mail, "mira", "Besa Duka", "përgjigje me email, 3 tetor")
        for comment_id in (ticked, unticked, by_mail):
            approve(session, comment_id, "mira")
    forged_comment = comment_for(engine, forged_id)
    assert forged_comment is not None
    assert forged_comment.author_public is None
    with session_scope(engine) as session:
        approve(session, forged_comment.id or 0, "mira")
    assert _load(engine, ticked).consent_source == "form"
    _publish(engine, settings)
    site = _site_text(settings)
    assert '<span class="author">Drita Koleci</span>' in site
    assert '<span class="author">Besa Duka</span>' in site
    assert "Arben Mema" not in site.replace("Koment nga forma Arben Mema.", "")
    assert "Fatos Lika" not in site
    by = _load(engine, by_mail)
    assert (by.consent_source, by.consent_by) == ("moderator", "mira")
