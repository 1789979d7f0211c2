"""The README documents every setting and every command the code has."""

from __future__ import annotations

import argparse
from pathlib import Path

from config.settings import Settings
from workers.cli import build_parser

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_every_setting_is_in_the_configuration_table() -> None:
    missing = [f"OGP_{name.upper()}" for name in Settings.model_fields
               if f"`OGP_{name.upper()}`" not in README]
    assert missing == []


def test_every_command_is_in_the_command_table() -> None:
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = [name for name in commands.choices if f"| `{name}" not in README]
    assert missing == []
