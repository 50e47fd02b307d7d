"""feedgen extensions: what feedgen 1.0 lacks or gets wrong for a news feed.

- `CaptionedMediaEntryExtension` adds `media:description` (the caption) and `media:credit`
  inside `media:content`; feedgen's media extension has neither.
- `SyndicationExtension` writes `sy:updatePeriod` and `sy:updateFrequency`; feedgen's writes
  `sy:UpdatePeriod` (not an element of the module) and the text "None" for unset values.
- `HistoryExtension` adds RFC 5005 archive links (`current`, `prev-archive`, `next-archive`)
  and `fh:archive`; feedgen writes only the first `rel="self"` link into RSS.
"""

from __future__ import annotations

from feedgen.ext.base import BaseExtension
from feedgen.ext.media import MediaEntryExtension
from lxml import etree

ATOM_NS = "http://www.w3.org/2005/Atom"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"
MEDIA_NS = "http://search.yahoo.com/mrss/"
SY_NS = "http://purl.org/rss/1.0/modules/syndication/"
FH_NS = "http://purl.org/syndication/history/1.0"


class MediaExtension(BaseExtension):
    """Declare the Media RSS namespace on the feed root (entries use it)."""

    def extend_ns(self) -> dict[str, str]:
        return {"media": MEDIA_NS}


class CaptionedMediaEntryExtension(MediaEntryExtension):
    """feedgen's media:content and media:thumbnail, plus a caption and credit per picture."""

    def __init__(self) -> None:
        super().__init__()
        self._captions: dict[str, tuple[str, str, str]] = {}

    def caption(self, url: str, description: str = "", credit: str = "",
                description_type: str = "plain") -> None:
        """Attach `description` (of type "plain" or "html") and `credit` to the
        media:content whose url is `url`."""
        self._captions[url] = (description, description_type, credit)

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        super().extend_atom(entry)
        for content in entry.iter(f"{{{MEDIA_NS}}}content"):
            description, kind, credit = self._captions.get(content.get("url", ""), ("", "", ""))
            if description:
                element = etree.SubElement(content, f"{{{MEDIA_NS}}}description", type=kind)
                element.text = description
            if credit:
                etree.SubElement(content, f"{{{MEDIA_NS}}}credit").text = credit
        return entry

    def extend_rss(self, item: etree._Element) -> etree._Element:
        return self.extend_atom(item)


class SyndicationExtension(BaseExtension):
    """sy:updatePeriod and sy:updateFrequency, spelled as the RSS 1.0 module defines them."""

    PERIODS = ("hourly", "daily", "weekly", "monthly", "yearly")

    def __init__(self) -> None:
        self._period = ""
        self._frequency = 0

    def extend_ns(self) -> dict[str, str]:
        return {"sy": SY_NS}

    def update(self, period: str, frequency: int) -> None:
        if period not in self.PERIODS or frequency < 1:
            raise ValueError(f"bad update period {period!r} or frequency {frequency!r}")
        self._period, self._frequency = period, frequency

    def extend_rss(self, rss_feed: etree._Element) -> etree._Element:
        channel = rss_feed[0]
        if self._period:
            etree.SubElement(channel, f"{{{SY_NS}}}updatePeriod").text = self._period
            etree.SubElement(channel, f"{{{SY_NS}}}updateFrequency").text = str(self._frequency)
        return rss_feed


class HistoryExtension(BaseExtension):
    """RFC 5005 archived feeds: archive links for RSS, and `fh:archive` for RSS and Atom.

    Atom documents get their links through `FeedGenerator.link()`, which writes them all.
    """

    def __init__(self) -> None:
        self._links: list[tuple[str, str, str]] = []
        self._archive = False

    def extend_ns(self) -> dict[str, str]:
        return {"fh": FH_NS}

    def link(self, rel: str, href: str, media_type: str) -> None:
        self._links.append((rel, href, media_type))

    def mark_archive(self) -> None:
        self._archive = True

    def extend_rss(self, rss_feed: etree._Element) -> etree._Element:
        channel = rss_feed[0]
        for rel, href, media_type in self._links:
            etree.SubElement(channel, f"{{{ATOM_NS}}}link", href=href, rel=rel, type=media_type)
        if self._archive:
            etree.SubElement(channel, f"{{{FH_NS}}}archive")
        return rss_feed

    def extend_atom(self, atom_feed: etree._Element) -> etree._Element:
        if self._archive:
            etree.SubElement(atom_feed, f"{{{FH_NS}}}archive")
        return atom_feed
