"""A campaign on the public site: once in the listings with its true count and the approved
additions, a page of its own, every member's permalink kept, and counted apart from the
comments sent alone in the digest, the statistics and the open data."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from config.catalogue import default_catalogue
from config.settings import Settings
from intake.campaigns import additions
from intake.receipts import reference_for
from moderation.db import session_scope
from moderation.models import AdditionsStatus, Campaign, Comment, CommentCommitment, utcnow
from moderation.redaction import PLACEHOLDER
from moderation.transitions import approve
from publish import urls
from publish.archive import write_evidence
from publish.campaigns import cut_own, hide
from publish.digest import Period
from publish.digest_load import load_digest
from publish.digest_render import Links, render_html, render_json
from publish.plan import Entry, Group, plan_site
from publish.site import publish_site
from tests.published import published_files
from tests.unit.factories import SQLITE_ONLY, load_comment, make_comment

CATALOGUE = default_catalogue()
LETTER = ("Të nderuar, TOKCOMMON kërkojmë që portali i të dhënave të hapura të publikojë çdo muaj "
          "buxhetin e bashkive në formate të lexueshme nga makina. Të dhënat e prokurimit "
          "publik duhet të jenë të plota dhe të kërkueshme për çdo qytetar. Ju lutemi që "
          "angazhimi të ketë afate të qarta dhe një institucion përgjegjës.")
APPROVED_OWN = "Në qytetin tonë askush nuk e di ku gjenden këto të dhëna TOKAPPROVED."
PENDING_OWN = "Unë kam pritur tre vite për një përgjigje nga bashkia ime TOKPENDING."
REJECTED_OWN = "Kjo fjali e shtuar u refuzua nga moderatori për arsye të caktuara TOKREJECTED."


@dataclass
class Book:
    campaign: int
    members: list[int]  # the representative first
    unique: list[int]
    waiting: int  # a member not approved yet

    def reference(self, engine: Engine, comment_id: int) -> str:
        return reference_for(load_comment(engine, comment_id).inbound_id)


def _group(engine: Engine, members: list[int], own: dict[int, tuple[str, str]],
           size: int | None = None) -> int:
    """Group ``members`` as ``moderation.campaigns`` does (the first is the representative),
    whatever the intake grouped: the member's own sentences and their review as given."""
    with session_scope(engine) as session:
        campaign = Campaign(representative_comment_id=members[0], size=size or len(members))
        session.add(campaign)
        session.flush()
        assert campaign.id is not None
        for comment_id in members:
            comment = session.get(Comment, comment_id)
            assert comment is not None
            text, status = own.get(comment_id, ("", ""))
            comment.campaign_id = campaign.id
            comment.additions = additions(LETTER, comment.text) if text else ""
            assert text in comment.additions
            comment.additions_status = status or None
            session.add(comment)
        return campaign.id


def _alone(engine: Engine, comment_ids: list[int]) -> None:
    with session_scope(engine) as session:
        for comment_id in comment_ids:
            comment = session.get(Comment, comment_id)
            assert comment is not None
            comment.campaign_id, comment.additions, comment.additions_status = None, "", None
            session.add(comment)


def _approve(engine: Engine, *comment_ids: int) -> None:
    with session_scope(engine) as session:
        for comment_id in comment_ids:
            approve(session, comment_id, "mira")


def consultation(engine: Engine) -> Book:
    """Six published members (one with approved additions, one pending, one rejected), a
    seventh waiting for approval, and two comments sent alone."""
    members = [make_comment(engine, text=LETTER)]
    members += [make_comment(engine, text=f"{LETTER}\n\n{own}")
                for own in (APPROVED_OWN, PENDING_OWN, REJECTED_OWN)]
    members += [make_comment(engine, text=LETTER.replace("Të nderuar", f"Përshëndetje {n}"))
                for n in range(3)]
    unique = [make_comment(engine, text="Shërbimet në e-Albania nuk punojnë TOKALONE1."),
              make_comment(engine, text="Rrugët e fshatit tonë kanë nevojë për ndriçim "
                                        "TOKALONE2.")]
    _alone(engine, unique)
    campaign = _group(engine, members, {
        members[1]: (APPROVED_OWN, AdditionsStatus.APPROVED),
        members[2]: (PENDING_OWN, AdditionsStatus.PENDING),
        members[3]: (REJECTED_OWN, AdditionsStatus.REJECTED)})
    book = Book(campaign, members, unique, waiting=members[-1])
    _approve(engine, *[m for m in members if m != book.waiting], *unique)
    return book


def _labels(engine: Engine, comment_id: int) -> list[str]:
    with Session(engine) as session:
        return list(session.exec(select(CommentCommitment.commitment_id)
                                 .where(CommentCommitment.comment_id == comment_id)
                                 .order_by(col(CommentCommitment.score).desc())).all()
                    ) or ["general"]


def test_a_campaign_is_listed_once_with_its_count_and_approved_additions(
        settings: Settings, engine: Engine) -> None:
    book = consultation(engine)

    report = publish_site(engine, CATALOGUE, settings.site_dir, actor="publisher")

    files = published_files(settings.site_dir)
    assert report.total == 8
    label = _labels(engine, book.members[0])[0]
    front = files[urls.commitment_page("en", label)]
    assert len(re.findall(r'<article class="campaign"', front)) == 1
    assert re.search(r'class="campaign-count">6</span>', front)
    assert front.count("TOKCOMMON") == 1  # its text once, not once per member
    assert "TOKAPPROVED" in front
    approved_page = urls.comment_page("en", book.reference(engine, book.members[1]))
    assert f'href="../{approved_page.removeprefix("en/")}"' in front
    assert "1 campaign of 6 comments" in front
    assert "1 fushatë me 6 komente" in files[urls.commitment_page("sq", label)]
    assert "1 campaign of 6 comments; 2 unique comments" in files[urls.index_page("en")]
    # What a moderator did not approve is published nowhere (pages, search index, data).
    for path, text in files.items():
        assert "TOKPENDING" not in text, path
        assert "TOKREJECTED" not in text, path

    for language in urls.LANGUAGES:
        page = files[urls.campaign_page(language, book.campaign)]
        assert 'class="campaign-count">6</span>' in page
        assert "TOKCOMMON" in page
        assert "TOKAPPROVED" in page
        assert f"commitments/{label}.html" in page
    for member in book.members:
        path = urls.comment_page("sq", book.reference(engine, member))
        if member == book.waiting:
            assert path not in files
            continue
        page = files[path]
        assert "TOKCOMMON" in page
        assert f"campaigns/{book.campaign}.html" in page
        assert "campaign-count" not in page  # no figure that moves with other approvals
        assert ("TOKAPPROVED" in page) == (member == book.members[1]), member
    alone = files[urls.comment_page("sq", book.reference(engine, book.unique[0]))]
    assert "TOKALONE1" in alone
    assert "campaigns/" not in alone

    feed = files[urls.feed("en")]
    assert feed.count(f"campaigns/{book.campaign}.html") >= 1
    assert feed.count("<entry>") == 3  # the campaign and the two comments sent alone

    rows = list(csv.DictReader(io.StringIO(files[urls.DATA_CSV])))
    by_id = {int(row["comment_id"]): row for row in rows}
    assert {i: by_id[i]["campaign_id"] for i in book.unique} == dict.fromkeys(book.unique, "")
    assert {by_id[i]["campaign_id"] for i in book.members if i != book.waiting} == {
        str(book.campaign)}
    assert "TOKAPPROVED" in by_id[book.members[1]]["text"]
    listed = json.loads(files[urls.DATA_JSON])
    assert {item["campaign_id"] for item in listed} == {None, book.campaign}
    package = json.loads(files[urls.DATA_PACKAGE])
    assert "campaign_id" in [field["name"] for field in
                             package["resources"][0]["schema"]["fields"]]

    statistics = files["statistics.html"]
    assert "1 campaign of 7 comments; 2 unique comments" in statistics  # received
    assert "1 campaign of 6 comments; 2 unique comments" in statistics  # published

    # The evidence archive publishes members as the site does.
    archive = write_evidence(engine, CATALOGUE, settings.site_dir.parent / "evidence.zip",
                             time_zone="Europe/Tirane", site_url="")
    with zipfile.ZipFile(archive.path) as packed:
        contents = {name: packed.read(name).decode() for name in packed.namelist()}
    assert any("TOKAPPROVED" in text for text in contents.values())
    assert not any("TOKPENDING" in text or "TOKREJECTED" in text
                   for text in contents.values())


def test_one_more_approval_rewrites_the_campaign_not_the_other_members(
        settings: Settings, engine: Engine) -> None:
    book = consultation(engine)
    publish_site(engine, CATALOGUE, settings.site_dir, actor="publisher")
    _approve(engine, book.waiting)

    report = publish_site(engine, CATALOGUE, settings.site_dir, actor="publisher")

    rendered = set(report.rendered_paths)
    label = _labels(engine, book.members[0])[0]
    for language in urls.LANGUAGES:
        assert {urls.campaign_page(language, book.campaign),
                urls.commitment_page(language, label)} <= set(report.written_paths)
        assert urls.comment_page(language, book.reference(engine, book.waiting)) in rendered
        for member in book.members:
            if member != book.waiting:
                page = urls.comment_page(language, book.reference(engine, member))
                assert page not in rendered, page
    files = published_files(settings.site_dir)
    assert 'class="campaign-count">7</span>' in files[urls.commitment_page("en", label)]
    assert "TOKCOMMON" in files[urls.comment_page("en", book.reference(engine, book.waiting))]


@SQLITE_ONLY
def test_a_group_below_the_minimum_size_is_published_as_plain_comments(
        settings: Settings, engine: Engine) -> None:
    first = make_comment(engine, text=LETTER)
    second = make_comment(engine, text=f"{LETTER}\n\n{PENDING_OWN}")
    campaign = _group(engine, [first, second],
                      {second: (PENDING_OWN, AdditionsStatus.APPROVED)})
    _approve(engine, first, second)

    publish_site(engine, CATALOGUE, settings.site_dir, actor="publisher",
                 campaign_min_size=3)

    files = published_files(settings.site_dir)
    assert not any(path.startswith("sq/campaigns/") for path in files)
    assert not any('class="campaign"' in text for text in files.values())
    # Moderated one by one: each published as written.
    assert "TOKPENDING" in files[urls.comment_page("sq", reference_for(
        load_comment(engine, second).inbound_id))]
    rows = list(csv.DictReader(io.StringIO(files[urls.DATA_CSV])))
    assert [row["campaign_id"] for row in rows] == ["", ""]
    assert campaign  # the group exists; it is just too small to be shown as a campaign


def test_the_digest_counts_campaigns_and_unique_comments_apart(
        settings: Settings, engine: Engine) -> None:
    book = consultation(engine)
    publish_site(engine, CATALOGUE, settings.site_dir, actor="publisher")
    period = Period(None, None, ZoneInfo("Europe/Tirane"))

    with Session(engine) as session:
        staff = load_digest(session, CATALOGUE, period, utcnow())
        public = load_digest(session, CATALOGUE, period, utcnow(), public_only=True)
        too_small = load_digest(session, CATALOGUE, period, utcnow(), campaign_min_size=8)

    figures = json.loads(render_json(staff, CATALOGUE))
    assert figures["campaigns"]["count"] == 1
    assert figures["campaigns"]["comments"] == 7
    assert figures["campaigns"]["by_campaign"][str(book.campaign)]["comment_ids"] == sorted(
        book.members)
    assert figures["unique"] == {"count": 2, "comment_ids": sorted(book.unique)}
    assert figures["campaigns_summary"]["en"] == "1 campaign of 7 comments; 2 unique comments"
    assert "1 campaign of 7 comments; 2 unique comments" in render_html(
        staff, CATALOGUE, Links(public=False))
    # Published only: the member waiting for approval is not counted yet.
    assert (len(public.campaigns), public.campaign_comments, public.unique.count) == (1, 6, 2)
    assert (len(too_small.campaigns), too_small.unique.count) == (0, 9)


# ---------------------------------------------------------------- the planner, no database

START = datetime(2020, 9, 1, 8, 0, tzinfo=UTC)


def _entry(comment_id: int, campaign: int | None = 7, own: str | None = None,
           fingerprint: str = "1") -> Entry:
    return Entry(id=comment_id, reference=reference_for(comment_id),
                 published_at=START + timedelta(minutes=comment_id), fingerprint=fingerprint,
                 labels=("4",), campaign_id=campaign, additions_status=own)


def test_a_member_page_key_depends_on_the_member_and_the_campaign_text_only() -> None:
    groups = {7: Group(representative_id=1, size=500)}
    before = [_entry(1), _entry(2, own="approved"), _entry(3, own="pending"),
              _entry(10, campaign=None)]
    after = [*before, _entry(4, own="approved")]

    old = plan_site(CATALOGUE, before, "v1", groups)
    new = plan_site(CATALOGUE, after, "v1", groups)

    changed = {path for path, page in new.pages.items()
               if old.pages.get(path) is None or old.pages[path].key != page.key}
    members = {urls.comment_page(language, reference_for(i))
               for language in urls.LANGUAGES for i in (1, 2, 3)}
    assert not changed & members
    assert {urls.campaign_page("sq", 7), urls.commitment_page("sq", "4"),
            urls.comment_page("sq", reference_for(4))} <= changed
    campaign = new.campaigns[7]
    assert (campaign.text_id, campaign.count, campaign.with_additions) == (1, 4, (2, 4))
    assert new.count("4") == 5
    assert new.campaign_count("4") == (1, 4)
    assert new.unique_count("4") == 1
    assert [kind for kind, _ in new.pages[urls.commitment_page("sq", "4")].items] == [
        "comment", "campaign"]
    # A new text (the representative edited) rewrites every member's page.
    edited = plan_site(CATALOGUE, [_entry(1, fingerprint="2"), *after[1:]], "v1", groups)
    assert all(edited.pages[path].key != new.pages[path].key for path in members)


def test_the_campaign_text_is_a_published_member_without_own_sentences() -> None:
    groups = {7: Group(representative_id=1, size=5)}
    plan = plan_site(CATALOGUE, [_entry(2, own="pending"), _entry(3), _entry(4)], "v1", groups)
    assert (plan.campaigns[7].text_id, plan.campaigns[7].own_cut) == (3, False)
    only_own = plan_site(CATALOGUE, [_entry(2, own="pending"), _entry(3, own="approved"),
                                     _entry(4, own="approved")], "v1", groups)
    assert (only_own.campaigns[7].text_id, only_own.campaigns[7].own_cut) == (2, True)
    small = plan_site(CATALOGUE, [_entry(1), _entry(2)], "v1", {7: Group(1, 2)}, min_size=3)
    assert small.campaigns == {}
    assert small.unique_count() == 2


def test_what_a_moderator_hid_in_a_member_is_hidden_in_its_additions_too() -> None:
    own = "Më telefononi te 069 123 4567 ose te Arben Hoxha për më shumë."
    assert hide(own, ["069 123 4567", "Arben Hoxha", " "]) == (
        f"Më telefononi te {PLACEHOLDER} ose te {PLACEHOLDER} për më shumë.")


def test_a_campaign_text_taken_from_a_member_loses_that_members_own_sentences() -> None:
    text = f"{LETTER}\n\n{PENDING_OWN}"
    assert cut_own(text, additions(LETTER, text)) == LETTER
    assert cut_own(LETTER, "") == LETTER
