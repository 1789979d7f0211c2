"""The pure parts of contact-form address confirmation: tokens, links, states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from moderation.confirmations import (
    UNSENT,
    ConfirmState,
    confirm_link,
    hash_token,
    new_token,
    state_of,
    unsent_marker,
    well_formed,
)
from moderation.models import AddressConfirmation

NOW = datetime(2020, 9, 20, 10, 0, tzinfo=UTC)


def row(token_hash: str = "a" * 64, expires_in: timedelta = timedelta(hours=1),
        confirmed: bool = False) -> AddressConfirmation:
    return AddressConfirmation(inbound_id=1, token_hash=token_hash, expires_at=NOW + expires_in,
                               confirmed_at=NOW if confirmed else None)


def test_tokens_are_random_well_formed_and_stored_only_as_a_hash() -> None:
    tokens = {new_token() for _ in range(50)}
    assert len(tokens) == 50
    for token in tokens:
        assert well_formed(token)
        assert len(hash_token(token)) == 64
        assert token not in hash_token(token)


@pytest.mark.parametrize("token", ["", "abc", "a" * 200, "a b" * 20, "ä" * 40, "x" * 31 + "/"])
def test_anything_else_is_not_a_token(token: str) -> None:
    assert not well_formed(token)


def test_an_unsent_marker_never_equals_a_hash() -> None:
    marker = unsent_marker()
    assert marker.startswith(UNSENT)
    assert len(marker) <= 64
    assert not all(ch in "0123456789abcdef" for ch in marker)
    assert state_of(row(token_hash=marker), NOW) is ConfirmState.UNKNOWN


def test_the_link_points_at_the_confirm_page() -> None:
    assert confirm_link("https://ogp.example.al/", "T0k") == (
        "https://ogp.example.al/contact/confirm?token=T0k")
    assert confirm_link("http://127.0.0.1:8000", "T0k") == (
        "http://127.0.0.1:8000/contact/confirm?token=T0k")


@pytest.mark.parametrize(("made", "state"), [
    (None, ConfirmState.UNKNOWN),
    (row(), ConfirmState.VALID),
    (row(expires_in=timedelta(0)), ConfirmState.EXPIRED),
    (row(expires_in=-timedelta(seconds=1)), ConfirmState.EXPIRED),
    (row(confirmed=True), ConfirmState.ALREADY),
    (row(expires_in=-timedelta(days=9), confirmed=True), ConfirmState.ALREADY),
])
def test_the_state_of_a_link(made: AddressConfirmation | None, state: ConfirmState) -> None:
    assert state_of(made, NOW) is state
