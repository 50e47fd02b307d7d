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
from .feedentries import FeedEntries, newest_update
from .feedext import SyndicationExtension
from .feedmodel import FeedPage
from .feedxml import assemble, base_generator, mark_references, stylesheet_href

CLOSING = b"  </channel>\n</rss>\n"


def document(site: Site, page: FeedPage, cache: FeedEntries) -> bytes:
    """Return one RSS document: the page's articles, newest first."""
    config = site.config.feeds
    entries = [cache(article) for article in page.articles]
    fg = base_generator(site, page, "rss", newest_update(entries, site.now))
    fg.ttl(config.ttl)
    fg.register_extension("sy", SyndicationExtension, None, atom=False, rss=True)
    fg.sy.update(config.update_period, config.update_frequency)
    head = fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)
    return assemble(mark_references(head), CLOSING, [entry.rss for entry in entries],
                    stylesheet_href(site))
