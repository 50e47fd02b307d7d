"""Feeds: RSS 2.0, Atom 1.0 and JSON Feed 1.1 for the site and each section, tag and author,
with RFC 5005 archives, `feeds.opml` and the `feed.xsl` stylesheet.

Writes, per feed folder ("/" for the site, `[output] section_path`, `tag_path`,
`author_path` for the others): `[feeds] rss`, `atom` and `json` (default `feed.xml`,
`atom.xml`, `feed.json`), and `archive/feed-N.xml`, `archive/atom-N.xml`,
`archive/feed-N.json`; at the top: `feeds.opml` and `feed.xsl`. Reads `[feeds]` (site,
sections, tags, authors, formats, max_items, archives, full_content, file names, id_scheme,
tag_authority, ttl, update_period, update_frequency, stylesheet), `[site]` and `[output]`.
"""

from __future__ import annotations

from functools import partial

import jinja2

from ..incremental import KEY_SIZE, fingerprinter, listed_keys
from ..model import Article, Artifact
from ..site import Site
from ..templating import environment, pick
from ..templating import render as render_template
from . import RenderContext, atom, jsonfeed, opml, rss
from .feedentries import FeedEntries
from .feedmodel import MEDIA_TYPES, feeds, file_path, pages

XSLT_TYPE = "application/xslt+xml"
OPML_TYPE = "text/x-opml"


def render(site: Site, ctx: RenderContext) -> list[Artifact]:
    config = site.config.feeds
    names = {"rss": config.rss, "atom": config.atom, "json": config.json}
    formats = [fmt for fmt in ("rss", "atom", "json") if fmt in config.formats]
    logical = feeds(site)
    feed_pages = [(feed, list(pages(feed, config.max_items, config.archives)))
                  for feed in logical]
    # Each story once, where it is first shown. By identity: the site holds one story per
    # id, and reading each story's id (some 700,000 shown at 100,000) took 0.3 s more.
    shown_once: dict[int, Article] = {id(article): article for _, shown in feed_pages
                                      for page in shown for article in page.articles}
    entries = FeedEntries(site, formats, list(shown_once.values()) if formats else [],
                          ctx.stash)
    artifacts = []
    documents = {"json": partial(jsonfeed.document, site, cache=entries),
                 "rss": partial(rss.document, site, cache=entries),
                 "atom": partial(atom.document, site, cache=entries)}
    for feed, shown_pages in feed_pages:
        identity = (feed.kind, feed.slug, feed.name, feed.title, feed.description,
                    feed.page_url, feed.folder, feed.id)
        listed = memoryview(listed_keys(site, feed.articles, feed.places) if formats else b"")
        for page in shown_pages:
            start, end = page.span
            # What the page's documents share is hashed once; each format adds its name.
            shown = fingerprinter(site.config, "feed", identity, page.number, page.older,
                                  page.newer, None if page.articles else site.now,
                                  listed=listed[start * KEY_SIZE:end * KEY_SIZE])
            for fmt in formats:
                hashed = shown.copy()
                hashed.update(b"\0" + fmt.encode())
                artifacts.append(Artifact(
                    file_path(feed, names[fmt], page.number), media_type=MEDIA_TYPES[fmt],
                    render=partial(documents[fmt], page=page),
                    fingerprint=hashed.hexdigest()))
    if logical and formats:
        artifacts.append(Artifact("feeds.opml", opml.document(site, logical), OPML_TYPE))
    if config.stylesheet and {"rss", "atom"} & set(formats) and logical:
        artifacts.append(Artifact("feed.xsl", stylesheet(site, ctx), XSLT_TYPE))
    return artifacts


def stylesheet(site: Site, ctx: RenderContext) -> bytes:
    """Render `feed.xsl` (a site may override it in its templates folder)."""
    env = ctx.templates if isinstance(ctx.templates, jinja2.Environment) else None
    env = env or environment(site.config)
    template = pick(env, ["feed.xsl"])
    return render_template(template, "feed.xsl").encode()
