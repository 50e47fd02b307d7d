"""View models for the page templates: relative links, pictures and story cards."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ...model import Article, Image, ImageSource
from ...site import Site
from ...stories import StoryCard, story_card

# How wide pictures are drawn, for `sizes` (must match site.css: .story 42rem, .links img
# 7.5rem, cards in a grid of at least 16rem) and for thumbnails' width and height attributes,
# which keep a page readable with CSS off.
LEAD_SIZES = "(min-width: 44rem) 42rem, calc(100vw - 2rem)"
CARD_SIZES = "(min-width: 48rem) 20rem, calc(100vw - 2rem)"
CARD_LEAD_SIZES = "(min-width: 64rem) 37rem, (min-width: 48rem) 58vw, calc(100vw - 2rem)"
THUMB_SIZES = "7.5rem"
THUMB_WIDTH = 160


class Linker:
    """Turn the site's absolute URLs into links relative to one page.

    Relative links keep out/ working wherever it is served (a preview on localhost, a
    sub-folder) and make the page fetch nothing from another host; canonical URLs, feeds and
    structured data stay absolute.
    """

    def __init__(self, site: Site, page_url: str) -> None:
        self.base = site.base_url
        path = page_url[len(self.base):] if page_url.startswith(self.base) else ""
        self.folder = path.rsplit("/", 1)[0] if "/" in path else ""

    def __call__(self, url: str) -> str:
        if not url.startswith(self.base):
            return url
        target = url[len(self.base):]
        if "?" in target or "#" in target:
            return url
        return _relative(target, self.folder)


class FolderLinks:
    """A Linker that notes whether its links would read the same from a folder beside the
    page's: not if one stays inside the page's folder (no "../"), and not from a sibling
    folder that a link enters after going up one level (`siblings`)."""

    def __init__(self, href: Linker) -> None:
        self.href = href
        self.portable = True
        self.siblings: set[str] = set()

    def __call__(self, url: str) -> str:
        link = self.href(url)
        if link == url:  # Not below the site's URL: absolute, the same from everywhere.
            return link
        if not link.startswith("../"):
            self.portable = False
        elif not link.startswith("../../"):
            self.siblings.add(link[3:].split("/", 1)[0])
        return link


@lru_cache(maxsize=4096)
def _relative(target: str, folder: str) -> str:
    """Return the site path `target` relative to the page folder `folder` (both below the
    site's root, no leading slash): "../../tag/belarus/", "./" for the folder itself."""
    parts = target.split("/")
    base = folder.split("/") if folder else []
    common = 0
    while common < len(base) and common < len(parts) - 1 and base[common] == parts[common]:
        common += 1
    return "../" * (len(base) - common) + "/".join(parts[common:]) or "./"


@dataclass(frozen=True)
class ImageView:
    """One <img>: the URL, the display size for its attributes, srcset entries, alt, caption."""

    url: str
    width: int
    height: int
    alt: str
    caption: str = ""
    credit: str = ""
    sources: tuple[ImageSource, ...] = ()
    sizes: str = ""


def image_view(image: Image, sizes: str) -> ImageView:
    """Return a full-width picture: its own size, every offered width in srcset."""
    return ImageView(url=image.url, width=image.width, height=image.height, alt=image.alt,
                     caption=image.caption, credit=image.credit,
                     sources=_srcset(image), sizes=sizes)


def thumbnail_view(image: Image) -> ImageView:
    """Return a thumbnail: drawn THUMB_WIDTH wide, from the smallest width that suffices."""
    height = max(1, round(THUMB_WIDTH * image.height / image.width))
    sources = _srcset(image)
    return ImageView(url=sources[0].url if sources else image.url, width=THUMB_WIDTH,
                     height=height, alt=image.alt, sources=sources, sizes=THUMB_SIZES)


def _srcset(image: Image) -> tuple[ImageSource, ...]:
    """Return the picture's widths for srcset, the full-size file included; () for just one."""
    widths = {source.width: source for source in image.sources}
    widths.setdefault(image.width, ImageSource(url=image.url, width=image.width))
    if len(widths) < 2:
        return ()
    return tuple(widths[width] for width in sorted(widths))


@dataclass(frozen=True)
class Card:
    """A story as a list shows it; `lead` marks the first story, whose picture loads first."""

    story: StoryCard
    image: ImageView | None
    lead: bool = False


def card(site: Site, article: Article, *, lead: bool = False) -> Card:
    story = story_card(site, article)
    image = None
    if story.image is not None:
        image = image_view(story.image, CARD_LEAD_SIZES if lead else CARD_SIZES)
    return Card(story=story, image=image, lead=lead)


def link_card(site: Site, article: Article) -> Card:
    story = story_card(site, article)
    return Card(story=story, image=thumbnail_view(story.image) if story.image else None)


@dataclass(frozen=True)
class LinkList:
    """A labelled list of story links: "Related stories", "Latest World News"."""

    heading: str
    cards: tuple[Card, ...]


@dataclass(frozen=True)
class NavLink:
    text: str
    href: str
    current: str = ""  # aria-current: "page" on the section's own page, "true" on its stories


@dataclass(frozen=True)
class Group:
    """Cards under one heading; a compact group shows headlines only, without pictures."""

    heading: str
    cards: tuple[Card, ...]
    compact: bool = False


@dataclass(frozen=True)
class Pager:
    """Links from one page of a list to the next newer and older ones: `number` 0 is the
    list's first page, and archive pages count from the oldest (see archive_bounds)."""

    number: int
    newer: str = ""
    older: str = ""


@dataclass(frozen=True)
class Listing:
    heading: str
    label: str
    intro: str
    groups: tuple[Group, ...]
    pager: Pager | None = None
    # The home page's heading repeats the masthead: kept for screen readers and outlines.
    heading_hidden: bool = False
