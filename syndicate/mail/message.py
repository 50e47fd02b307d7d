"""Load the digest .eml once and make each recipient's copy: To, Message-ID, unsubscribe link.

The copy is re-parsed from the .eml's bytes, never re-rendered, so every recipient gets the
same stories. Only three things change: the To header, a Message-ID derived from the original
one (so that a receiving server can spot a resend), and the unsubscribe link, in the
List-Unsubscribe header and wherever the text or HTML part holds the configured URL exactly.
"""

from __future__ import annotations

import copy
import email
import email.policy
import hashlib
import hmac
import html
import re
from dataclasses import dataclass
from email import base64mime, quoprimime
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlencode

from .errors import CannotStart
from .recipients import Recipient

PARSE_POLICY = email.policy.SMTP
# Python folds a long header by turning it into RFC 2047 encoded words, which breaks the URL
# in List-Unsubscribe; lines up to RFC 5322's 998 characters keep it literal.
WRITE_POLICY = email.policy.SMTP.clone(max_line_length=998)
ONE_CLICK = "List-Unsubscribe=One-Click"


@dataclass(frozen=True)
class Digest:
    """The parsed .eml: its bytes, its Message-ID (the journal key) and the envelope sender."""

    raw: bytes
    message_id: str
    sender: str
    subject: str


def load_digest(path: Path, shown: str) -> Digest:
    """Read and check the .eml; raise CannotStart if it is missing, unreadable or has no From."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CannotStart(f"{shown}: file not found (build the digest first)") from None
    except OSError as exc:
        raise CannotStart(f"{shown}: {exc.strerror or exc}") from None
    message = email.message_from_bytes(raw, policy=PARSE_POLICY)
    if not isinstance(message, EmailMessage) or not message.keys():
        raise CannotStart(f"{shown}: not an email message (no headers)")
    sender = _envelope_sender(message)
    if not sender:
        raise CannotStart(f"{shown}: has no usable From address")
    message_id = str(message.get("Message-ID", "")).strip()
    if not re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", message_id):
        # Without a Message-ID the journal keys on the content, so a rebuilt file is a new send.
        domain = sender.rpartition("@")[2]
        message_id = f"<{hashlib.sha256(raw).hexdigest()[:32]}@{domain}>"
    return Digest(raw, message_id, sender, str(message.get("Subject", "")))


def _envelope_sender(message: EmailMessage) -> str:
    for name in ("Sender", "From"):
        try:
            header = message.get(name)
            addresses = getattr(header, "addresses", ())
        except (ValueError, IndexError):  # a malformed header the parser could not read
            continue
        for address in addresses:
            if address.username and address.domain:
                return str(address.addr_spec)
    return ""


def unsubscribe_token(secret: str, address: str) -> str:
    """Return the hex HMAC-SHA256 of the lower-cased address under `secret`."""
    return hmac.new(secret.encode("utf-8"), address.lower().encode("utf-8"),
                    hashlib.sha256).hexdigest()


def unsubscribe_link(base: str, address: str, token: str) -> str:
    """Return `{base}?e={address}&t={token}`, URL-encoded."""
    joiner = "&" if "?" in base else "?"
    return f"{base}{joiner}{urlencode({'e': address.lower(), 't': token})}"


def recipient_message_id(message_id: str, recipient: Recipient) -> str:
    """Derive a stable Message-ID per recipient, so a resend carries the same one."""
    local, _, domain = message_id.strip("<>").rpartition("@")
    digest = hashlib.sha256(f"{message_id}\0{recipient.key}".encode()).hexdigest()[:20]
    return f"<{local}.{digest}@{domain}>"


class Personaliser:
    """Make each recipient's copy of one digest; the work common to all copies is done once."""

    def __init__(self, digest: Digest, generic_link: str) -> None:
        self.digest = digest
        self.message = email.message_from_bytes(digest.raw, policy=PARSE_POLICY)
        assert isinstance(self.message, EmailMessage)
        header = str(self.message.get("List-Unsubscribe") or "")
        self.other_uris = [uri for uri in re.findall(r"<([^<>]*)>", header)
                           if not uri.lower().startswith(("http:", "https:"))]
        self.parts = _parts_with_link(self.message, generic_link) if generic_link else []

    def copy_for(self, recipient: Recipient, link: str) -> bytes:
        """Return the recipient's copy as bytes ready for SMTP (CRLF line ends)."""
        message = copy.deepcopy(self.message)
        to = Address(display_name=recipient.name, username=recipient.local_part,
                     domain=recipient.domain)
        for name in ("Cc", "Bcc"):
            del message[name]
        _set(message, "To", to)
        _set(message, "Message-ID", recipient_message_id(self.digest.message_id, recipient))
        # The personal https link first; the other URIs (mailto) stay.
        _set(message, "List-Unsubscribe", ", ".join(f"<{uri}>" for uri in
                                                     [link, *self.other_uris]))
        _set(message, "List-Unsubscribe-Post", ONE_CLICK)
        if self.parts:
            walked = list(message.walk())
            for part in self.parts:
                part.fill(walked[part.index], link)
        return message.as_bytes(policy=WRITE_POLICY)


def personalise(digest: Digest, recipient: Recipient, link: str, generic_link: str) -> bytes:
    """Return one recipient's copy (see Personaliser, which is faster for many)."""
    return Personaliser(digest, generic_link).copy_for(recipient, link)


def _set(message: EmailMessage, name: str, value: object) -> None:
    """Replace a header in place (keeping the header order), or add it."""
    if name in message:
        message.replace_header(name, value)
    else:
        message[name] = value


def _exact_url(url: str) -> re.Pattern[str]:
    # The URL itself, not a longer one that starts with it ("?utm_source=..." or "/other"):
    # after it may come sentence punctuation, then the end, a quote, a bracket or a space.
    return re.compile(re.escape(url) + r"(?=[.,;:!?]*(?:$|[\s\"'<>()\[\]]))")


@dataclass(frozen=True)
class LinkPart:
    """A text/plain or text/html part that holds the generic unsubscribe URL exactly."""

    index: int  # its position in message.walk()
    subtype: str
    pieces: tuple[str, ...]  # the text split where the URL was
    encoding: str
    had_mime_version: bool
    charset: str  # set when the part is quoted-printable or base64 and keeps its headers

    def fill(self, part: EmailMessage, link: str) -> None:
        """Write the text back with `link` in the URL's places, in the part's encoding."""
        shown = html.escape(link) if self.subtype == "html" else link
        text = shown.join(self.pieces)
        if self.charset:
            # Encode the body only: the part's headers (charset, encoding) stay as they were.
            data = b"\n".join(text.encode(self.charset).splitlines()) + b"\n"
            if self.encoding == "base64":
                part.set_payload(base64mime.body_encode(data, maxlinelen=76))
            else:
                part.set_payload(quoprimime.body_encode(data.decode("latin-1"), maxlinelen=76))
            return
        part.set_content(text, subtype=self.subtype, charset="utf-8", cte=self.encoding)
        if not self.had_mime_version:  # set_content adds one to each part; only the top needs it
            del part["MIME-Version"]


def _parts_with_link(message: EmailMessage, generic: str) -> list[LinkPart]:
    found = []
    for index, part in enumerate(message.walk()):
        content_type = part.get_content_type()
        if content_type not in ("text/plain", "text/html") or part.is_attachment():
            continue
        try:
            text = part.get_content()
        except (LookupError, ValueError):  # unknown charset or broken encoding: leave it be
            continue
        subtype = content_type.split("/")[1]
        # In HTML the URL may be written with &amp;, and the new one must be.
        variants = [generic, html.escape(generic)] if subtype == "html" else [generic]
        pattern = re.compile("|".join(_exact_url(v).pattern for v in dict.fromkeys(variants)))
        pieces = tuple(pattern.split(text))
        if len(pieces) == 1:
            continue
        encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
        charset = part.get_content_charset() or "us-ascii"
        try:
            text.encode(charset)
        except (LookupError, UnicodeError):  # e.g. bytes the declared charset cannot hold
            encoding = ""
        if encoding not in ("quoted-printable", "base64"):
            # Keep the message 7-bit clean so that no server needs 8BITMIME.
            ascii_text = text.isascii() and _short_lines(text)
            encoding, charset = "7bit" if ascii_text else "quoted-printable", ""
        found.append(LinkPart(index, subtype, pieces, encoding, "MIME-Version" in part, charset))
    return found


def _short_lines(text: str) -> bool:
    return all(len(line) <= 900 for line in text.splitlines())
