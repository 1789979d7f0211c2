"""Named crash points for fault-injection tests.

``OGP_FAILPOINTS=poll:before_move`` makes the process kill itself with SIGKILL
when it reaches that point, exactly as an operator's ``kill -9`` would. Unset in
production, where ``hit`` is one dictionary lookup.
"""

from __future__ import annotations

import os
import signal


def hit(name: str) -> None:
    armed = os.environ.get("OGP_FAILPOINTS", "")
    if armed and name in {point.strip() for point in armed.split(",")}:
        os.kill(os.getpid(), signal.SIGKILL)


class InjectedFaultError(RuntimeError):
    """Raised by a ``raise`` failpoint, as an unexpected bug would be."""


def _armed_for(name: str, raw: bytes) -> str | None:
    """The token of an armed ``name=TOKEN`` point that ``raw`` contains, if any."""
    armed = os.environ.get("OGP_FAILPOINTS", "")
    for point in armed.split(","):
        point_name, _, token = point.strip().partition("=")
        if point_name == name and token and token.encode() in raw:
            return token
    return None


def raise_if(name: str, raw: bytes) -> None:
    """``OGP_FAILPOINTS=process:raise=TOKEN`` makes processing of any message whose bytes
    contain TOKEN raise, every time: a poison message for fault-injection tests."""
    token = _armed_for(name, raw)
    if token is not None:
        raise InjectedFaultError(f"injected fault {name} for a message containing {token!r}")


def kill_if(name: str, raw: bytes) -> None:
    """``OGP_FAILPOINTS=process:kill=TOKEN`` makes the process kill itself with SIGKILL
    while it works on a message whose bytes contain TOKEN: a poison message that takes
    its worker down every time, as a crash in a C library would."""
    if _armed_for(name, raw) is not None:
        os.kill(os.getpid(), signal.SIGKILL)
