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

from ..incremental import fingerprint, keys
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
    listed: dict[str, Article] = {}
    for _, shown in feed_pages:
        for page in shown:
            for article in page.articles:
                listed.setdefault(article.id, article)
    entries = FeedEntries(site, formats, list(listed.values()) if formats else [],
                          ctx.stash)
    artifacts = []
    documents = {"json": partial(jsonfeed.document, site, cache=entries),
                 "rss": partial(rss.document, site, cache=entries),
                 "atom": partial(atom.document, site, cache=entries)}
    for feed, shown_pages in feed_pages:
        identity = (feed.kind, feed.slug, feed.name, feed.title, feed.description,
                    feed.page_url, feed.folder, feed.id)
        for page in shown_pages:
            shown = (page.number, page.older, page.newer, keys(page.articles),
                     None if page.articles else site.now)
            for fmt in formats:
                artifacts.append(Artifact(
                    file_path(feed, names[fmt], page.number), media_type=MEDIA_TYPES[fmt],
                    render=partial(documents[fmt], page=page),
                    fingerprint=fingerprint(site.config, "feed", fmt, identity, shown)))
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
