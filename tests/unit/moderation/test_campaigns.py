"""Campaigns in the database: grouped as comments arrive, decided at once, split, merged,
rebuilt; every change audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from moderation.campaigns import (
    CampaignError,
    approve_campaign,
    decide_additions,
    get_campaign,
    list_campaigns,
    merge_campaigns,
    recompute,
    reject_campaign,
    split_member,
)
from moderation.db import session_scope
from moderation.models import (
    AdditionsStatus,
    Campaign,
    CampaignBand,
    Comment,
    CommentStatus,
    ModerationEvent,
    RejectCode,
)
from moderation.transitions import claim
from tests.unit.factories import load_comment, make_comment

LETTER = (
    "Të nderuar, kërkojmë që Regjistri i Pronarëve Përfitues të jetë i hapur për publikun "
    "pa pagesë dhe pa regjistrim. Informacioni për pronarët e vërtetë të kompanive që marrin "
    "kontrata publike duhet të publikohet në format të hapur, çdo muaj. Kjo ndihmon luftën "
    "kundër korrupsionit dhe pastrimit të parave në Shqipëri."
)
BUDGET = (
    "Buxheti i bashkisë duhet të publikohet çdo muaj në një format të hapur dhe të "
    "kuptueshëm, me shpenzimet sipas zërave dhe me kontratat e lidhura, që qytetarët të "
    "shohin si përdoren taksat e tyre dhe të pyesin kur diçka nuk shkon."
)
OWN = "Unë jam nga Shkodra dhe kam parë shumë abuzime me tenderat e qytetit tonë."


def folded(text: str) -> str:
    return text.replace("ë", "e").replace("ç", "c").replace("Ë", "E")


def letters(engine: Engine, count: int, own_from: int | None = None) -> list[int]:
    """``count`` copies of the letter from different senders; from ``own_from`` on, each
    adds a sentence of its own."""
    ids = []
    for n in range(count):
        text = LETTER if n % 2 == 0 else folded(LETTER).lower()
        if own_from is not None and n >= own_from:
            text = f"{text}\n\n{OWN}"
        ids.append(make_comment(engine, text, sender=f"Qytetar {n} <q{n}@example.org>"))
    return ids


def campaign_of(engine: Engine, comment_id: int) -> int | None:
    return load_comment(engine, comment_id).campaign_id


def test_copies_of_a_letter_join_one_campaign_and_others_stay_alone(engine: Engine) -> None:
    ids = letters(engine, 4, own_from=3)
    alone = make_comment(engine, BUDGET)
    campaign_id = campaign_of(engine, ids[0])
    assert campaign_id is not None
    assert [campaign_of(engine, i) for i in ids] == [campaign_id] * 4
    assert campaign_of(engine, alone) is None
    with Session(engine) as session:
        summary = get_campaign(session, campaign_id)
        assert summary.size == 4
        assert summary.representative_comment_id == ids[0]
        assert summary.member_comment_ids == ids
        assert summary.additions_pending == 1
        # A campaign keeps one band row per distinct band: copies add none.
        rows = session.exec(select(CampaignBand).where(
            col(CampaignBand.comment_id).in_(ids[1:3]))).all()
        assert len(rows) < 10
    last = load_comment(engine, ids[3])
    assert last.additions == OWN
    assert last.additions_status == AdditionsStatus.PENDING
    assert load_comment(engine, ids[1]).additions == ""


def test_a_group_below_the_minimum_size_is_not_listed(engine: Engine) -> None:
    letters(engine, 2)
    with Session(engine) as session:
        assert list_campaigns(session, min_size=3) == []
        assert len(list_campaigns(session, min_size=2)) == 1


def test_approving_a_campaign_approves_every_undecided_member_once(engine: Engine) -> None:
    ids = letters(engine, 5, own_from=4)
    campaign_id = campaign_of(engine, ids[0])
    assert campaign_id is not None
    with session_scope(engine) as session:
        claim(session, ids[1], "drita", timedelta(minutes=5))
    with session_scope(engine) as session:
        first = load_comment(engine, ids[2])
        first.status = CommentStatus.REJECTED
        session.add(first)
    with session_scope(engine) as session:
        decision = approve_campaign(session, campaign_id, "arben")
    assert decision.decided == [ids[0], ids[3], ids[4]]
    assert set(decision.skipped) == {ids[1], ids[2]}
    assert "drita" in decision.skipped[ids[1]]
    assert decision.skipped[ids[2]] == "already rejected"
    statuses = [load_comment(engine, i).status for i in ids]
    assert statuses == ["approved", "pending", "rejected", "approved", "approved"]
    # The common text is approved; what the fifth member added still waits for a look.
    assert load_comment(engine, ids[4]).additions_status == AdditionsStatus.PENDING
    with Session(engine) as session:
        events = session.exec(select(ModerationEvent).where(
            col(ModerationEvent.action) == "campaign-approve")).all()
        assert [e.detail for e in events] == [f"campaign {campaign_id}: 3 of 5 members"]
        assert events[0].actor == "arben"
    # The member another moderator holds is left to her.
    with session_scope(engine) as session:
        again = approve_campaign(session, campaign_id, "drita")
    assert again.decided == [ids[1]]


def test_rejecting_a_campaign_gives_each_member_the_reason(engine: Engine) -> None:
    ids = letters(engine, 3)
    campaign_id = campaign_of(engine, ids[0])
    assert campaign_id is not None
    with session_scope(engine) as session:
        decision = reject_campaign(session, campaign_id, "arben", RejectCode.SPAM)
    assert decision.decided == ids
    for comment_id in ids:
        comment = load_comment(engine, comment_id)
        assert (comment.status, comment.reject_code) == ("rejected", "spam")


def test_additions_are_decided_on_their_own(engine: Engine) -> None:
    ids = letters(engine, 3, own_from=2)
    with session_scope(engine) as session:
        decide_additions(session, ids[2], "arben", approved=True)
    comment = load_comment(engine, ids[2])
    assert comment.additions_status == AdditionsStatus.APPROVED
    with session_scope(engine) as session, pytest.raises(CampaignError, match="adds nothing"):
        decide_additions(session, ids[1], "arben", approved=True)


def test_split_and_merge(engine: Engine) -> None:
    ids = letters(engine, 4)
    campaign_id = campaign_of(engine, ids[0])
    assert campaign_id is not None
    with session_scope(engine) as session:
        split_member(session, ids[0], "arben", "a different letter")
    first = load_comment(engine, ids[0])
    assert (first.campaign_id, first.campaign_split) == (None, True)
    with Session(engine) as session:
        summary = get_campaign(session, campaign_id)
        # The representative left: the next member stands for the campaign.
        assert (summary.size, summary.representative_comment_id) == (3, ids[1])
    # A second campaign (another letter), merged into the first.
    others = [make_comment(engine, f"{BUDGET} {n}") for n in range(3)]
    other_id = campaign_of(engine, others[0])
    assert other_id is not None
    assert other_id != campaign_id
    with session_scope(engine) as session:
        merge_campaigns(session, campaign_id, other_id, "arben")
    with Session(engine) as session:
        assert session.get(Campaign, other_id) is None
        assert get_campaign(session, campaign_id).size == 6
        merged = session.exec(select(ModerationEvent).where(
            col(ModerationEvent.action) == "campaign-merge")).one()
        assert f"campaign {other_id} (3 members) merged into campaign {campaign_id}" \
            == merged.detail
    # Moved members add the other letter's sentences to this campaign's text.
    assert load_comment(engine, others[1]).additions_status == AdditionsStatus.PENDING
    # A split member stays out when the next copy arrives and when groups are rebuilt.
    make_comment(engine, LETTER, sender="Tjetër <t@example.org>")
    assert load_comment(engine, ids[0]).campaign_id is None


def test_recompute_rebuilds_the_same_groups_and_keeps_ids(engine: Engine) -> None:
    ids = letters(engine, 4, own_from=3)
    others = [make_comment(engine, f"{BUDGET} {n}") for n in range(3)]
    alone = make_comment(engine, "Portali i të dhënave të hapura nuk ka të dhëna të reja "
                                 "për prokurimet që nga viti i kaluar, ju lutem përditësojeni.")
    before = {i: campaign_of(engine, i) for i in ids + others + [alone]}
    with session_scope(engine) as session:
        decide_additions(session, ids[3], "arben", approved=True)
    with Session(engine) as session:
        bands_before = len(session.exec(select(CampaignBand)).all())
    report = recompute(engine, min_size=3)
    assert (report.comments, report.campaigns, report.grouped, report.shown) == (8, 2, 7, 2)
    after = {i: campaign_of(engine, i) for i in ids + others + [alone]}
    assert after == before
    with Session(engine) as session:
        assert len(session.exec(select(CampaignBand)).all()) == bands_before
        event = session.exec(select(ModerationEvent).where(
            col(ModerationEvent.action) == "campaign-recompute")).one()
        assert event.detail == "2 groups of 7 comments (2 shown as campaigns) among 8"
    # The moderator's word on unchanged additions stands.
    assert load_comment(engine, ids[3]).additions_status == AdditionsStatus.APPROVED


def test_recompute_groups_comments_stored_before_campaigns(engine: Engine) -> None:
    ids = letters(engine, 3)
    with session_scope(engine) as session:
        for comment in session.exec(select(Comment)).all():
            comment.campaign_id = None
            session.add(comment)
        session.exec(select(Campaign)).all()
        for row in session.exec(select(CampaignBand)).all():
            session.delete(row)
        for campaign in session.exec(select(Campaign)).all():
            session.delete(campaign)
    assert [campaign_of(engine, i) for i in ids] == [None] * 3
    recompute(engine)
    grouped = {campaign_of(engine, i) for i in ids}
    assert len(grouped) == 1
    assert None not in grouped
