"""Build the one frozen `Site` every output reads, running the checks that span records."""

from __future__ import annotations

import os
import re
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import MappingProxyType
from urllib.parse import quote
from zoneinfo import ZoneInfo

from . import text
from .config import Config
from .errors import Problem
from .media import MediaResolver, image_size
from .model import Article, Author, Image, Term, replace_article


@dataclass(frozen=True)
class Site:
    """Everything an output may read: the config and the published articles, newest first."""

    config: Config
    articles: tuple[Article, ...]
    by_id: Mapping[str, Article]
    sections: tuple[Term, ...]
    tags: tuple[Term, ...]
    authors: tuple[Term, ...]
    now: datetime
    zone: ZoneInfo
    logo: Image | None = None
    favicon: Image | None = None
    # Reads a body the record cache keeps on disk (syndicate.bodies), for articles whose
    # body_ref is set.
    read_body: Callable[[Article], str] | None = field(default=None, compare=False, repr=False)

    def body(self, article: Article) -> str:
        """Return the article's body HTML, read from disk when the record cache keeps it."""
        if article.body_ref is None:
            return article.body_html
        if self.read_body is None:
            raise ValueError(f"{article.source}: its body is kept on disk, but this site "
                             "has no reader for it")
        return self.read_body(article)

    @property
    def base_url(self) -> str:
        return self.config.site.base_url.rstrip("/") + "/"

    def url(self, path: str) -> str:
        """Return the absolute URL of a site path such as "/world/" or "feed.xml"."""
        return self.base_url + quote(path.lstrip("/"), safe="/:@-._~!$&'()*+,;=")

    def terms(self, kind: str) -> tuple[Term, ...]:
        return {"section": self.sections, "tag": self.tags, "author": self.authors}[kind]

    @property
    def domain(self) -> str:
        return self.base_url.split("//", 1)[1].split("/", 1)[0].split(":")[0]


def newest_first(article: Article) -> tuple[float, str]:
    """Sort key: newest publication first, ties broken by id."""
    return (-article.published.timestamp(), article.id)


def build_now(articles: Iterable[Article], zone: ZoneInfo,
              environ: Mapping[str, str] = os.environ) -> datetime:
    """Return the build's notion of now: SOURCE_DATE_EPOCH, else the newest update, never
    the wall clock (so that the same input always gives the same output)."""
    epoch = environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), timezone.utc).astimezone(zone)
    latest = max((a.updated for a in articles), default=None)
    return latest or datetime(1970, 1, 1, tzinfo=timezone.utc).astimezone(zone)


def build_site(config: Config, articles: Iterable[Article],
               environ: Mapping[str, str] = os.environ,
               read_body: Callable[[Article], str] | None = None) -> tuple[Site, list[Problem]]:
    """Drop drafts and duplicates, fill in slugs and URLs, and index the articles
    (`read_body` reads the bodies kept on disk: see Site.body)."""
    problems: list[Problem] = []
    zone = ZoneInfo(config.site.timezone)
    unique: dict[str, Article] = {}
    for article in sorted(articles, key=lambda a: a.source):
        first = unique.get(article.id)
        if first is not None:
            problems.append(Problem(article.source, "id", f'"{article.id}" is already used by '
                                    f"{first.source}; this record is skipped"))
            continue
        unique[article.id] = article
    published = [a for a in unique.values() if not a.draft]

    published = _place(config, published, problems)
    by_id = {a.id: a for a in published}
    drafts = {a.id for a in unique.values() if a.draft}
    checked = []
    for article in published:
        kept = []
        for related_id in article.related_ids:
            if related_id == article.id:
                problems.append(Problem(article.source, "related", "lists the article itself; "
                                        "ignored", "warning"))
            elif related_id in by_id:
                kept.append(related_id)
            else:
                why = "is a draft" if related_id in drafts else "is not a known record id"
                problems.append(Problem(article.source, "related", f'"{related_id}" {why}; '
                                        "ignored", "warning"))
        if len(kept) != len(article.related_ids):
            article = replace_article(article, related_ids=tuple(kept))
        checked.append(article)
    checked.sort(key=newest_first)
    by_id = {a.id: a for a in checked}
    site = Site(
        config=config,
        articles=tuple(checked),
        by_id=MappingProxyType(by_id),
        sections=_terms(config, "section", checked),
        tags=_terms(config, "tag", checked),
        authors=_terms(config, "author", checked),
        now=build_now(checked, zone, environ),
        zone=zone,
        logo=_site_image(config, "logo", problems),
        favicon=_site_image(config, "favicon", problems),
        read_body=read_body,
    )
    return site, problems


class _ConfigReporter:
    def __init__(self, config: Config, problems: list[Problem]) -> None:
        self.config = config
        self.problems = problems

    def warn(self, field_name: str, message: str) -> None:
        self.problems.append(Problem(self.config.source, f"[site] {field_name}",
                                     message.replace("image ignored", "ignored"), "warning"))


def _site_image(config: Config, key: str, problems: list[Problem]) -> Image | None:
    """Resolve `[site] logo` or `favicon` to an Image, sized from the config or the file."""
    src = getattr(config.site, key)
    if not src:
        return None
    resolver = MediaResolver(config)
    resolved = resolver.resolve(src, key, _ConfigReporter(config, problems))
    if resolved is None:
        return None
    url, local, length = resolved
    size = image_size(config.records_dir / local) if local else None
    if key == "logo":
        size = (config.site.logo_width, config.site.logo_height)
    width, height = size or (48, 48)
    suffix = local.rsplit(".", 1)[-1].lower() if local else ""
    media_type = {"png": "image/png", "svg": "image/svg+xml", "ico": "image/x-icon",
                  "jpg": "image/jpeg", "jpeg": "image/jpeg"}.get(suffix, "image/png")
    return Image(url=url, width=width, height=height, alt=config.site.publisher or
                 config.site.title, media_type=media_type, length=length, local=local)


def _place(config: Config, articles: list[Article], problems: list[Problem]) -> list[Article]:
    """Fill in slugs, output paths and URLs; resolve path collisions oldest-first."""
    base = config.site.base_url.rstrip("/")
    pattern = config.output.permalink
    # A few thousand tags and a dozen sections name hundreds of thousands of stories. Each
    # record was parsed on its own, so each story holds its own copy of every name: the
    # placed story holds the site's one copy instead (at 100,000 stories, tens of MB).
    tag_slugs: dict[str, str] = {}
    tag_names: dict[str, str] = {}
    section_slugs: dict[str, str] = {}
    section_names: dict[str, str] = {}
    people: dict[Author, Author] = {}
    wanted: dict[str, list[tuple[Article, dict[str, object]]]] = defaultdict(list)
    for article in articles:
        # slugify again: a valid record slug can still be a name Windows reserves ("con").
        slug = text.slugify(article.slug) or text.slug_or_hash(article.title, article.id)
        section = section_names.setdefault(article.section, article.section)
        section_slug = section_slugs.get(section)
        if section_slug is None:
            section_slug = section_slugs[section] = text.slugify(section)
        for tag in article.tags:
            if tag not in tag_slugs:
                tag_slugs[tag] = text.slug_or_hash(tag, tag.casefold())
                tag_names[tag] = tag
        fields = {"slug": slug, "section": section, "section_slug": section_slug,
                  "tags": tuple(map(tag_names.__getitem__, article.tags)),
                  "tag_slugs": tuple(map(tag_slugs.__getitem__, article.tags)),
                  "authors": tuple([people.setdefault(a, a) for a in article.authors])}
        wanted[_permalink(pattern, article, slug, section_slug)].append((article, fields))
    placed = []
    taken = set(wanted)
    for path in sorted(wanted):
        group = wanted[path]
        if len(group) > 1:
            group.sort(key=lambda pair: (pair[0].published, pair[0].id))
        for index, (article, fields) in enumerate(group):
            final = path
            if index:
                number = index + 1
                while (final := f"{path.rstrip('/')}-{number}/") in taken:
                    number += 1
                taken.add(final)
                problems.append(Problem(article.source, "slug", f'"{path}" is also the URL of '
                                        f"{group[0][0].source}; using {final}", "warning"))
            url_path = final if _URL_SAFE.fullmatch(final) else quote(final, safe="/-._~")
            placed.append(replace_article(
                article, **fields, path=final.lstrip("/") + "index.html", url=base + url_path))
    return placed


# What quote(path, safe="/-._~") leaves as it is: most permalinks, made of slugs.
_URL_SAFE = re.compile(r"[A-Za-z0-9/._~-]*")


def _permalink(pattern: str, article: Article, slug: str, section_slug: str) -> str:
    moment = article.published
    id_path = ("/".join(text.slug_or_hash(part, part) for part in article.id.split("/") if part)
               if "{id" in pattern else "")
    return pattern.format(
        section=section_slug, yyyy=f"{moment.year:04d}", mm=f"{moment.month:02d}",
        dd=f"{moment.day:02d}", slug=slug, id=id_path,
    )


def _most_used_spelling(kind: str, slug: str, members: Iterable[Article]) -> str:
    """Return the name most used for the term `slug` by its stories (each listed once per
    name it gives, as _terms lists them); ties go to the first in code-point order."""
    each_once = list({id(article): article for article in members}.values())
    spellings = Counter(name for _, _, each, name in _named(kind, each_once) if each == slug)
    return min(spellings.items(), key=lambda item: (-item[1], item[0]))[0]


def term_path(config: Config, kind: str, slug: str) -> str:
    """Return the site path ("/tag/belarus/") of a section, tag or author."""
    pattern = {"section": config.output.section_path, "tag": config.output.tag_path,
               "author": config.output.author_path}[kind]
    return pattern.format(**{kind: slug})


def _named(kind: str, articles: list[Article]) -> Iterator[tuple[int, Article, str, str]]:
    """Yield (place, article, slug, name) for each term of `kind` each article names, in
    one pass over the stories (a call per story cost 0.1 s at 100,000)."""
    if kind == "section":
        return ((place, a, a.section_slug, a.section) for place, a in enumerate(articles))
    if kind == "tag":
        return ((place, a, slug, name) for place, a in enumerate(articles)
                for slug, name in zip(a.tag_slugs, a.tags, strict=True))
    return ((place, a, person.slug, person.name) for place, a in enumerate(articles)
            for person in a.authors)


def _terms(config: Config, kind: str, articles: list[Article]) -> tuple[Term, ...]:
    """Return the site's terms of `kind`; `articles` are the site's, in the site's order."""
    members: dict[str, list[Article]] = defaultdict(list)
    places: dict[str, list[int]] = defaultdict(list)  # the members' places in `articles`
    # The first spelling of each slug; the spellings are counted only for the slugs that
    # have more than one (at 100,000 stories, counting all 600,000 names cost 0.1 s).
    first_names: dict[str, str] = {}
    respelled: set[str] = set()
    for place, article, slug, name in _named(kind, articles):
        members[slug].append(article)
        places[slug].append(place)
        first = first_names.setdefault(slug, name)
        if first is not name and first != name:
            respelled.add(slug)
    base = config.site.base_url.rstrip("/")
    terms = []
    for slug in sorted(members):
        name = first_names[slug]
        if slug in respelled:
            name = _most_used_spelling(kind, slug, members[slug])
        path = term_path(config, kind, slug)
        terms.append(Term(kind=kind, name=name, slug=slug, path=path,
                          url=base + quote(path, safe="/-._~"),
                          articles=tuple(members[slug]), places=array("i", places[slug])))
    return tuple(terms)
