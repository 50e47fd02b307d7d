"""The frozen values every output reads: articles, their people and pictures, and artifacts."""

from __future__ import annotations

import dataclasses
import hashlib
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import NamedTuple, TypeVar

Value = TypeVar("Value")


def _unpickled_by_constructor(cls: type[Value]) -> type[Value]:
    """Make a frozen, slotted dataclass pickle as a call of its constructor with its fields.

    The __setstate__ that dataclasses give such a class looks its fields up again for each
    object: 340,000 of them in the record cache of 100,000 stories made unpickling it take
    2.2 s where the constructor takes 1.7 s. Caches written the other way still load."""
    fields = operator.attrgetter(*(each.name for each in dataclasses.fields(cls)))

    def __reduce__(self: object) -> tuple[type, tuple]:
        return type(self), fields(self)

    cls.__reduce__ = __reduce__  # type: ignore[method-assign, assignment]
    return cls


# The small values every story holds are slotted: no instance dict to make (pickling an
# instance without slots makes one, which then stays: 4 MB at 10,000 stories once the
# record cache was written) and half the size.
@_unpickled_by_constructor
@dataclass(frozen=True, slots=True)
class Author:
    name: str
    slug: str
    email: str = ""
    url: str = ""


@_unpickled_by_constructor
@dataclass(frozen=True, slots=True)
class ImageSource:
    """One width of a picture, for `srcset`."""

    url: str
    width: int
    local: str = ""


@_unpickled_by_constructor
@dataclass(frozen=True, slots=True)
class Image:
    """A picture: `url` is absolute; `local` is its file below the records folder, if any."""

    url: str
    width: int
    height: int
    alt: str = ""
    caption: str = ""
    credit: str = ""
    media_type: str = "image/jpeg"
    length: int = 0
    local: str = ""
    sources: tuple[ImageSource, ...] = ()


@_unpickled_by_constructor
@dataclass(frozen=True, slots=True)
class BodyRef:
    """Where the record cache keeps an article's body (syndicate.bodies), and what pages ask
    of every body without reading it: its length and whether it holds a picture."""

    key: str
    chars: int
    has_image: bool


@dataclass(frozen=True)
class Term:
    """A section, tag or author page: its display name, URL slug and articles, newest first."""

    kind: str
    name: str
    slug: str
    path: str
    url: str
    articles: tuple[Article, ...] = field(repr=False, default=())
    # Where each of `articles` is in Site.articles: what is worked out once per site can
    # then be gathered by place (syndicate.incremental.listed_keys).
    places: Sequence[int] = field(repr=False, default=(), compare=False)


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    published: datetime
    updated: datetime
    section: str
    summary: str
    body_html: str
    source: str
    authors: tuple[Author, ...] = ()
    images: tuple[Image, ...] = ()
    tags: tuple[str, ...] = ()
    priority: int = 0
    slug: str = ""
    canonical_url: str = ""
    related_ids: tuple[str, ...] = ()
    draft: bool = False
    # Filled in by build_site from the permalink pattern.
    section_slug: str = ""
    tag_slugs: tuple[str, ...] = ()
    path: str = ""
    url: str = ""
    # A digest of the record file's bytes: what incremental builds compare.
    digest: str = ""
    # Set when the body is kept on disk (body_html is then ""): read it with Site.body.
    body_ref: BodyRef | None = None
    # text.normalise_title(title), made once at parse (the record cache keeps it): every
    # build compares the headlines of every story for duplicates. "" when not made yet.
    title_key: str = ""

    @cached_property
    def render_key(self) -> str:
        """A digest of what identifies the article's rendered form: its file's bytes (by
        digest) plus what the site derives from others (its URL after slug collisions, its
        checked related ids) and its pictures' sizes, which come from image files rather
        than the record. Pages and feeds list one article many times: it is made once."""
        key = (self.id, self.digest, self.path, self.url, self.related_ids,
               tuple((i.url, i.width, i.height, i.length) for i in self.images))
        return hashlib.sha256(repr(key).encode("utf-8", "surrogatepass")).hexdigest()

    @property
    def body_chars(self) -> int:
        return self.body_ref.chars if self.body_ref else len(self.body_html)

    @property
    def body_has_image(self) -> bool:
        return self.body_ref.has_image if self.body_ref else "<img" in self.body_html

    @property
    def lead_image(self) -> Image | None:
        return self.images[0] if self.images else None

    @property
    def canonical(self) -> str:
        """The URL search engines and feeds should treat as the story's home."""
        return self.canonical_url or self.url

    @property
    def byline(self) -> str:
        """Return "A", "A and B" or "A, B and C"."""
        names = [a.name for a in self.authors]
        if len(names) < 2:
            return "".join(names)
        return ", ".join(names[:-1]) + " and " + names[-1]


def replace_article(article: Article, **changes: object) -> Article:
    """Return `dataclasses.replace(article, **changes)`, without its cached render key.

    Placing 100,000 stories replaces each once per build; `dataclasses.replace` runs
    `__init__` over every field by keyword (4.7 us a story here), a copy of the instance's
    fields 0.7 us. Article checks nothing in `__init__`, so the two give equal articles."""
    if not _ARTICLE_FIELDS.issuperset(changes):
        raise TypeError(f"Article has no field {sorted(set(changes) - _ARTICLE_FIELDS)}")
    fields = article.__dict__.copy()
    fields.pop("render_key", None)  # Derived from fields that may change.
    fields.update(changes)
    placed = object.__new__(Article)
    object.__setattr__(placed, "__dict__", fields)
    return placed


_ARTICLE_FIELDS = frozenset(each.name for each in dataclasses.fields(Article))


class Framed(NamedTuple):
    """Rendered bytes, and where in them the artifact's splice region lies (start, end), when
    the renderer found it exactly once."""

    data: bytes
    region: tuple[int, int] | None = None


class Staged(NamedTuple):
    """Rendered bytes already written to a temporary file of the writer's (by the process
    that rendered them, so that the bytes never travel between processes), with their
    sha256 hex digest, their size and the splice region (see Framed)."""

    temp: str
    digest: str
    size: int
    region: tuple[int, int] | None = None


@dataclass(frozen=True)
class Splice:
    """A part of a deferred artifact that changes more often than the rest of it: an article
    page's "Latest in section" list, which every new story in the section changes.

    `fingerprint` digests everything but that part; `region` renders the part alone. When only
    the part changed since the last build, the writer replaces it in the file already in out/
    instead of rendering the whole page again.
    """

    fingerprint: str
    region: Callable[[], bytes] = field(compare=False, repr=False)


@dataclass(frozen=True)
class Artifact:
    """One file an output produces: a path below `out/` and its bytes, or a file to copy.

    An expensive artifact is deferred instead: `render` makes its bytes (or a Framed) when
    called, and `fingerprint` digests everything they depend on. When the fingerprint equals
    the one recorded for the file already in out/, the writer keeps that file and never calls
    render; with a `splice` whose fingerprint still matches, it only replaces that region.
    """

    path: str
    data: bytes = b""
    media_type: str = "application/octet-stream"
    source: Path | None = None
    render: Callable[[], bytes | Framed] | None = field(default=None, compare=False,
                                                        repr=False)
    fingerprint: str = ""
    splice: Splice | None = None

    def rendered(self) -> Framed:
        """Return the artifact's bytes, rendering or reading them if need be, with the
        splice region when the renderer reported one."""
        if self.render is not None:
            made = self.render()
            return made if isinstance(made, Framed) else Framed(made)
        if self.source is not None:
            return Framed(self.source.read_bytes())
        return Framed(self.data)

    def content(self) -> bytes:
        """Return the artifact's bytes, rendering or reading them if need be."""
        return self.rendered().data
