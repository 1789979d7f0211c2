"""An SMTP relay on loopback (aiosmtpd, in this process) that checks the login it is given
and, when given a certificate, offers STARTTLS and takes a login only over TLS, as a real
relay on port 587 does. It keeps what it is sent."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.conftest import free_port


@dataclass
class Relay:
    port: int
    user: str
    password: str
    received: list[bytes] = field(default_factory=list)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
        self.received.append(bytes(envelope.content))
        return "250 OK"

    def authenticate(self, _server: Any, _session: Any, _envelope: Any, _mechanism: str,
                     data: Any) -> AuthResult:
        good = isinstance(data, LoginPassword) and (data.login, data.password) == (
            self.user.encode(), self.password.encode())
        return AuthResult(success=good, handled=False)


@contextmanager
def running_relay(user: str, password: str,
                  certificate: tuple[Path, Path] | None = None) -> Iterator[Relay]:
    """``certificate``: (cert.pem, key.pem) to offer STARTTLS and require it."""
    relay = Relay(free_port(), user, password)
    tls: dict[str, Any] = {"auth_require_tls": False}
    if certificate is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(certificate[0]), str(certificate[1]))
        tls = {"tls_context": context, "require_starttls": True, "auth_require_tls": True}
    controller = Controller(relay, hostname="127.0.0.1", port=relay.port,
                            authenticator=relay.authenticate, **tls)
    controller.start()
    try:
        yield relay
    finally:
        controller.stop()
