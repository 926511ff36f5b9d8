"""A real SMTP server on 127.0.0.1 (aiosmtpd) with STARTTLS or TLS and a login, for tests.

The certificate comes from a throw-away CA (trustme); ``SSL_CERT_FILE`` pointed at the CA's
file makes the client trust it, as a user with a private CA would. Every message received
is kept with its envelope, so tests can count what each recipient got.
"""

import ssl
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from service.local_model import free_port

USER, PASSWORD = "digest", "s3cret-pass"


@dataclass
class Received:
    """One message as the server got it."""

    sender: str
    recipient: str
    message: EmailMessage


@dataclass
class Mailbox:
    """Everything the server accepted, one entry per recipient."""

    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    """Recipients the server rejects for good (550)."""

    def copies(self) -> Counter[tuple[str, str]]:
        """How many times each (recipient, Message-ID) arrived."""
        return Counter((r.recipient, str(r.message["Message-ID"])) for r in self.received)

    def to(self, recipient: str) -> list[EmailMessage]:
        return [r.message for r in self.received if r.recipient == recipient]


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.box.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = message_from_bytes(envelope.content, policy=SMTP)
        for recipient in envelope.rcpt_tos:
            self.box.received.append(Received(envelope.mail_from, recipient, message))
        return "250 OK queued"


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


def trusted_ca(tmp_path: Path) -> tuple[trustme.CA, Path]:
    """A CA and the file holding its certificate (for ``SSL_CERT_FILE``)."""
    ca = trustme.CA()
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return ca, path


def _server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@contextmanager
def smtp_server(ca: trustme.CA, security: str = "starttls") -> Iterator[tuple[int, Mailbox]]:
    """Serve SMTP on a free port with login required over TLS; yield (port, mailbox)."""
    box, context = Mailbox(), _server_context(ca)
    # aiosmtpd only knows a STARTTLS session as encrypted: with implicit TLS, it would not
    # offer AUTH unless told the connection needs no upgrade.
    tls: dict[str, Any] = (
        {"ssl_context": context, "auth_require_tls": False}
        if security == "tls"
        else {"tls_context": context, "require_starttls": True, "auth_require_tls": True}
    )
    controller = Controller(
        _Handler(box),
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=_authenticate,
        auth_required=True,
        **tls,
    )
    controller.start()
    try:
        yield controller.port, box
    finally:
        controller.stop()
