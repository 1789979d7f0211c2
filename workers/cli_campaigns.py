"""``ogp-feedback campaigns [--json]``, ``campaigns recompute``, and the campaign form of
``approve --campaign ID`` and ``reject --campaign ID``.

A campaign is a group of near-identical comments (``moderation.campaigns``); groups smaller
than ``OGP_CAMPAIGN_MIN_SIZE`` are not listed (their comments are decided one by one).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from moderation.campaigns import (
    CampaignDecision,
    CampaignError,
    approve_campaign,
    list_campaigns,
    recompute,
    reject_campaign,
)
from moderation.db import session_scope
from moderation.models import Comment, RejectCode
from moderation.transitions import NoticePolicy
from workers.runtime import Runtime


def add_campaigns_parser(sub: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        "campaigns", help="list campaigns (near-identical comments), or rebuild the groups")
    parser.add_argument("action", nargs="?", choices=["list", "recompute"], default="list",
                        help="list (default) or recompute: group every comment again")
    parser.add_argument("--json", action="store_true", help="list: print a JSON list")
    parser.add_argument("--min-size", type=int, metavar="N",
                        help="list: campaigns of at least N comments "
                             "(default OGP_CAMPAIGN_MIN_SIZE)")
    parser.add_argument("-q", "--quiet", action="store_true", help="recompute: no progress bar")
    parser.add_argument("--as", dest="actor", metavar="USER",
                        help="recompute: the user named in the audit log (default: cli)")
    return parser


def cmd_campaigns(runtime: Runtime, args: argparse.Namespace, actor: str) -> int:
    settings = runtime.settings
    if args.action == "recompute":
        return _recompute(runtime, args, actor)
    min_size = args.min_size if args.min_size is not None else settings.campaign_min_size
    with Session(runtime.engine) as session:
        campaigns = list_campaigns(session, max(2, min_size))
    if args.json:
        json.dump([{"id": c.id, "size": c.size,
                    "representative_comment_id": c.representative_comment_id,
                    "member_comment_ids": c.member_comment_ids,
                    "statuses": c.statuses, "additions_pending": c.additions_pending}
                   for c in campaigns], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if not campaigns:
        print(f"no campaigns of {min_size} or more comments")
        return 0
    for c in campaigns:
        statuses = ", ".join(f"{n} {status}" for status, n in sorted(c.statuses.items()))
        print(f"campaign {c.id:>5}  {c.size:>6} comments  ({statuses}; "
              f"{c.additions_pending} with additions to look at)  "
              f"representative: comment {c.representative_comment_id}")
    print(f"{len(campaigns)} campaign(s)")
    return 0


def _recompute(runtime: Runtime, args: argparse.Namespace, actor: str) -> int:
    from tqdm import tqdm

    with Session(runtime.engine) as session:
        total = session.exec(select(func.count()).select_from(Comment)
                             .where(col(Comment.erased).is_(False))).one()
    settings = runtime.settings
    with tqdm(total=total, unit="comment", desc="campaigns", disable=args.quiet,
              file=sys.stderr) as bar:
        report = recompute(runtime.engine, settings.campaign_threshold,
                           settings.campaign_min_size, progress=bar.update,
                           actor=actor)
    print(f"{report.comments} comments: {report.campaigns} groups of {report.grouped} "
          f"comments, {report.shown} of them campaigns of {settings.campaign_min_size} or more")
    return 0


def _report(decision: CampaignDecision, done: str) -> int:
    for member_id, why in decision.skipped.items():
        print(f"{member_id}: left as it is: {why}", file=sys.stderr)
    print(f"campaign {decision.campaign_id}: {len(decision.decided)} comment(s) {done}, "
          f"{len(decision.skipped)} left as they were")
    return 0


def decide_campaign(runtime: Runtime, campaign_id: int, actor: str, approve: bool,
                    code: RejectCode = RejectCode.OTHER, reason: str = "",
                    notices: NoticePolicy | None = None) -> int:
    """Every undecided member at once; raises ``CampaignError`` for an unknown campaign."""
    with session_scope(runtime.engine) as session:
        if approve:
            decision = approve_campaign(session, campaign_id, actor)
        else:
            decision = reject_campaign(session, campaign_id, actor, code, reason, notices)
    return _report(decision, "approved" if approve else "rejected")


__all__ = ["CampaignError", "add_campaigns_parser", "cmd_campaigns", "decide_campaign"]
