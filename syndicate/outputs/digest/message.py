"""Build the digest's `.eml`: multipart/alternative (text/plain, then text/html), ready to send.

Built with the standard `email` package and `policy.SMTP` (CRLF line ends), so every header is
encoded and folded correctly. Both parts are UTF-8 and quoted-printable, which keeps every
line under 78 characters and means the body can never contain the boundary, which starts
with "=_" (quoted-printable writes "=" as "=3D"). The boundary, the Message-ID and the Date
derive from the digest itself, so the same input always gives the same bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from ...site import Site


@dataclass(frozen=True)
class Envelope:
    """The digest's addressing, from `[digest]` with the site's defaults filled in."""

    sender: Address
    to: Address
    reply_to: Address | None
    unsubscribe_url: str
    unsubscribe_mailto: str


def _address(value: str) -> Address:
    name, addr = parseaddr(value)
    return Address(display_name=" ".join(name.split()), addr_spec=addr)


def envelope(site: Site) -> Envelope:
    """Return From, To, Reply-To and the unsubscribe targets for the site's digest."""
    config = site.config.digest
    domain = site.domain
    title = " ".join(site.config.site.title.split())
    sender = (_address(config.from_address) if config.from_address
              else Address(display_name=title, username="newsletter", domain=domain))
    mailbox = config.unsubscribe_mailto.removeprefix("mailto:") or f"unsubscribe@{domain}"
    if "?" not in mailbox:
        mailbox += "?subject=unsubscribe"
    return Envelope(
        sender=sender,
        to=_address(config.to),
        reply_to=_address(config.reply_to) if config.reply_to else None,
        unsubscribe_url=config.unsubscribe_url or site.url("unsubscribe"),
        unsubscribe_mailto="mailto:" + mailbox,
    )


def fingerprint(site: Site, day: date, story_ids: Sequence[str]) -> str:
    """Return a short hash naming this digest: the site, the day and the stories it carries."""
    seed = "\n".join([site.base_url, day.isoformat(), *story_ids])
    return hashlib.sha256(seed.encode("utf-8")).hexdigest()[:16]


def build_message(site: Site, *, day: date, sent: datetime, subject: str, text: str,
                  html: str, story_ids: Sequence[str]) -> bytes:
    """Return the digest as the bytes of an RFC 5322 message with CRLF line ends."""
    addresses = envelope(site)
    tag = fingerprint(site, day, story_ids)
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = addresses.sender
    message["To"] = addresses.to
    if addresses.reply_to is not None:
        message["Reply-To"] = addresses.reply_to
    message["Subject"] = subject
    message["Date"] = format_datetime(sent)
    message["Message-ID"] = f"<digest-{day.isoformat()}.{tag}@{site.domain}>"
    message["MIME-Version"] = "1.0"
    message["List-Unsubscribe"] = (f"<{addresses.unsubscribe_url}>, "
                                   f"<{addresses.unsubscribe_mailto}>")
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    message.set_boundary(f"=_digest-{day.isoformat()}-{tag}")
    return message.as_bytes(policy=policy.SMTP)
