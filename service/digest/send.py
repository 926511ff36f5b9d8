"""SMTP delivery: STARTTLS or TLS and a login, all read from environment variables when sending.

It touches the network (the SMTP server) and nothing else: the caller records each
recipient's outcome through ``mark`` before the next copy is sent. A recipient the server
refuses for good is logged (stderr) and recorded; an email refused for every recipient, that
nobody got, raises :class:`UndeliveredError`. The password is read from the environment at
the last moment and never appears in errors, logs or state (a password put by mistake into
``password_env`` is refused by the config, unshown). A server certificate is checked against
the system's CAs (``SSL_CERT_FILE`` names another bundle).
"""

import ipaddress
import logging
import os
import smtplib
import socket
import ssl
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from email.utils import parseaddr

from service._exceptions import ConfigError, DeliveryError, UndeliveredError
from service.digest.config import SmtpRef, check_address
from service.digest.mail import addressed
from service.digest.state import Outgoing

PORTS = {"starttls": 587, "tls": 465, "none": 25}
TIMEOUT = 30.0
"""Seconds one SMTP exchange may take."""

logger = logging.getLogger(__name__)

Mark = Callable[[str, str, str], None]
"""``mark(recipient, status, error)``: records one copy's outcome (``sent`` or ``refused``)."""


@dataclass(frozen=True)
class Smtp:
    """Where and how to send, as read from the environment."""

    host: str
    port: int
    security: str
    user: str | None = None
    password: str | None = None

    def __repr__(self) -> str:  # never show the password
        return f"Smtp({self.host!r}, {self.port}, {self.security!r}, user={self.user!r})"


def resolve(ref: SmtpRef, environ: Mapping[str, str] | None = None) -> Smtp:
    """The SMTP settings the variables named in ``ref`` hold; :class:`ConfigError` if unusable."""
    env = os.environ if environ is None else environ
    host = env.get(ref.host_env, "").strip()
    if not host:
        raise ConfigError(f"{ref.host_env} is not set: it must hold the SMTP server's host name")
    security = env.get(ref.security_env, "").strip().lower() or "starttls"
    if security not in PORTS:
        raise ConfigError(f"{ref.security_env}={security!r}: use starttls, tls or none")
    port = _port(env.get(ref.port_env, "").strip(), ref.port_env, PORTS[security])
    user = env.get(ref.user_env) or None
    password = env.get(ref.password_env)
    if user and password is None:  # a name the config took: capitals, not a password
        raise ConfigError(f"{ref.user_env} is set but {ref.password_env} is not")
    if user and security == "none" and not _loopback(host):
        raise ConfigError(f"{ref.security_env}=none would send the password unencrypted")
    return Smtp(host, port, security, user, password if user else None)


def _port(value: str, name: str, default: int) -> int:
    if not value:
        return default
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ConfigError(f"{name}={value!r} is not a port number")
    return int(value)


def _loopback(host: str) -> bool:
    with suppress(ValueError):
        return ipaddress.ip_address(host).is_loopback
    return host == "localhost"


def describe(error: BaseException) -> str:
    """An SMTP or network error in one line."""
    if isinstance(error, smtplib.SMTPResponseException):
        text = (
            error.smtp_error.decode(errors="replace")
            if isinstance(error.smtp_error, bytes)
            else error.smtp_error
        )
        return f"{error.smtp_code} {' '.join(str(text).split())}"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{r}: {c} {m.decode(errors='replace')}" for r, (c, m) in error.recipients.items()
        )
    return " ".join(str(error).split()) or type(error).__name__


def _open(smtp: Smtp) -> smtplib.SMTP:
    context = ssl.create_default_context()
    if smtp.security == "tls":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            smtp.host, smtp.port, timeout=TIMEOUT, context=context
        )
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=TIMEOUT)
    try:
        client.ehlo()
        if smtp.security == "starttls":
            client.starttls(context=context)
            client.ehlo()
        if smtp.user:
            client.login(smtp.user, smtp.password or "")
    except BaseException:
        client.close()
        raise
    return client


@contextmanager
def connect(smtp: Smtp) -> Iterator[smtplib.SMTP]:
    """A logged-in connection to the server, closed on leaving."""
    try:
        client = _open(smtp)
    except (OSError, smtplib.SMTPException) as error:
        raise DeliveryError(f"{smtp.host}:{smtp.port}: {describe(error)}") from None
    try:
        yield client
    finally:
        with suppress(OSError, smtplib.SMTPException, socket.timeout):
            client.quit()


def send_one(client: smtplib.SMTP, sender: str, recipient: str, data: bytes) -> None:
    """Hand one recipient's copy to the server."""
    client.sendmail(parseaddr(sender)[1], [parseaddr(recipient)[1]], data)


def _bad_address(recipient: str) -> str | None:
    try:
        check_address(recipient)
    except ValueError as error:
        return str(error)
    return None


def _permanent(error: smtplib.SMTPRecipientsRefused) -> bool:
    return all(code >= 500 for code, _ in error.recipients.values())


def deliver(smtp: Smtp, outgoing: Outgoing, mark: Mark) -> None:
    """Send each pending copy of ``outgoing``, recording each before the next is sent.

    A recipient the server refuses for good (5xx) is recorded as refused and the others go on;
    any other failure raises :class:`DeliveryError` and leaves the rest pending. When every
    recipient refused it and no earlier run sent a copy, :class:`UndeliveredError` is raised
    (``mark`` has by then put its stories back to unsent).
    """
    refused: list[str] = []
    with connect(smtp) as client:
        for recipient in outgoing.recipients:
            if (bad := _bad_address(recipient)) is not None:  # stored by an older version
                refused.append(bad)
                mark(recipient, "refused", bad)
                continue
            try:
                send_one(client, outgoing.sender, recipient, addressed(outgoing.raw, recipient))
            except smtplib.SMTPRecipientsRefused as error:
                if not _permanent(error):
                    raise DeliveryError(f"{recipient}: {describe(error)}") from None
                refused.append(describe(error))
                logger.warning("%s: refused by the server: %s", outgoing.message_id, refused[-1])
                mark(recipient, "refused", describe(error))
                continue
            except (OSError, smtplib.SMTPException) as error:
                raise DeliveryError(f"{smtp.host}:{smtp.port}: {describe(error)}") from None
            mark(recipient, "sent", "")
    if refused and len(refused) == len(outgoing.recipients) and not outgoing.sent_before:
        raise UndeliveredError(
            f"{outgoing.message_id} was delivered to nobody: every recipient was refused "
            f"({'; '.join(refused)}); its stories stay unsent and go in the next run's email"
        )


def undelivered(nobody: list[str], delivered: int, say: Callable[[str], None]) -> None:
    """Tell of the emails that reached nobody: a run that delivered no copy at all fails with
    :class:`UndeliveredError`; one that delivered others says so on stderr and goes on."""
    if nobody and not delivered:
        raise UndeliveredError("; ".join(nobody))
    for line in nobody:
        say(line)
