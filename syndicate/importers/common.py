"""What every importer shares: the item it returns, XML parsing that refuses entity tricks,
dates, names, and the clean-up that turns a source's fields into a record's."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import unquote, urlsplit
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeElementTree
from defusedxml import DefusedXmlException

from .. import text
from ..errors import SyndicateError
from ..records import MAX_ID

NAMESPACES = {
    "atom": "http://www.w3.org/2005/Atom",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "media": "http://search.yahoo.com/mrss/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rss1": "http://purl.org/rss/1.0/",
    "xhtml": "http://www.w3.org/1999/xhtml",
    # WordPress exports: every WXR version is read as 1.2 (see wxr._normalise).
    "wp": "http://wordpress.org/export/1.2/",
    "excerpt": "http://wordpress.org/export/1.2/excerpt/",
}


def ns(prefix: str) -> str:
    """Return the `{uri}` ElementTree puts before the names of a namespace's elements."""
    return "{" + NAMESPACES[prefix] + "}"


IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif")


@dataclass
class Item:
    """One entry of a source, as a record, with what could not be carried over."""

    label: str
    record: dict[str, Any] = field(default_factory=dict)
    notes: list[tuple[str, str]] = field(default_factory=list)
    skip: str = ""  # why the item is left out; "" when it is imported

    def note(self, field_name: str, message: str) -> None:
        self.notes.append((field_name, message))


def parse_xml(data: bytes, shown: str) -> Element:
    """Parse untrusted XML, refusing entity declarations and external references."""
    try:
        return SafeElementTree.fromstring(data)
    except DefusedXmlException as exc:
        raise SyndicateError(f"{shown}: refused: {_defused_reason(exc)}; syndicate never "
                             "expands entities from a source (an entity-expansion attack "
                             "can exhaust memory)") from None
    except ParseError as exc:
        line, column = exc.position
        reason = str(exc).split(":")[0]
        raise SyndicateError(f"{shown}: not well-formed XML (line {line}, column {column + 1}): "
                             f"{reason}") from None


def _defused_reason(exc: DefusedXmlException) -> str:
    name = type(exc).__name__
    if name == "EntitiesForbidden":
        return f'the XML declares the entity "{getattr(exc, "name", "?")}"'
    if name == "ExternalReferenceForbidden":
        return "the XML refers to an external resource"
    return "the XML has a document type declaration"  # pragma: no cover - DTDs are allowed


def local_name(element: Element) -> str:
    return element.tag.rsplit("}", 1)[-1] if isinstance(element.tag, str) else ""


def child_text(element: Element, path: str) -> str:
    """Return the stripped text of the first child at `path` (prefixes from NAMESPACES)."""
    found = element.find(path, NAMESPACES)
    return (found.text or "").strip() if found is not None else ""


def parse_date(value: str) -> datetime | None:
    """Read an RFC 822 (RSS), RFC 3339 (Atom, JSON Feed) or WordPress date; None if bad.

    A WordPress local time has no offset and stays naive: the site's time zone applies.
    """
    value = value.strip()
    if not value or value.startswith("0000-00-00"):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if not 1000 <= moment.year <= 9998:
        return None
    return moment.replace(microsecond=0)


def format_date(moment: datetime) -> str:
    """Return RFC 3339 as records take it: `Z` for UTC, the offset otherwise, none if naive."""
    shown = moment.isoformat()
    if moment.tzinfo is not None and moment.utcoffset() == timezone.utc.utcoffset(None):
        shown = shown[:-6] + "Z"
    return shown


def record_id(*candidates: str) -> str:
    """Return the first usable id: a guid or a link, hashed if it is too long for a record."""
    for candidate in candidates:
        cleaned = text.clean_line(candidate)
        if cleaned:
            if len(cleaned) > MAX_ID:
                return "import-" + hashlib.sha256(cleaned.encode()).hexdigest()[:24]
            return cleaned
    return ""


def slug_from_link(link: str) -> str:
    """Return the last path segment of `link` when it is already a slug, to keep old URLs."""
    segments = [s for s in urlsplit(link).path.split("/") if s]
    if not segments:
        return ""
    last = unquote(segments[-1]).lower()
    last = re.sub(r"\.(html?|php|aspx?)$", "", last)
    if text.SLUG_PATTERN.fullmatch(last) and len(last) <= text.MAX_SLUG and not last.isdigit():
        return last
    return ""


_BLOCK = re.compile(r"<(p|div|h[1-6]|ul|ol|dl|table|blockquote|figure|pre|hr|address|section)"
                    r"\b", re.IGNORECASE)


def paragraphs(markup: str) -> str:
    """Wrap the blank-line-separated paragraphs of CMS text in `<p>`, as WordPress does when
    it shows a classic post (`wpautop`). HTML that already has paragraphs is kept as it is;
    a chunk that opens with a block element (a list, a figure) is not wrapped."""
    if re.search(r"<p\b", markup, re.IGNORECASE):
        return markup
    chunks = [c.strip() for c in re.split(r"\n\s*\n", markup.replace("\r\n", "\n"))]
    return "\n".join(chunk if _BLOCK.match(chunk) else
                     "<p>" + chunk.replace("\n", "<br>\n") + "</p>"
                     for chunk in chunks if chunk)


_LEAD_FIGURE = re.compile(r"\s*(<figure\b.*?</figure>|<p>\s*<img\b[^>]*>\s*</p>|<img\b[^>]*>)",
                          re.IGNORECASE | re.DOTALL)


def drop_lead_figure(body: str, image_urls: set[str]) -> str:
    """Remove a picture that opens the body when it is the lead image the record names, so
    that pages do not show it twice (syndicate's own feeds put it there)."""
    match = _LEAD_FIGURE.match(body)
    if not match or not image_urls:
        return body
    sources = set(re.findall(r'\ssrc="([^"]+)"', match.group(1)))
    if sources and sources <= image_urls:
        return body[match.end():].lstrip()
    return body


def title_from_text(body_text: str) -> str:
    """Make a headline from the start of the text, for sources whose items have none."""
    return text.truncate(text.clean_line(body_text), 80)


def dimension(value: str | None) -> int | None:
    if value and value.strip().isdigit() and 0 < int(value) <= 20_000:
        return int(value)
    return None


def looks_like_image(url: str, media_type: str = "", medium: str = "") -> bool:
    if medium:
        return medium == "image"
    if media_type:
        return media_type.lower().startswith("image/")
    return urlsplit(url).path.lower().endswith(IMAGE_SUFFIXES)
