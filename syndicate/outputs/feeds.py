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

import jinja2

from ..model import Artifact
from ..site import Site
from ..templating import environment, pick
from ..templating import render as render_template
from . import RenderContext, atom, jsonfeed, opml, rss
from .feedmodel import MEDIA_TYPES, ItemModels, feeds, file_path, pages
from .feedxml import EntryCache

XSLT_TYPE = "application/xslt+xml"
OPML_TYPE = "text/x-opml"


def render(site: Site, ctx: RenderContext) -> list[Artifact]:
    config = site.config.feeds
    models = ItemModels(site)
    entries = EntryCache(models)
    items = jsonfeed.JsonCache(models)
    names = {"rss": config.rss, "atom": config.atom, "json": config.json}
    formats = [fmt for fmt in ("rss", "atom", "json") if fmt in config.formats]
    logical = feeds(site)
    artifacts = []
    for feed in logical:
        for page in pages(feed, config.max_items, config.archives):
            for fmt in formats:
                if fmt == "json":
                    data = jsonfeed.document(site, page, items)
                elif fmt == "rss":
                    data = rss.document(site, page, entries)
                else:
                    data = atom.document(site, page, entries)
                path = file_path(feed, names[fmt], page.number)
                artifacts.append(Artifact(path, data, MEDIA_TYPES[fmt]))
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
