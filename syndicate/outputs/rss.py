"""RSS 2.0 documents, through the feedgen wrapper in `feedxml`.

Channel: title, the site or section page as `<link>`, description, `atom:link rel="self"`,
language, lastBuildDate (the newest item's update), ttl, `sy:updatePeriod`, the logo, and
RFC 5005 archive links. Items: title, link, description (the summary), `content:encoded`
(the full HTML), a `guid` that is not the URL, a `category` for the section and each tag,
the lead picture as `<enclosure>`, `media:content` and `media:thumbnail`, an RFC 822
`pubDate` and a `dc:creator` per author. Reads `[feeds] rss, ttl, update_period,
update_frequency, stylesheet` and `[site]`.
"""

from __future__ import annotations

from ..site import Site
from .feedext import SyndicationExtension
from .feedmodel import FeedPage
from .feedxml import EntryCache, assemble, base_generator, mark_references, stylesheet_href

CLOSING = b"  </channel>\n</rss>\n"


def document(site: Site, page: FeedPage, cache: EntryCache) -> bytes:
    """Return one RSS document: the page's articles, newest first."""
    config = site.config.feeds
    items = [cache.models(article) for article in page.articles]
    fg = base_generator(site, page, "rss", items)
    fg.ttl(config.ttl)
    fg.register_extension("sy", SyndicationExtension, None, atom=False, rss=True)
    fg.sy.update(config.update_period, config.update_frequency)
    head = fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)
    entries = [cache.fragment("rss", article) for article in page.articles]
    return assemble(mark_references(head), CLOSING, entries, stylesheet_href(site))
