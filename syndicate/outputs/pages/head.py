"""What goes in a page's <head>: feed autodiscovery, the icon, Open Graph and JSON-LD.

Structured data repeats what the page shows (headline, pictures, times, authors, publisher),
built from the same view models, so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from ...model import Article, Image, Term
from ...site import Site
from ...stories import StoryCard
from .markup import json_for_script
from .views import Card, Listing

# An icon link that names no file: without any icon link, browsers ask for /favicon.ico,
# and the 404 shows up as a console error (Lighthouse "best practices").
NO_ICON = "data:,"
FEED_TYPES = (("rss", "application/rss+xml", "RSS"), ("atom", "application/atom+xml", "Atom"),
              ("json", "application/feed+json", "JSON Feed"))
# The names the feeds output may be registered under; autodiscovery links only feeds that exist.
FEED_OUTPUTS = {"feeds"}


@dataclass(frozen=True)
class Feed:
    title: str
    media_type: str
    url: str


@dataclass(frozen=True)
class Icon:
    href: str
    media_type: str = ""
    sizes: str = ""


@dataclass(frozen=True)
class Meta:
    attribute: str
    key: str
    content: str


@dataclass(frozen=True)
class Head:
    title: str
    description: str
    canonical: str
    icon: Icon
    feeds: tuple[Feed, ...]
    meta: tuple[Meta, ...]
    json_ld: Markup
    css: Markup
    prev_url: str = ""
    next_url: str = ""


def feeds_enabled(site: Site) -> bool:
    return bool(FEED_OUTPUTS & set(site.config.output.outputs))


def feed_links(site: Site, term: Term | None = None) -> tuple[Feed, ...]:
    """Return the site's feeds, then `term`'s, each only where the feeds output writes it."""
    config = site.config.feeds
    if not feeds_enabled(site):
        return ()
    folders: list[tuple[str, str]] = []
    if config.site:
        folders.append((site.config.site.title, ""))
    if term is not None and getattr(config, {"section": "sections", "tag": "tags",
                                             "author": "authors"}[term.kind]):
        folders.append((f"{term.name} – {site.config.site.title}", term.path))
    return tuple(Feed(f"{title} ({label})", media_type, site.url(folder + getattr(config, key)))
                 for title, folder in folders for key, media_type, label in FEED_TYPES
                 if key in config.formats)


def icon(site: Site, href: Any) -> Icon:
    favicon = site.favicon
    if favicon is None:
        return Icon(NO_ICON)
    sizes = f"{favicon.width}x{favicon.height}" if favicon.media_type != "image/svg+xml" else ""
    return Icon(href(favicon.url), favicon.media_type, sizes)


def publisher(site: Site) -> dict[str, Any]:
    organisation: dict[str, Any] = {"@type": "Organization", "name": publisher_name(site),
                                    "url": site.base_url}
    if site.logo is not None:
        organisation["logo"] = {"@type": "ImageObject", "url": site.logo.url,
                                "width": site.logo.width, "height": site.logo.height}
    return organisation


def publisher_name(site: Site) -> str:
    return site.config.site.publisher or site.config.site.title


def og_locale(language: str) -> str:
    """Return Open Graph's locale form of a language tag: en-GB -> en_GB."""
    parts = language.split("-")
    if len(parts) > 1 and len(parts[1]) == 2:
        return f"{parts[0].lower()}_{parts[1].upper()}"
    return parts[0].lower()


def _common_meta(site: Site, kind: str, title: str, description: str,
                 url: str) -> list[Meta]:
    meta = [Meta("property", "og:type", kind), Meta("property", "og:site_name",
                                                     site.config.site.title),
            Meta("property", "og:locale", og_locale(site.config.site.language)),
            Meta("property", "og:title", title), Meta("property", "og:url", url)]
    if description:
        meta.append(Meta("property", "og:description", description))
    return meta


def _image_meta(image: Image | None) -> list[Meta]:
    if image is None:
        return [Meta("name", "twitter:card", "summary")]
    return [Meta("property", "og:image", image.url),
            Meta("property", "og:image:type", image.media_type),
            Meta("property", "og:image:width", str(image.width)),
            Meta("property", "og:image:height", str(image.height)),
            Meta("property", "og:image:alt", image.alt),
            Meta("name", "twitter:card", "summary_large_image"),
            Meta("name", "twitter:image", image.url),
            Meta("name", "twitter:image:alt", image.alt)]


def article_meta(site: Site, story: StoryCard) -> tuple[Meta, ...]:
    """Return Open Graph and Twitter card tags for an article page."""
    article = story.article
    meta = _common_meta(site, "article", story.title, story.summary, article.canonical)
    meta += _image_meta(story.image)
    meta += [Meta("property", "article:published_time", story.published_iso),
             Meta("property", "article:modified_time", story.updated_iso),
             Meta("property", "article:section", story.section.text)]
    meta += [Meta("property", "article:author", author.url) for author in story.authors]
    meta += [Meta("property", "article:tag", tag.text) for tag in story.tags]
    meta.append(Meta("name", "twitter:title", story.title))
    return tuple(meta)


def article_json_ld(site: Site, story: StoryCard, images: tuple[Image, ...]) -> Markup:
    """Return the NewsArticle JSON-LD of an article page: the values the page shows."""
    article: Article = story.article
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "mainEntityOfPage": {"@type": "WebPage", "@id": article.canonical},
        "url": article.canonical,
        "headline": story.title,
        "description": story.summary,
        "image": [image.url for image in images],
        "datePublished": story.published_iso,
        "dateModified": story.updated_iso,
        "author": [{"@type": "Person", "name": author.text, "url": author.url}
                   for author in story.authors] or [publisher(site)],
        "publisher": publisher(site),
        "articleSection": story.section.text,
        "keywords": [tag.text for tag in story.tags],
        "inLanguage": site.config.site.language,
    }
    if not data["image"]:
        del data["image"]
    return json_for_script(data)


def list_meta(site: Site, title: str, description: str, url: str,
              image: Image | None) -> tuple[Meta, ...]:
    """Return Open Graph tags for the home, section, tag and author pages."""
    return tuple(_common_meta(site, "website", title, description, url) + _image_meta(image))


def list_json_ld(site: Site, listing: Listing, url: str, description: str) -> Markup:
    """Return CollectionPage JSON-LD listing the page's stories in the order shown."""
    cards: list[Card] = [card for group in listing.groups for card in group.cards]
    data = {
        "@context": "https://schema.org",
        "@type": "CollectionPage",
        "url": url,
        "name": listing.heading,
        "description": description,
        "inLanguage": site.config.site.language,
        "isPartOf": {"@type": "WebSite", "name": site.config.site.title, "url": site.base_url},
        "publisher": publisher(site),
        "mainEntity": {
            "@type": "ItemList",
            "itemListElement": [{"@type": "ListItem", "position": position,
                                 "url": card.story.url, "name": card.story.title}
                                for position, card in enumerate(cards, 1)],
        },
    }
    return json_for_script(data)
