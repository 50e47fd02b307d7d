"""Story data shared by the pages and the digest: what a card or a headline shows.

Pages and the digest render the same facts in different HTML, so they share this view model
rather than markup. Dates are formatted here, in English and without the C library's locale,
so that output never depends on the machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .identity import IdentityCache
from .model import Article, Image
from .site import Site, term_path

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def long_date(moment: datetime) -> str:
    """Return "Saturday 14 March 2026"."""
    return f"{WEEKDAYS[moment.weekday()]} {moment.day} {MONTHS[moment.month - 1]} {moment.year}"


def dateline(moment: datetime) -> str:
    """Return "14 March 2026, 08:00 GMT" in the moment's own time zone."""
    zone = moment.tzname() or ""
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}, {moment:%H:%M} {zone}".strip()


@dataclass(frozen=True)
class Link:
    text: str
    url: str


@dataclass(frozen=True)
class StoryCard:
    """What one story shows wherever it is listed."""

    article: Article
    title: str
    url: str
    summary: str
    section: Link
    authors: tuple[Link, ...]
    byline: str
    tags: tuple[Link, ...]
    published_iso: str
    published_text: str
    updated_iso: str
    updated_text: str
    was_updated: bool
    image: Image | None


def iso(moment: datetime) -> str:
    """Return RFC 3339 with the offset, seconds precision: 2026-03-14T08:00:00+00:00."""
    return moment.replace(microsecond=0).isoformat()


# A story is listed on many pages: its card is made once per site.
_CARDS: IdentityCache[dict[str, StoryCard]] = IdentityCache()
# A dozen sections and a few thousand tags and authors name every story: each card shares
# their links rather than holding copies (a third of a card's memory, in every render worker).
_TERM_LINKS: IdentityCache[dict[tuple[str, str, str], Link]] = IdentityCache()


def story_card(site: Site, article: Article) -> StoryCard:
    """Return the facts a page or the digest shows about `article` (made once per site)."""
    cards = _CARDS.get(site, dict)
    card = cards.get(article.id)
    if card is None or card.article is not article:
        card = cards[article.id] = make_story_card(site, article)
    return card


def _term_link(site: Site, links: dict[tuple[str, str, str], Link], kind: str, name: str,
               slug: str) -> Link:
    """Return the link to a section, tag or author page as `name` spells it, made once per
    site and kept in `links` (the site's _TERM_LINKS)."""
    link = links.get((kind, name, slug))
    if link is None:
        link = links[kind, name, slug] = Link(name, site.url(term_path(site.config, kind, slug)))
    return link


def make_story_card(site: Site, article: Article) -> StoryCard:
    """Return the facts a page or the digest shows about `article`."""
    links = _TERM_LINKS.get(site, dict)
    published_iso, published_text = iso(article.published), dateline(article.published)
    # Most stories were never updated: their card holds each date's text once.
    unchanged = (article.updated == article.published
                 and article.updated.tzinfo is article.published.tzinfo)
    return StoryCard(
        article=article,
        title=article.title,
        url=article.url,
        summary=article.summary,
        section=_term_link(site, links, "section", article.section, article.section_slug),
        authors=tuple(_term_link(site, links, "author", a.name, a.slug) for a in article.authors),
        byline=article.byline,
        tags=tuple(_term_link(site, links, "tag", name, slug)
                   for name, slug in zip(article.tags, article.tag_slugs, strict=True)),
        published_iso=published_iso,
        published_text=published_text,
        updated_iso=published_iso if unchanged else iso(article.updated),
        updated_text=published_text if unchanged else dateline(article.updated),
        was_updated=article.updated > article.published,
        image=article.lead_image,
    )
