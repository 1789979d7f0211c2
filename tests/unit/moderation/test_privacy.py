"""Hiding names in public text: whole names, in either order, whatever the case or accents."""

from __future__ import annotations

import pytest

from moderation.privacy import NameIndex, name_words, redact_email_addresses

NAMES = NameIndex(["Besnik Dedaj", "Dr. Elona Çela (via Docs)", "Ana", "ilir@example.al",
                   "Straße Müller"])


@pytest.mark.parametrize(("text", "expected"), [
    ("Me respekt,\nBesnik Dedaj", "Me respekt,\n[name]"),
    ("DEDAJ, BESNIK shkroi", "[name] shkroi"),
    ("besnik   dedaj.", "[name]."),
    ("elona cela dhe Elona Çela", "[name] dhe [name]"),
    ("Herr STRASSE Müller", "Herr [name]"),  # ß folds to ss: the span maps back
    # Not whole names: left as written (a moderator edits these).
    ("Besnik Dedajt", "Besnik Dedajt"),
    ("Besnik.Dedaj", "Besnik.Dedaj"),
    ("Besnik e pyeti Dedaj", "Besnik e pyeti Dedaj"),
    # A one-word name is left out of an index of whole names: "ana" is also "side".
    ("nga ana e qeverisë", "nga ana e qeverisë"),
])
def test_whole_names_are_hidden(text: str, expected: str) -> None:
    assert NAMES.redact(text) == expected


def test_a_one_word_name_is_hidden_when_asked_for() -> None:
    own = NameIndex(["Arbenito"], min_words=1)
    assert own.redact("Faleminderit.\n\nArbenito\n") == "Faleminderit.\n\n[name]\n"
    assert NameIndex(["Arbenito"]).redact("Arbenito") == "Arbenito"


def test_what_is_not_a_name_is_not_indexed() -> None:
    assert name_words("Dr. Elona Çela (via Docs)") == ("elona", "cela")
    assert name_words("ilir@example.al") == ()  # an address as a name: the address rule's job
    assert name_words("Al") == ()  # too short to tell from a word
    assert not NameIndex(["", "  ", "Z."])


def test_addresses_are_hidden_first() -> None:
    assert redact_email_addresses("Shkruani te ilir.kola@example.al.") == "Shkruani te [e-mail]."
