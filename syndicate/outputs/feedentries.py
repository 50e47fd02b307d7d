"""Each article's serialised feed entries, made once and spliced into every document.

Most articles appear in several documents (the site feed or its archive, the section's, each
tag's, the author's), so each entry is serialised once, in every format at once, as UTF-8
bytes. A build keeps them on disk (the RenderContext's stash, syndicate.blobstore): made
over its processes as it starts, or by an earlier build, and read back by offset when a
document needs them, so that no process holds the full text of every article a second time
(issue 8: hold records, not rendered pages). Alone (tests, `syndicate digest`), they are
kept in memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from ..incremental import fingerprint
from ..model import Article
from ..site import Site
from . import Stash, memory_stash
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
    """Hand out each article's `Entry`. The entries of `articles` come from the build's stash
    (made once, kept on disk and read back by offset); a few recent ones are kept decoded,
    since the documents of one feed page are rendered one after the other in each format."""

    RECENT = 256

    def __init__(self, site: Site, formats: Iterable[str], articles: Sequence[Article] = (),
                 stash: Stash = memory_stash) -> None:
        self.models = ItemModels(site)
        self.formats = frozenset(formats)
        self._articles = articles
        self._number = {article.id: number for number, article in enumerate(articles)}
        scope = fingerprint(site.config, "feed entries", sorted(self.formats))
        self._read = stash("feed_entries", scope, [a.render_key for a in articles],
                           self._make)
        self._recent: dict[str, Entry] = {}

    def _make(self, number: int) -> bytes:
        return encode(self.serialise(self._articles[number]))

    def serialise(self, article: Article) -> Entry:
        item = self.models(article)
        rss, atom = entry_fragments(item, self.formats)
        json = serialised_item(item) if "json" in self.formats else b""
        return Entry(item.updated, rss, atom, json)

    def __call__(self, article: Article) -> Entry:
        entry = self._recent.get(article.id)
        if entry is None:
            number = self._number.get(article.id)
            if number is not None and self._articles[number] is article:
                entry = decode(self._read(number))
            else:  # not a story this site's feeds list: nothing to reuse
                entry = self.serialise(article)
            if len(self._recent) >= self.RECENT:
                del self._recent[next(iter(self._recent))]
            self._recent[article.id] = entry
        return entry


def encode(entry: Entry) -> bytes:
    """Return the entry as bytes: a header line with the three lengths and the update time,
    then the three fragments."""
    head = b"%d %d %d %s\n" % (len(entry.rss), len(entry.atom), len(entry.json),
                               entry.updated.isoformat().encode())
    return head + entry.rss + entry.atom + entry.json


def decode(data: bytes) -> Entry:
    """Return the entry `encode` made `data` from."""
    end = data.index(b"\n")
    rss_length, atom_length, json_length, updated = data[:end].split(b" ")
    rss_end = end + 1 + int(rss_length)
    atom_end = rss_end + int(atom_length)
    json_end = atom_end + int(json_length)
    if json_end != len(data):
        raise ValueError("a feed entry's lengths do not add up")
    return Entry(datetime.fromisoformat(updated.decode()), data[end + 1:rss_end],
                 data[rss_end:atom_end], data[atom_end:json_end])


def newest_update(entries: Sequence[Entry], fallback: datetime) -> datetime:
    """Return the newest `updated` among a document's entries (never the wall clock)."""
    return max((entry.updated for entry in entries), default=utc(fallback))
