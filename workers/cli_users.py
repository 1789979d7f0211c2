"""``ogp-feedback users ACTION``: staff accounts from the operator's shell.

Each action is one function in ``USERS_COMMANDS``; each runs in one
transaction and is audited with the actor ``cli`` (whoever has the shell).
Refusals are ``UserError``s, which ``workers.cli`` prints as usage errors.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from typing import Any

from moderation.db import session_scope
from moderation.models import Role
from moderation.totp import provisioning_uri
from moderation.users import (
    add_user,
    disable_totp,
    enable_totp,
    list_users,
    reset_password,
    set_active,
    set_role,
)
from workers.runtime import Runtime

ACTOR = "cli"
ROLE_CHOICES = [role.value for role in Role]


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return getpass.getpass(f"password for {args.name}: ")


def cmd_add(runtime: Runtime, args: argparse.Namespace) -> int:
    password = _password(args)
    with session_scope(runtime.engine) as session:
        add_user(session, args.name, args.role, password, actor=ACTOR)
    print(f"user {args.name} ({args.role}) saved")
    return 0


def cmd_list(runtime: Runtime, args: argparse.Namespace) -> int:
    with session_scope(runtime.engine) as session:
        rows: list[dict[str, Any]] = [
            {"name": u.name, "role": u.role, "active": u.active,
             "totp": u.totp_secret is not None, "created_at": u.created_at.isoformat()}
            for u in list_users(session)]
    if args.json:
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    for row in rows:
        print(f"{row['name']:<24} {row['role']:<12} "
              f"{'active' if row['active'] else 'disabled':<9} "
              f"{'totp' if row['totp'] else '-':<5} {row['created_at'][:19]}")
    print(f"{len(rows)} user(s)")
    return 0


def cmd_disable(runtime: Runtime, args: argparse.Namespace) -> int:
    with session_scope(runtime.engine) as session:
        set_active(session, args.name, False, ACTOR)
    print(f"user {args.name} disabled; their sessions have ended")
    return 0


def cmd_enable(runtime: Runtime, args: argparse.Namespace) -> int:
    with session_scope(runtime.engine) as session:
        set_active(session, args.name, True, ACTOR)
    print(f"user {args.name} enabled")
    return 0


def cmd_set_role(runtime: Runtime, args: argparse.Namespace) -> int:
    with session_scope(runtime.engine) as session:
        set_role(session, args.name, args.role, ACTOR)
    print(f"user {args.name} is now {args.role}; their sessions have ended")
    return 0


def cmd_reset_password(runtime: Runtime, args: argparse.Namespace) -> int:
    password = _password(args)
    with session_scope(runtime.engine) as session:
        reset_password(session, args.name, password, ACTOR)
    print(f"password of {args.name} changed; their sessions have ended")
    return 0


def cmd_totp(runtime: Runtime, args: argparse.Namespace) -> int:
    if args.disable:
        with session_scope(runtime.engine) as session:
            disable_totp(session, args.name, ACTOR)
        print(f"second factor of {args.name} disabled; the password alone logs in")
        return 0
    with session_scope(runtime.engine) as session:
        secret = enable_totp(session, args.name, ACTOR)
    # Shown once and never again: only the user's authenticator app should keep it.
    print(f"second factor of {args.name} enabled; add it to an authenticator app:")
    print(f"secret: {secret}")
    print(f"uri: {provisioning_uri(args.name, secret)}")
    print("from now on every login needs the app's code")
    return 0


Command = Callable[[Runtime, argparse.Namespace], int]

USERS_COMMANDS: dict[str, Command] = {
    "add": cmd_add,
    "list": cmd_list,
    "disable": cmd_disable,
    "enable": cmd_enable,
    "set-role": cmd_set_role,
    "reset-password": cmd_reset_password,
    "totp": cmd_totp,
}


def add_users_parser(sub: Any) -> argparse.ArgumentParser:
    """``users`` and its actions, on the top-level subparsers ``sub``."""
    users: argparse.ArgumentParser = sub.add_parser(
        "users", help="manage staff accounts (audited as 'cli')")
    actions = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")

    add = actions.add_parser("add", help="add a user (or reset an existing one's password "
                                         "and role, and enable it)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLE_CHOICES)
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of standard input")

    listing = actions.add_parser("list", help="list users")
    listing.add_argument("--json", action="store_true",
                         help="print a JSON list (name, role, active, totp, created_at)")

    for action, text in (("disable", "stop a user logging in; ends their sessions at once"),
                         ("enable", "let a disabled user log in again")):
        actions.add_parser(action, help=text).add_argument("name")

    set_role_p = actions.add_parser("set-role", help="change a role; ends the user's sessions")
    set_role_p.add_argument("name")
    set_role_p.add_argument("--role", required=True, choices=ROLE_CHOICES)

    reset = actions.add_parser("reset-password",
                               help="set a new password; ends the user's sessions")
    reset.add_argument("name")
    reset.add_argument("--password-stdin", action="store_true",
                       help="read the password from the first line of standard input")

    totp = actions.add_parser("totp", help="set up a second factor (prints the secret and "
                                           "the otpauth:// URI once)")
    totp.add_argument("name")
    totp.add_argument("--disable", action="store_true", help="remove the second factor")
    return users
