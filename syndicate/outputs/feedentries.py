"""Each article's serialised feed entries, made once per render process and kept as bytes.

A render process meets most articles in several documents (the site feed or its archive, the
section's, each tag's, the author's), so each entry is serialised once and spliced in again.
Every format is made at once: the documents of one feed page are rendered one after the
other in each format, so the other formats are wanted next. Only the serialised entries and
the update time are kept, all as UTF-8 (a str with one character beyond Latin-1 takes two
or four bytes a character). The models behind them (a second copy of the full text, feedgen's
objects) took more memory than the bytes (issue 8: hold records, not rendered pages).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from ..model import Article
from ..site import Site
from .feedmodel import ItemModels, utc
from .feedxml import entry_fragments
from .jsonfeed import serialised_item


@dataclass(frozen=True, slots=True)
class Entry:
    """One article as feeds show it: `<item>`, `<entry>` and JSON Feed item (empty for a
    format the site does not publish), and when it was last updated (UTC)."""

    updated: datetime
    rss: bytes
    atom: bytes
    json: bytes


class FeedEntries:
    """Hand out each article's `Entry`, made on first use."""

    def __init__(self, site: Site, formats: Iterable[str]) -> None:
        self.models = ItemModels(site)
        self.formats = frozenset(formats)
        self._entries: dict[str, Entry] = {}

    def __call__(self, article: Article) -> Entry:
        entry = self._entries.get(article.id)
        if entry is None:
            item = self.models(article)
            rss, atom = entry_fragments(item, self.formats)
            json = serialised_item(item) if "json" in self.formats else b""
            entry = self._entries[article.id] = Entry(item.updated, rss, atom, json)
        return entry


def newest_update(entries: Sequence[Entry], fallback: datetime) -> datetime:
    """Return the newest `updated` among a document's entries (never the wall clock)."""
    return max((entry.updated for entry in entries), default=utc(fallback))
