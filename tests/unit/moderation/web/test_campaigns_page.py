"""Campaigns in the moderation UI, as a browser without JavaScript uses them: the list, one
campaign with its members and their own additions, approve or reject every undecided
member in one form, decide a member's additions, split, merge; stale forms get 409, forms
without the session's CSRF token 403. And the queue names each item's campaign."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from config.settings import Settings
from intake.receipts import reference_for
from moderation.db import session_scope
from moderation.models import AdditionsStatus, ModerationEvent
from moderation.queue import QueueQuery, fetch_queue
from moderation.transitions import claim
from moderation.users import add_user
from moderation.web.app import create_app
from tests.conftest import run_cli
from tests.unit.factories import SQLITE_ONLY, load_comment, make_comment
from tests.unit.moderation.test_campaigns import BUDGET, OWN, campaign_of, letters
from tests.unit.moderation.web.staff import TestClient, log_in

pytestmark = [pytest.mark.usefixtures("fast_hasher"), SQLITE_ONLY]

USER, PASSWORD = "arben", "fushata-e-madhe-2026"


@dataclass
class Moderator:
    client: TestClient
    engine: Engine
    csrf: str
    # One entry per republish the UI asked for.
    publishes: list[str] = field(default_factory=list)

    def page(self, url: str, status: int = 200) -> str:
        response = self.client.get(url)
        assert response.status_code == status, response.text
        text: str = response.text
        return text

    def post(self, url: str, status: int, **data: object) -> str:
        response = self.client.post(url, data={"csrf_token": self.csrf, **data})
        assert response.status_code == status, response.text
        answer: str = response.headers.get("location", response.text)
        return answer


@pytest.fixture
def moderator(settings: Settings, engine: Engine) -> Iterator[Moderator]:
    with session_scope(engine) as session:
        add_user(session, USER, "moderator", PASSWORD)
    publishes: list[str] = []
    app = create_app(settings, engine=engine, request_publish=lambda: publishes.append("publish"))
    with TestClient(app, follow_redirects=False) as client:
        yield Moderator(client, engine, log_in(client, USER, PASSWORD), publishes)


def campaign(ids: list[int], engine: Engine) -> int:
    found = campaign_of(engine, ids[0])
    assert found is not None
    return found


def text_of(page: str) -> str:
    """The page's words without tags, spaces folded: what a reader sees."""
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def test_the_list_shows_each_campaign_once_with_its_counts(moderator: Moderator) -> None:
    ids = letters(moderator.engine, 4, own_from=3)
    # A pair of another letter: a group, but below the minimum size of 3.
    pair = [make_comment(moderator.engine, f"{BUDGET} {n}") for n in range(2)]
    campaign_id = campaign(ids, moderator.engine)
    assert campaign_of(moderator.engine, pair[0]) is not None

    page = moderator.page("/campaigns")
    assert 'href="/campaigns"' in page  # the nav links here
    rows = re.findall(r'<tr id="campaign-(\d+)"', page)
    assert rows == [str(campaign_id)]
    row = text_of(page.split(f'id="campaign-{campaign_id}"', 1)[1].split("</tr>", 1)[0])
    assert "4 pending: 4 1" in row  # size, statuses, additions waiting
    assert "Koment për planin" in row  # the representative's subject
    assert "Të nderuar, kërkojmë që Regjistri" in row  # and its first words


def test_the_campaign_page_shows_the_text_the_members_and_their_additions(
    moderator: Moderator,
) -> None:
    ids = letters(moderator.engine, 4, own_from=3)
    campaign_id = campaign(ids, moderator.engine)
    page = moderator.page(f"/campaigns/{campaign_id}")
    assert "Regjistri i Pronarëve Përfitues" in page.split('id="representative"')[1]
    members = re.findall(r'<tr id="member-(\d+)"', page)
    assert [int(m) for m in members] == ids
    for comment_id in ids:
        assert reference_for(load_comment(moderator.engine, comment_id).inbound_id) in page
    # Only the member who wrote more has additions, highlighted, with both buttons.
    additions = re.findall(r'<blockquote class="additions"[^>]*>([^<]*)<', page)
    assert additions == [OWN]
    last_row = page.split(f'id="member-{ids[3]}"', 1)[1].split("</tr>", 1)[0]
    assert 'value="approve">Boto shtesat / Approve additions' in last_row
    assert 'value="reject">Mos i boto / Reject additions' in last_row
    assert "Approve the campaign (4)" in page
    assert 'name="size" value="4"' in page
    # The comment page names the campaign and shows the member's own words.
    comment = moderator.page(f"/comments/{ids[3]}")
    membership = comment.split('id="campaign-membership"', 1)[1].split("</div>", 1)[0]
    assert f'href="/campaigns/{campaign_id}"' in membership
    assert OWN in membership
    assert moderator.page("/campaigns/9999", status=404)


def test_approving_the_campaign_approves_every_undecided_member_in_one_post(
    moderator: Moderator,
) -> None:
    ids = letters(moderator.engine, 5, own_from=4)
    campaign_id = campaign(ids, moderator.engine)
    with session_scope(moderator.engine) as session:
        claim(session, ids[1], "drita", timedelta(minutes=5))
    assert "held by drita" in moderator.page(f"/campaigns/{campaign_id}")

    result = moderator.post(f"/campaigns/{campaign_id}/approve", 200, size=5)
    words = text_of(result)
    assert "Approved: 4 nga / of 5 anëtarë / members" in words
    # The member another moderator holds is left to her, and the page says so.
    skipped = result.split('id="skipped"', 1)[1].split("</ul>", 1)[0]
    assert f"#{ids[1]}" in skipped
    assert "drita" in skipped
    assert "1 members added words of their own" in words
    assert [load_comment(moderator.engine, i).status for i in ids] == [
        "approved", "pending", "approved", "approved", "approved"]
    assert load_comment(moderator.engine, ids[4]).additions_status == AdditionsStatus.PENDING
    assert moderator.publishes == ["publish"]
    with Session(moderator.engine) as session:
        [event] = session.exec(select(ModerationEvent).where(
            col(ModerationEvent.action) == "campaign-approve")).all()
    assert (event.actor, event.detail) == (USER, f"campaign {campaign_id}: 4 of 5 members")

    # Again: nothing left to do but the held one, so nothing was done: 409.
    again = moderator.post(f"/campaigns/{campaign_id}/approve", 409, size=5)
    assert "Approved: 0 nga / of 5" in text_of(again)
    assert moderator.publishes == ["publish"]


def test_a_campaign_that_changed_since_the_page_was_read_is_not_approved(
    moderator: Moderator,
) -> None:
    ids = letters(moderator.engine, 3)
    campaign_id = campaign(ids, moderator.engine)
    letters(moderator.engine, 1)  # a fourth copy arrives while the page is open
    conflict = moderator.post(f"/campaigns/{campaign_id}/approve", 409, size=3)
    assert "4 members now, 3 when you looked" in conflict
    assert "Approve the campaign (4)" in conflict
    assert moderator.post(f"/campaigns/{campaign_id}/approve", 400).count("did not say")
    assert {load_comment(moderator.engine, i).status for i in ids} == {"pending"}
    assert moderator.publishes == []


def test_rejecting_the_campaign_gives_every_member_the_chosen_reason(
    moderator: Moderator,
) -> None:
    ids = letters(moderator.engine, 3)
    campaign_id = campaign(ids, moderator.engine)
    # "Another reason" needs words the citizen can read: said once, nothing rejected.
    refused = moderator.post(f"/campaigns/{campaign_id}/reject", 400, size=3,
                             reason_code="other")
    assert "needs a reason the citizen can read" in refused
    assert {load_comment(moderator.engine, i).status for i in ids} == {"pending"}

    result = moderator.post(f"/campaigns/{campaign_id}/reject", 200, size=3,
                            reason_code="off-topic", reason="Kjo letër nuk flet për planin.")
    assert "Rejected: 3 nga / of 3 anëtarë / members" in text_of(result)
    for comment_id in ids:
        comment = load_comment(moderator.engine, comment_id)
        assert (comment.status, comment.reject_code, comment.reject_reason) == (
            "rejected", "off-topic", "Kjo letër nuk flet për planin.")
    assert moderator.publishes == []


def test_a_members_additions_are_approved_on_their_own(moderator: Moderator) -> None:
    ids = letters(moderator.engine, 3, own_from=2)
    campaign_id = campaign(ids, moderator.engine)
    version = load_comment(moderator.engine, ids[2]).version
    url = f"/campaigns/{campaign_id}/members/{ids[2]}/additions"
    location = moderator.post(url, 303, version=version, decision="approve")
    assert location == f"/campaigns/{campaign_id}?done=additions-approve:{ids[2]}#member-{ids[2]}"
    assert load_comment(moderator.engine, ids[2]).additions_status == AdditionsStatus.APPROVED
    assert moderator.publishes == ["publish"]
    assert "The additions of" in moderator.page(location.split("#")[0])
    # The form was made from the version before: refused, the page as it is now.
    stale = moderator.post(url, 409, version=version, decision="reject")
    assert "changed since you opened the campaign" in stale
    assert load_comment(moderator.engine, ids[2]).additions_status == AdditionsStatus.APPROVED
    # A member without additions has none to decide.
    plain = load_comment(moderator.engine, ids[0])
    moderator.post(f"/campaigns/{campaign_id}/members/{ids[0]}/additions", 409,
                   version=plain.version, decision="approve")


def test_a_member_is_split_out_and_another_campaign_merged_in(moderator: Moderator) -> None:
    ids = letters(moderator.engine, 4)
    campaign_id = campaign(ids, moderator.engine)
    member = load_comment(moderator.engine, ids[3])
    location = moderator.post(f"/campaigns/{campaign_id}/members/{ids[3]}/split", 303,
                              version=member.version, reason="A different letter")
    assert location == f"/campaigns/{campaign_id}?done=split:{ids[3]}"
    split = load_comment(moderator.engine, ids[3])
    assert (split.campaign_id, split.campaign_split) == (None, True)
    assert 'id="campaign-size">3<' in moderator.page(f"/campaigns/{campaign_id}")
    # Splitting it again (a stale page) is refused.
    moderator.post(f"/campaigns/{campaign_id}/members/{ids[3]}/split", 409,
                   version=split.version)

    others = [make_comment(moderator.engine, f"{BUDGET} {n}") for n in range(3)]
    other_id = campaign(others, moderator.engine)
    assert moderator.post(f"/campaigns/{campaign_id}/merge", 400, size=3,
                          other=str(campaign_id)).count("cannot be merged into itself")
    assert "no campaign with id 9999" in moderator.post(
        f"/campaigns/{campaign_id}/merge", 400, size=3, other="9999")
    location = moderator.post(f"/campaigns/{campaign_id}/merge", 303, size=3,
                              other=f"#{other_id}")
    assert location == f"/campaigns/{campaign_id}?done=merged:{other_id}"
    assert {campaign_of(moderator.engine, i) for i in others} == {campaign_id}
    assert 'id="campaign-size">6<' in moderator.page(location)
    moderator.page(f"/campaigns/{other_id}", status=404)


def test_forms_need_the_sessions_csrf_token_and_pages_a_login(
    moderator: Moderator, settings: Settings,
) -> None:
    ids = letters(moderator.engine, 3)
    campaign_id = campaign(ids, moderator.engine)
    for token in ("", "forged"):
        response = moderator.client.post(f"/campaigns/{campaign_id}/approve",
                                          data={"csrf_token": token, "size": 3})
        assert response.status_code == 403
        assert "CSRF" in response.text
    assert {load_comment(moderator.engine, i).status for i in ids} == {"pending"}
    with TestClient(create_app(settings, engine=moderator.engine),
                    follow_redirects=False) as anonymous:
        for url in ("/campaigns", f"/campaigns/{campaign_id}"):
            response = anonymous.get(url)
            assert response.status_code == 303
            assert response.headers["location"].startswith("/login?next=")
        assert anonymous.post(f"/campaigns/{campaign_id}/approve",
                              data={"size": 3}).status_code == 303
    assert {load_comment(moderator.engine, i).status for i in ids} == {"pending"}


def test_queue_items_name_their_campaign_from_the_minimum_size(
    moderator: Moderator, settings: Settings,
) -> None:
    ids = letters(moderator.engine, 3)
    campaign_id = campaign(ids, moderator.engine)
    alone = make_comment(moderator.engine, "Portali i të dhënave të hapura nuk ka të dhëna "
                                           "të reja për prokurimet që nga viti i kaluar.")
    page = moderator.page("/queue")
    for comment_id in ids:
        badge = re.search(rf'id="campaign-of-{comment_id}" href="([^"]+)">([^<]+)<', page)
        assert badge, comment_id
        assert badge.groups() == (f"/campaigns/{campaign_id}",
                                  f"Fushatë / Campaign #{campaign_id} (3)")
    assert f'id="campaign-of-{alone}"' not in page

    found = run_cli(settings, "queue", "--json")
    assert found.returncode == 0, found.stderr
    by_id = {item["id"]: item for item in json.loads(found.stdout)}
    assert {i: by_id[i]["campaign_id"] for i in [*ids, alone]} == {
        **dict.fromkeys(ids, campaign_id), alone: None}
    # A larger minimum: the three are moderated one by one, no campaign named.
    with Session(moderator.engine) as session:
        items = fetch_queue(session, QueueQuery(), campaign_min_size=4).items
    assert {item["campaign_id"] for item in items} == {None}
