"""The email: a multipart/alternative message (plain text and HTML) with safe headers.

It touches no network and no state. Header values go through :func:`one_line` (control
characters and line breaks become spaces) and :data:`email.policy.SMTP`, which refuses any
header with a line break, so no title or name can add a header.
"""

import hashlib
import re
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import SMTP
from email.utils import format_datetime, parseaddr

from service.digest.edition import Edition
from service.digest.layout import heading, render_html, render_text
from service.render import one_line as one_line  # re-exported: the digest's one flattener

HEADER_LIMIT = 200
"""Characters of a header value made from a title or name."""


def subject(edition: Edition) -> str:
    """The subject: the digest, the day and the leading story."""
    top = edition.stories[0].briefing.title if edition.stories else "nothing new"
    more = len(edition.stories) - 1
    tail = f" (and {more} more)" if more > 0 else ""
    return one_line(f"{heading(edition)}: {one_line(top, 120)}{tail}", HEADER_LIMIT)


def message_id(edition: Edition, sender: str, content: str) -> str:
    """A Message-ID from the digest, day, edition and a hash of ``content`` (the idempotency key).

    The same stories on the same day give the same id, so an email rebuilt after a crash is
    recognised as the one already in the outbox.
    """
    domain = parseaddr(sender)[1].rpartition("@")[2] or "newsbrief.invalid"
    slug = re.sub(r"[^A-Za-z0-9]+", "-", edition.digest).strip("-").lower() or "digest"
    digest = hashlib.sha256(content.encode()).hexdigest()[:16]
    return f"<{edition.made:%Y%m%d}.{edition.number}.{digest}.{slug}@{domain}>"


def build(edition: Edition, sender: str, msg_id: str) -> EmailMessage:
    """The email for ``edition``, without ``To`` (each recipient's copy gets its own)."""
    message = EmailMessage(policy=SMTP)
    message["Subject"] = subject(edition)
    message["From"] = sender
    message["Date"] = format_datetime(edition.made)
    message["Message-ID"] = msg_id
    message["Auto-Submitted"] = "auto-generated"
    message["X-Newsbrief-Digest"] = one_line(edition.digest, HEADER_LIMIT)
    message.set_content(render_text(edition), cte="quoted-printable")
    message.add_alternative(render_html(edition), subtype="html", cte="quoted-printable")
    return message


def addressed(raw: bytes, recipient: str) -> bytes:
    """One recipient's copy of the stored email ``raw``: the same message with its ``To``."""
    message = BytesParser(policy=SMTP).parsebytes(raw)
    del message["To"]
    message["To"] = recipient
    return message.as_bytes()
