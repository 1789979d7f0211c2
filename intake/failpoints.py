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
