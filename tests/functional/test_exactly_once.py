"""Exactly-once intake: repeated polls and a poller killed mid-round add nothing twice."""

from __future__ import annotations

import json
import signal

from config.settings import Settings
from tests.conftest import Dovecot, run_cli
from tests.functional.helpers import append_all, folder_counts
from tests.mailgen import varied_messages


def _comment_count(settings: Settings) -> int:
    result = run_cli(settings, "queue", "--status", "all", "--json")
    assert result.returncode == 0, result.stderr
    return len(json.loads(result.stdout))


def test_polling_again_creates_nothing(
    settings: Settings, dovecot: Dovecot, imap_user: str
) -> None:
    imap = dovecot.settings_for(settings, imap_user)
    append_all(imap, [m.raw for m in varied_messages(8, prefix="AGN")])
    first = run_cli(imap, "poll", "--once")
    assert "stored 8, duplicates 0, moved 8" in first.stdout, first.stderr
    second = run_cli(imap, "poll", "--once")
    assert "stored 0, duplicates 0, moved 0" in second.stdout, second.stderr
    assert _comment_count(settings) == 8
    assert folder_counts(imap, "INBOX", "Processed") == {"INBOX": 0, "Processed": 8}


def test_poller_killed_after_commit_before_move(
    settings: Settings, dovecot: Dovecot, imap_user: str
) -> None:
    imap = dovecot.settings_for(settings, imap_user)
    append_all(imap, [m.raw for m in varied_messages(12, prefix="KIL")])

    # Batches of 5: the first batch is committed (and processed), then the
    # poller dies by SIGKILL before it moves anything.
    crashed = run_cli(
        imap, "poll", "--once", OGP_IMAP_BATCH_SIZE="5", OGP_FAILPOINTS="poll:before_move"
    )
    assert crashed.returncode == -signal.SIGKILL
    assert _comment_count(settings) == 5
    assert folder_counts(imap, "INBOX", "Processed") == {"INBOX": 12, "Processed": 0}

    recovered = run_cli(imap, "poll", "--once", OGP_IMAP_BATCH_SIZE="5")
    assert recovered.returncode == 0, recovered.stderr
    # The 5 already stored are moved without being stored again; 7 are new.
    assert "stored 7, duplicates 0, moved 12" in recovered.stdout
    assert _comment_count(settings) == 12
    assert folder_counts(imap, "INBOX", "Processed") == {"INBOX": 0, "Processed": 12}

    assert "stored 0, duplicates 0, moved 0" in run_cli(imap, "poll", "--once").stdout
    assert _comment_count(settings) == 12


def test_same_bytes_in_two_folders_are_stored_once(
    settings: Settings, dovecot: Dovecot, imap_user: str
) -> None:
    """A message that reappears (e.g. moved back by a person) is recognised by its hash."""
    imap = dovecot.settings_for(settings, imap_user)
    raws = [m.raw for m in varied_messages(3, prefix="DUP")]
    append_all(imap, raws)
    assert "stored 3" in run_cli(imap, "poll", "--once").stdout
    append_all(imap, raws[:1])
    again = run_cli(imap, "poll", "--once")
    assert "stored 0, duplicates 1, moved 1" in again.stdout, again.stdout
    assert _comment_count(settings) == 3
