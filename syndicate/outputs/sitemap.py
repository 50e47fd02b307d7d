"""Sitemaps: `sitemap.xml` (every article and index page, with `lastmod`) and
`news-sitemap.xml` (Google News: articles from the `[sitemap] news_hours` before the newest).

Above 50,000 URLs, `sitemap.xml` becomes a sitemap index of `sitemap-N.xml` files, as the
protocol requires. Articles whose canonical URL is elsewhere are left out: a sitemap lists
only canonical pages. Reads `[sitemap]`, `[site]` and `[output]`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ..model import Article, Artifact
from ..site import Site
from ..xmlutil import esc, w3c_datetime
from . import RenderContext

URLS_PER_FILE = 50_000
NEWS_LIMIT = 1_000
XML_TYPE = "application/xml"
HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n'


def render(site: Site, ctx: RenderContext) -> list[Artifact]:
    entries = sitemap_entries(site)
    artifacts = []
    if len(entries) <= URLS_PER_FILE:
        artifacts.append(Artifact("sitemap.xml", _urlset(entries), XML_TYPE))
    else:
        chunks = [entries[i : i + URLS_PER_FILE] for i in range(0, len(entries), URLS_PER_FILE)]
        index = [HEADER, '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n']
        for number, chunk in enumerate(chunks, 1):
            name = f"sitemap-{number}.xml"
            artifacts.append(Artifact(name, _urlset(chunk), XML_TYPE))
            newest = max(lastmod for _, lastmod in chunk)
            index.append(f"<sitemap><loc>{esc(site.url(name))}</loc>"
                         f"<lastmod>{w3c_datetime(newest)}</lastmod></sitemap>\n")
        index.append("</sitemapindex>\n")
        artifacts.append(Artifact("sitemap.xml", "".join(index).encode(), XML_TYPE))
    artifacts.append(Artifact("news-sitemap.xml", _news(site), XML_TYPE))
    return artifacts


def sitemap_entries(site: Site) -> list[tuple[str, datetime]]:
    """Return (URL, lastmod) for the home page, every term page and every article page."""
    if not site.articles:
        return []
    entries = [(site.base_url, max(a.updated for a in site.articles))]
    for kind in ("section", "tag", "author"):
        for term in site.terms(kind):
            entries.append((term.url, max(a.updated for a in term.articles)))
    entries.extend((a.url, a.updated) for a in site.articles if not a.canonical_url)
    return entries


def _urlset(entries: list[tuple[str, datetime]]) -> bytes:
    lines = [HEADER, '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n']
    for url, lastmod in entries:
        lines.append(f"<url><loc>{esc(url)}</loc><lastmod>{w3c_datetime(lastmod)}</lastmod></url>\n")
    lines.append("</urlset>\n")
    return "".join(lines).encode("utf-8")


def news_articles(site: Site) -> list[Article]:
    """Return the articles for the news sitemap: recent, canonical here, newest first."""
    if not site.articles:
        return []
    since = site.articles[0].published - timedelta(hours=site.config.sitemap.news_hours)
    recent = [a for a in site.articles if a.published >= since and not a.canonical_url]
    return recent[:NEWS_LIMIT]


def _news(site: Site) -> bytes:
    name = esc(site.config.site.title)
    language = esc(site.config.site.language.split("-")[0].lower())
    lines = [HEADER, '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
             'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n']
    for article in news_articles(site):
        lines.append(
            f"<url><loc>{esc(article.url)}</loc><news:news><news:publication>"
            f"<news:name>{name}</news:name><news:language>{language}</news:language>"
            f"</news:publication><news:publication_date>{w3c_datetime(article.published)}"
            f"</news:publication_date><news:title>{esc(article.title)}</news:title>"
            "</news:news></url>\n"
        )
    lines.append("</urlset>\n")
    return "".join(lines).encode("utf-8")
