"""The clean feed model every feed format reads: logical feeds, their documents (the
subscription document and RFC 5005 archives) and one `FeedItem` per article.

Everything here is format-neutral, timezone-aware (UTC) and XML-safe, so the format writers
only arrange it. Item models are built once per article and shared by every feed that
lists the article (`ItemModels`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import quote

from ..model import Article, Image, Term
from ..site import Site, term_path
from ..text import clean_line, xml_safe

KINDS = ("site", "section", "tag", "author")
SWITCHES = {"site": "site", "section": "sections", "tag": "tags", "author": "authors"}
MEDIA_TYPES = {"rss": "application/rss+xml", "atom": "application/atom+xml",
               "json": "application/feed+json"}
# Default tagging date for tag: ids when `[feeds] tag_authority` is unset. A constant, so that
# ids never change when older articles are added or removed (RFC 4151 asks for a date on
# which the name was held; pin your own with tag_authority).
DEFAULT_TAG_DATE = "2000"
# Feed-level tag: ids use a fragment, which an article's id can never produce (`#` in a
# record id is percent-encoded), so a feed id never collides with an entry id.
_TAG_SAFE = ";/?:@&=+$-_.!~*'(),"


@dataclass(frozen=True)
class FeedImage:
    """A lead picture as feeds show it: media:content, media:thumbnail and the enclosure."""

    url: str
    media_type: str
    width: int
    height: int
    length: int
    alt: str
    caption: str
    credit: str
    thumbnail_url: str
    thumbnail_width: int
    thumbnail_height: int


@dataclass(frozen=True)
class FeedAuthor:
    name: str
    url: str


@dataclass(frozen=True)
class FeedItem:
    """One article as every feed format shows it."""

    key: str
    id: str
    title: str
    url: str
    summary: str
    content_html: str
    published: datetime
    updated: datetime
    authors: tuple[FeedAuthor, ...]
    categories: tuple[str, ...]
    image: FeedImage | None
    permalink: bool


@dataclass(frozen=True)
class Feed:
    """One logical feed: the whole site, a section, a tag or an author."""

    kind: str
    slug: str
    name: str
    title: str
    description: str
    page_url: str
    folder: str
    id: str
    articles: tuple[Article, ...]
    # Where each of `articles` is in the site's articles (Term.places; none for the site's
    # own feed, which lists them all).
    places: Sequence[int] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True)
class FeedPage:
    """One document of a feed: number 0 is the subscription document, 1.. are archives
    numbered from the oldest. `older`/`newer` are neighbouring archive numbers, or None."""

    feed: Feed
    number: int
    older: int | None
    newer: int | None
    # Where the page's articles start and end in feed.articles (feeds.py fingerprints them
    # by that span).
    span: tuple[int, int]

    @property
    def articles(self) -> tuple[Article, ...]:
        start, end = self.span
        return self.feed.articles[start:end]

    @property
    def is_archive(self) -> bool:
        return self.number > 0


# Plain text that a reader rendering HTML, or the W3C validator, would take for markup.
_MARKUP = re.compile(r"<[/A-Za-z!?]|&#?\w")


def looks_like_markup(text: str) -> bool:
    """Return whether plain `text` holds something an HTML reader would parse as a tag or an
    entity ("<b>", "&amp;"), rather than prose ("Tom & Jerry", "a < b")."""
    return bool(_MARKUP.search(text))


def rss_text(text: str) -> str:
    """Return plain `text` for an RSS element that readers render as HTML (titles, the
    channel description): unchanged, or, if it looks like markup, HTML-escaped with
    hexadecimal character references, as the RSS Profile advises."""
    if not looks_like_markup(text):
        return text
    return text.replace("&", "&#x26;").replace("<", "&#x3C;")


def utc(moment: datetime) -> datetime:
    """Return an aware `moment` in UTC without microseconds."""
    return moment.astimezone(timezone.utc).replace(microsecond=0)


def tag_authority(site: Site) -> str:
    """Return the RFC 4151 tagging entity: `[feeds] tag_authority`, else host + fixed date."""
    configured = site.config.feeds.tag_authority
    if configured:
        return configured
    host = site.domain.lower()
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        host = quote(host, safe="")
    return f"{host},{DEFAULT_TAG_DATE}"


def entry_id(site: Site, article: Article, authority: str = "") -> str:
    """Return the stable id of an article's feed entries, from `[feeds] id_scheme`."""
    scheme = site.config.feeds.id_scheme
    if scheme == "url":
        return article.canonical
    if scheme == "id":
        return xml_safe(article.id)
    return f"tag:{authority or tag_authority(site)}:{quote(article.id, safe=_TAG_SAFE)}"


def feed_id(site: Site, kind: str, slug: str, self_url: str) -> str:
    """Return the atom:id of a logical feed: a tag: URI, or the feed's own URL."""
    if site.config.feeds.id_scheme != "tag":
        return self_url
    name = kind if kind == "site" else f"{kind}/{slug}"
    return f"tag:{tag_authority(site)}:feed#{quote(name, safe='/-_.')}"


def file_path(feed: Feed, file_name: str, number: int = 0) -> str:
    """Return the path below out/ of a feed document: "world/feed.xml" or, for archive
    page 3, "world/archive/feed-3.xml"."""
    folder = feed.folder.strip("/")
    prefix = folder + "/" if folder else ""
    if not number:
        return prefix + file_name
    stem, dot, suffix = file_name.rpartition(".")
    name = f"{stem}-{number}.{suffix}" if dot and stem else f"{file_name}-{number}"
    return f"{prefix}archive/{name}"


def feeds(site: Site) -> list[Feed]:
    """Return every logical feed the config switches on: site, sections, tags, authors."""
    config = site.config.feeds
    title = clean_line(site.config.site.title)
    result = []
    if config.site:
        description = clean_line(site.config.site.description) or title
        result.append(_feed(site, "site", None, title, description, site.articles))
    phrases = {"section": "Latest {name} stories from {site}",
               "tag": "Stories about {name} from {site}",
               "author": "Stories by {name} from {site}"}
    for kind in KINDS[1:]:
        if not getattr(config, SWITCHES[kind]):
            continue
        for term in site.terms(kind):
            name = clean_line(term.name)
            description = phrases[kind].format(name=name, site=title)
            result.append(_feed(site, kind, term, f"{title}: {name}", description, term.articles))
    return result


def _feed(site: Site, kind: str, term: Term | None, title: str, description: str,
          articles: tuple[Article, ...]) -> Feed:
    folder = "/" if term is None else term.path
    slug = term.slug if term else ""
    page_url = term.url if term else site.base_url
    atom_url = site.url(folder + site.config.feeds.atom)
    return Feed(kind=kind, slug=slug, name=clean_line(term.name) if term else title,
                title=title, description=description, page_url=page_url, folder=folder,
                id=feed_id(site, kind, slug, atom_url), articles=articles,
                places=term.places if term is not None else ())


def pages(feed: Feed, max_items: int, archives: bool) -> list[FeedPage]:
    """Split a feed into its subscription document and stable archive pages.

    The subscription document holds the newest `max_items` articles. Archive page n holds
    the n-th run of `max_items` articles counted from the oldest, so adding articles never
    moves an article from one archive page to another. Only full pages are published, and
    a page is left out while every article on it is still in the subscription document;
    the newest archive page may overlap the subscription document, which RFC 5005 allows.
    """
    articles = feed.articles
    count = len(articles) // max_items if archives and len(articles) > max_items else 0
    if count and len(articles) == count * max_items:
        count -= 1
    newest = min(max_items, len(articles))
    result = [FeedPage(feed, 0, count or None, None, (0, newest))]
    for number in range(1, count + 1):
        start, end = len(articles) - number * max_items, len(articles) - (number - 1) * max_items
        result.append(FeedPage(feed, number, number - 1 or None,
                               number + 1 if number < count else None, (start, end)))
    return result


class ItemModels:
    """Build articles' `FeedItem`s, with what every item of one site shares worked out once.
    Items are not kept: `feedentries.FeedEntries` keeps their serialised forms instead."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.full_content = site.config.feeds.full_content
        self.publisher = clean_line(site.config.site.publisher or site.config.site.title)
        self.authority = tag_authority(site)

    def __call__(self, article: Article) -> FeedItem:
        site = self.site
        title = clean_line(article.title) or article.id
        summary = clean_line(article.summary) or title
        image = feed_image(article.lead_image)
        figure = lead_figure(image) if image else ""
        body = xml_safe(site.body(article)) if self.full_content else ""
        content = figure + (body or f"<p>{html.escape(summary, quote=False)}</p>")
        authors = tuple(
            FeedAuthor(clean_line(a.name),
                       a.url or site.url(term_path(site.config, "author", a.slug)))
            for a in article.authors if clean_line(a.name)
        ) or (FeedAuthor(self.publisher, site.base_url),)
        published = utc(article.published)
        categories: list[str] = []
        for name in (article.section, *article.tags):
            name = clean_line(name)
            if name and name.casefold() not in {c.casefold() for c in categories}:
                categories.append(name)
        return FeedItem(
            key=article.id, id=entry_id(site, article, self.authority), title=title,
            url=article.url, summary=summary, content_html=content, published=published,
            updated=max(published, utc(article.updated)), authors=authors,
            categories=tuple(categories), image=image,
            permalink=site.config.feeds.id_scheme == "url",
        )


def feed_image(image: Image | None) -> FeedImage | None:
    """Return the lead picture as feeds show it, with the narrowest rendition ≥ 300 px
    (or the picture itself) as its thumbnail."""
    if image is None:
        return None
    thumb_url, thumb_width = image.url, image.width
    for source in sorted(image.sources, key=lambda s: (s.width, s.url)):
        if 300 <= source.width < thumb_width:
            thumb_url, thumb_width = source.url, source.width
            break
    thumb_height = round(image.height * thumb_width / image.width) if image.width else 0
    return FeedImage(
        url=image.url, media_type=image.media_type, width=image.width, height=image.height,
        length=max(image.length, 0), alt=clean_line(image.alt),
        caption=clean_line(image.caption), credit=clean_line(image.credit),
        thumbnail_url=thumb_url, thumbnail_width=thumb_width, thumbnail_height=thumb_height,
    )


def lead_figure(image: FeedImage) -> str:
    """Return the lead picture as HTML, for readers that ignore media:content."""
    def esc(value: str) -> str:
        return html.escape(value, quote=True)

    size = f' width="{image.width}" height="{image.height}"' if image.width else ""
    figure = f'<figure><img src="{esc(image.url)}" alt="{esc(image.alt)}"{size}>'
    caption = " — ".join(part for part in (image.caption, image.credit) if part)
    if caption:
        figure += f"<figcaption>{esc(caption)}</figcaption>"
    return figure + "</figure>"
