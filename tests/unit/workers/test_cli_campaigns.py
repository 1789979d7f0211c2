"""The campaign commands: list (``--json`` is a contract), approve or reject a whole
campaign with ``--campaign ID``, rebuild the groups.

On SQLite only: what the database does is tested on both in ``test_campaigns.py``; here
it is the command line.
"""

from __future__ import annotations

import json

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from config.settings import Settings
from moderation.db import session_scope
from moderation.models import Campaign, CampaignBand, Comment
from moderation.users import add_user
from tests.conftest import run_cli
from tests.unit.factories import SQLITE_ONLY, load_comment, make_comment
from tests.unit.moderation.test_campaigns import BUDGET, letters


def _moderator(engine: Engine) -> None:
    with session_scope(engine) as session:
        add_user(session, "mira", "moderator", "kodi-i-fshehte-2020")


@SQLITE_ONLY
def test_campaigns_json_lists_each_campaign_with_all_members(settings: Settings,
                                                            engine: Engine) -> None:
    ids = letters(engine, 4, own_from=3)
    pair = [make_comment(engine, f"{BUDGET} {n}") for n in range(2)]
    listed = json.loads(run_cli(settings, "campaigns", "--json").stdout)
    campaign_id = load_comment(engine, ids[0]).campaign_id
    # The pair is below OGP_CAMPAIGN_MIN_SIZE (3): not a campaign.
    assert [(c["id"], c["size"], c["representative_comment_id"], c["member_comment_ids"])
            for c in listed] == [(campaign_id, 4, ids[0], ids)]
    assert listed[0]["additions_pending"] == 1
    assert listed[0]["statuses"] == {"pending": 4}
    both = json.loads(run_cli(settings, "campaigns", "--json", "--min-size", "2").stdout)
    assert [c["member_comment_ids"] for c in both] == [ids, pair]
    queue = json.loads(run_cli(settings, "queue", "--json", "--sort", "oldest").stdout)
    assert {item["id"]: item["campaign_id"] for item in queue} == {
        **dict.fromkeys(ids, campaign_id), **dict.fromkeys(pair)}
    # OGP_CAMPAIGN_MIN_SIZE decides what counts as a campaign, in the queue too.
    stricter = json.loads(run_cli(settings, "queue", "--json",
                                  OGP_CAMPAIGN_MIN_SIZE="5").stdout)
    assert {item["campaign_id"] for item in stricter} == {None}


@SQLITE_ONLY
def test_approve_and_reject_a_whole_campaign(settings: Settings, engine: Engine) -> None:
    _moderator(engine)
    ids = letters(engine, 3)
    others = [make_comment(engine, f"{BUDGET} {n}") for n in range(3)]
    first = load_comment(engine, ids[0]).campaign_id
    second = load_comment(engine, others[0]).campaign_id
    approved = run_cli(settings, "approve", "--campaign", str(first), "--as", "mira")
    assert approved.returncode == 0, approved.stderr
    assert f"campaign {first}: 3 comment(s) approved, 0 left as they were" in approved.stdout
    rejected = run_cli(settings, "reject", "--campaign", str(second), "--reason-code", "spam",
                       "--as", "mira")
    assert rejected.returncode == 0, rejected.stderr
    assert [load_comment(engine, i).status for i in ids] == ["approved"] * 3
    assert [load_comment(engine, i).reject_code for i in others] == ["spam"] * 3
    again = run_cli(settings, "approve", "--campaign", str(first), "--as", "mira")
    assert "0 comment(s) approved, 3 left as they were" in again.stdout
    assert f"{ids[0]}: left as it is: already approved" in again.stderr


@SQLITE_ONLY
def test_campaign_refusals(settings: Settings, engine: Engine) -> None:
    _moderator(engine)
    ids = letters(engine, 3)
    both = run_cli(settings, "approve", str(ids[0]), "--campaign", "1", "--as", "mira")
    assert both.returncode == 2
    assert "not both" in both.stderr
    neither = run_cli(settings, "approve", "--as", "mira")
    assert neither.returncode == 2
    assert "--campaign ID" in neither.stderr
    missing = run_cli(settings, "reject", "--campaign", "999", "--reason-code", "spam",
                      "--as", "mira")
    assert missing.returncode == 2
    assert "no campaign with id 999" in missing.stderr
    assert [load_comment(engine, i).status for i in ids] == ["pending"] * 3


@SQLITE_ONLY
def test_recompute_groups_comments_again(settings: Settings, engine: Engine) -> None:
    ids = letters(engine, 3)
    with session_scope(engine) as session:  # as a database from before campaigns has it
        for comment in session.exec(select(Comment).where(col(Comment.id).in_(ids))).all():
            comment.campaign_id = None
            session.add(comment)
        for row in session.exec(select(CampaignBand)).all():
            session.delete(row)
        for campaign in session.exec(select(Campaign)).all():
            session.delete(campaign)
    result = run_cli(settings, "campaigns", "recompute", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "3 comments: 1 groups of 3 comments, 1 of them campaigns of 3 or more" \
        in result.stdout
    with Session(engine) as session:
        [campaign] = session.exec(select(Campaign)).all()
    assert {load_comment(engine, i).campaign_id for i in ids} == {campaign.id}
