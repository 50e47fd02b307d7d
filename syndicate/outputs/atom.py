"""Atom 1.0 documents, through the feedgen wrapper in `feedxml`.

Feed: id, title, subtitle, updated (the newest entry's update), author (the publisher),
`link rel="self"` and `rel="alternate"`, RFC 5005 archive links, logo and icon. Entries: id,
title, updated, published, author/name, `link rel="alternate"` (and `rel="enclosure"` for
the lead picture), `summary type="text"`, `content type="html"`, `category term` and
media:content. Reads `[feeds] atom, stylesheet` and `[site]`.
"""

from __future__ import annotations

from ..site import Site
from .feedentries import FeedEntries, newest_update
from .feedmodel import FeedPage
from .feedxml import assemble, atom_head, base_generator, stylesheet_href

CLOSING = b"</feed>\n"


def document(site: Site, page: FeedPage, cache: FeedEntries) -> bytes:
    """Return one Atom document: the page's articles, newest first."""
    entries = [cache(article) for article in page.articles]
    fg = base_generator(site, page, "atom", newest_update(entries, site.now))
    head = atom_head(fg, page.feed.title, page.feed.description)
    return assemble(head, CLOSING, [entry.atom for entry in entries],
                    stylesheet_href(site))
