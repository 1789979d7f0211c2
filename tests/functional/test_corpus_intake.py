"""Every real-world message in the shared corpus is accounted for.

Each of the 347 whole messages listed in ``messages.txt`` is stored and
processed through the normal pipeline; each ends as a pending comment or as a
quarantined message with a reason, none raises, the raw bytes are kept, and no
machine mail gets a receipt. The outcome per file is written to a report.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from config.settings import Settings
from intake.store import RawMessage, store_raw_batch
from moderation.db import session_scope
from moderation.models import Comment, InboundMessage, InboundSource, Receipt
from tests.conftest import CORPORA, derive, unavailable
from workers.runtime import Runtime

MACHINE_FIXTURES = (
    "discourse-discourse/spec/fixtures/emails/auto_reply.eml",
    "discourse-discourse/spec/fixtures/emails/auto_generated_header.eml",
    "discourse-discourse/spec/fixtures/emails/auto_generated_precedence.eml",
    "discourse-discourse/spec/fixtures/emails/auto_generated_subject.eml",
    "discourse-discourse/spec/fixtures/emails/bounced_email.eml",
    "discourse-discourse/spec/fixtures/emails/mailinglist.eml",
    "discourse-discourse/spec/fixtures/emails/mailman_1.eml",
)


@pytest.fixture
def corpus_files() -> list[str]:
    listing = CORPORA / "messages.txt"
    if not listing.exists():
        unavailable(f"the shared corpora are not at {CORPORA}")
    return [line.strip() for line in listing.read_text().splitlines() if line.strip()]


def test_every_corpus_message_is_accounted_for(
    settings: Settings, corpus_files: list[str], tmp_path: Path, make_runtime: Any
) -> None:
    settings = derive(settings, receipts=True, mail_sender="console")
    runtime: Runtime = make_runtime(settings)
    ids: dict[str, int] = {}
    for name in corpus_files:
        raw = (CORPORA / name).read_bytes()
        with session_scope(runtime.engine) as session:
            stored = store_raw_batch(session, [RawMessage(raw=raw, source=InboundSource.IMPORT)])
        ids[name] = stored[0].inbound_id
        if stored[0].created:
            runtime.enqueue([stored[0].inbound_id])  # the pipeline itself; raises on any error

    report: list[str] = []
    with Session(runtime.engine) as session:
        rows = {m.id: m for m in session.exec(select(InboundMessage)).all()}
        commented = set(session.exec(select(Comment.inbound_id)).all())
        receipted = set(session.exec(select(Receipt.inbound_id)).all())
    problems = []
    for name, inbound_id in ids.items():
        row = rows[inbound_id]
        raw = (CORPORA / name).read_bytes()
        if row.sha256 != hashlib.sha256(raw).hexdigest() and row.raw != raw:
            problems.append(f"{name}: raw bytes not kept")
        if row.status == "processed" and inbound_id in commented:
            outcome = "pending comment"
        elif row.status == "quarantined" and row.reason:
            outcome = f"quarantined: {row.reason}"
        else:
            problems.append(f"{name}: status {row.status!r}, reason {row.reason!r}")
            outcome = row.status
        report.append(f"{name}\t{outcome}")
    (tmp_path / "corpus-outcomes.tsv").write_text("\n".join(report) + "\n")
    print(f"outcomes written to {tmp_path / 'corpus-outcomes.tsv'}")
    assert problems == []
    # Identical bytes appear twice in the corpus at most as one row each.
    assert len(set(ids.values())) == len(
        {hashlib.sha256((CORPORA / n).read_bytes()).hexdigest() for n in corpus_files}
    )
    pending = sum(1 for line in report if line.endswith("pending comment"))
    assert 150 <= pending <= 250, f"{pending} pending: the rules changed a lot"

    machine = [n for n in corpus_files if "/flufl-bounce/" in f"/{n}"] + list(MACHINE_FIXTURES)
    for name in machine:
        row = rows[ids[name]]
        assert row.machine_kind, f"{name} not recognised as machine mail: {row.reason}"
        assert ids[name] not in receipted, f"{name} got a receipt"
    # Human messages did get receipts (one per address per day).
    assert receipted


def test_a_bounce_gets_no_receipt(
    settings: Settings, corpus_files: list[str], make_runtime: Any
) -> None:
    settings = derive(settings, receipts=True, mail_sender="console")
    runtime: Runtime = make_runtime(settings)
    name = "discourse-discourse/spec/fixtures/emails/bounced_email.eml"
    with session_scope(runtime.engine) as session:
        inbound_id = store_raw_batch(
            session, [RawMessage(raw=(CORPORA / name).read_bytes(), source=InboundSource.IMPORT)]
        )[0].inbound_id
    runtime.enqueue([inbound_id])
    with Session(runtime.engine) as session:
        row = session.get(InboundMessage, inbound_id)
        assert row is not None
        assert row.machine_kind == "bounce"
        assert (
            session.exec(select(Receipt).where(col(Receipt.inbound_id) == inbound_id)).first()
            is None
        )
