"""Rank stories: top stories, related stories and the latest stories of a section.

Every list is deterministic: ties go to the newest publication time, then to the smaller id,
and duplicates (same id, same canonical URL or same normalised headline) appear once.
"""

from __future__ import annotations

import math
import threading
import weakref
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from . import text
from .model import Article
from .site import Site

_DAY = 86400.0


def _section_key(article: Article) -> str:
    return article.section_slug or text.slugify(article.section) or article.section.casefold()


class _Dedupe:
    """Remember ids, canonical URLs and normalised headlines already listed."""

    def __init__(self) -> None:
        self.keys: set[tuple[str, str]] = set()

    @staticmethod
    def keys_of(article: Article) -> list[tuple[str, str]]:
        keys = [("id", article.id)]
        if article.canonical:
            keys.append(("url", article.canonical))
        title = text.normalise_title(article.title)
        if title:
            keys.append(("title", title))
        return keys

    def is_new(self, article: Article) -> bool:
        return self.keys.isdisjoint(self.keys_of(article))

    def add(self, article: Article) -> None:
        self.keys.update(self.keys_of(article))

    def take(self, article: Article) -> bool:
        """Add the article and return True unless it duplicates one already taken."""
        keys = self.keys_of(article)
        if not self.keys.isdisjoint(keys):
            return False
        self.keys.update(keys)
        return True


def _unique(articles: Iterable[Article], count: int,
            dedupe: _Dedupe | None = None) -> list[Article]:
    dedupe = dedupe or _Dedupe()
    chosen: list[Article] = []
    for article in articles:
        if len(chosen) >= count:
            break
        if dedupe.take(article):
            chosen.append(article)
    return chosen


def _newest_first(article: Article) -> tuple[float, str]:
    return (-article.published.timestamp(), article.id)


def top_stories(site: Site, *, now: datetime | None = None, window_hours: float | None = None,
                count: int | None = None, max_per_section: int | None = None,
                candidates: Sequence[Article] | None = None) -> list[Article]:
    """Return the stories to lead with, best first.

    Candidates are the non-draft `candidates` (default: every article) published in
    `(now - window_hours, now]`. Each scores

        (1 + priority_weight * priority) / (age_hours + 2) ** gravity

    (the Hacker News formula, with the editor's priority in the numerator). Walking down the
    scores (ties: newest, then id), a story is skipped when it duplicates one already chosen
    or when its section already has `max_per_section` stories; the first `count` are returned.
    Defaults come from `[top]`; `now` defaults to `site.now`.
    """
    config = site.config.top
    now = now or site.now
    if now.tzinfo is None:
        now = now.replace(tzinfo=site.zone)
    window = config.window_hours if window_hours is None else window_hours
    count = config.count if count is None else count
    per_section = config.max_per_section if max_per_section is None else max_per_section
    start = now - timedelta(hours=window)
    scored: list[tuple[float, float, str, Article]] = []
    for article in site.articles if candidates is None else candidates:
        if article.draft or not start < article.published <= now:
            continue
        age_hours = (now - article.published).total_seconds() / 3600.0
        score = ((1.0 + config.priority_weight * article.priority)
                 / (age_hours + 2.0) ** config.gravity)
        scored.append((-score, -article.published.timestamp(), article.id, article))
    scored.sort(key=lambda item: item[:3])
    dedupe = _Dedupe()
    per_section_taken: dict[str, int] = {}
    chosen: list[Article] = []
    for *_, article in scored:
        if len(chosen) >= count:
            break
        section = _section_key(article)
        if per_section_taken.get(section, 0) >= per_section or not dedupe.take(article):
            continue
        per_section_taken[section] = per_section_taken.get(section, 0) + 1
        chosen.append(article)
    return chosen


def latest_in_section(site: Site, article: Article, *, count: int | None = None) -> list[Article]:
    """Return the newest `count` stories of the article's section (default `[latest] count`),
    newest first (ties by id), without the article itself or duplicates of it."""
    count = site.config.latest.count if count is None else count
    if count <= 0:
        return []
    members = _index(site).by_section.get(_section_key(article), ())
    dedupe = _Dedupe()
    dedupe.add(article)
    return _unique(members, count, dedupe)


@dataclass
class _Index:
    """The related-stories index of one Site: articles in newest-first order (`pos`), and
    for every term (a usable tag, or a section) the positions of its articles."""

    articles: list[Article]
    pos_by_id: dict[str, int]
    key: list[float]                # -timestamp per position: ascending
    terms_of: list[tuple[int, ...]]  # term ids per position, sorted
    weight: list[float]             # per term id
    postings: list[list[int]]       # per term id, ascending positions
    posting_keys: list[list[float]]  # per term id, ascending -timestamps
    tag_term: dict[str, int]
    section_term: dict[str, int]
    tag_share_limit: float
    size: int
    by_section: dict[str, tuple[Article, ...]]


def _tag_keys(article: Article) -> list[str]:
    if len(article.tag_slugs) == len(article.tags):
        return list(article.tag_slugs)
    return [text.slug_or_hash(tag, tag.casefold()) for tag in article.tags]


def _build_index(site: Site) -> _Index:
    config = site.config.related
    articles = sorted({a.id: a for a in site.articles if not a.draft}.values(),
                      key=_newest_first)
    size = len(articles)
    keys = [-a.published.timestamp() for a in articles]
    tags_per = [sorted(set(_tag_keys(a))) for a in articles]
    sections = [_section_key(a) for a in articles]
    frequency: dict[str, int] = {}
    for tags in tags_per:
        for tag in tags:
            frequency[tag] = frequency.get(tag, 0) + 1
    usable = sorted(tag for tag, df in frequency.items() if df <= config.max_tag_share * size)
    tag_term = {tag: number for number, tag in enumerate(usable)}
    weight = [config.weight_tags * math.log(size / frequency[tag]) for tag in usable]
    section_term: dict[str, int] = {}
    for section in sorted(set(sections)):
        section_term[section] = len(weight)
        weight.append(config.weight_section)
    postings: list[list[int]] = [[] for _ in weight]
    terms_of: list[tuple[int, ...]] = []
    for position, (tags, section) in enumerate(zip(tags_per, sections, strict=True)):
        terms = sorted([tag_term[t] for t in tags if t in tag_term] + [section_term[section]])
        terms_of.append(tuple(terms))
        for term in terms:
            postings[term].append(position)
    by_section: dict[str, list[Article]] = {}
    for article, section in zip(articles, sections, strict=True):
        by_section.setdefault(section, []).append(article)
    return _Index(
        articles=articles, pos_by_id={a.id: n for n, a in enumerate(articles)}, key=keys,
        terms_of=terms_of, weight=weight, postings=postings,
        posting_keys=[[keys[p] for p in posting] for posting in postings],
        tag_term=tag_term, section_term=section_term, tag_share_limit=config.max_tag_share,
        size=size, by_section={s: tuple(members) for s, members in by_section.items()},
    )


# One index per live Site. Keyed by id() because Site is not hashable; the weak reference
# proves the entry belongs to this very object, and a finalizer drops it with the Site.
_INDEXES: dict[int, tuple[weakref.ref[Site], _Index]] = {}
_LOCK = threading.Lock()


def _index(site: Site) -> _Index:
    with _LOCK:
        entry = _INDEXES.get(id(site))
        if entry is not None and entry[0]() is site:
            return entry[1]
        index = _build_index(site)
        _INDEXES[id(site)] = (weakref.ref(site), index)
        weakref.finalize(site, _INDEXES.pop, id(site), None)
        return index


def _window(keys: list[float], center: float, at: int, has_self: bool, start: int, stop: int,
            size: int) -> tuple[int, int]:
    """Return [lo, hi): the `size` entries of keys[start:stop] nearest to `center`, plus the
    article itself at `at` when `has_self` (`at` is its index, or the insertion point)."""
    span = size + (1 if has_self else 0)
    if stop - start <= span:
        return start, stop
    low, high = max(start, at - size), min(at, stop - span)
    while low < high:
        middle = (low + high) // 2
        if center - keys[middle] > keys[middle + span] - center:
            low = middle + 1
        else:
            high = middle
    return low, low + span


def related(site: Site, article: Article, *, count: int | None = None) -> list[Article]:
    """Return up to `count` stories related to `article` (default `[related] count`).

    First the editor's pinned `related_ids`, in order. Then the best-scoring candidates, where

        score = (sum of weight_tags * idf(tag) over shared tags
                 + weight_section if the section is shared) * 0.5 ** (|days apart| / half_life_days)

    with idf(tag) = ln(articles / articles with the tag). Tags on more than `max_tag_share` of
    the articles are ignored. Candidates are, for each of the article's tags and for its
    section, the `max_candidates_per_tag` stories nearest in time (never newer ones unless
    `include_newer`); those scoring below `threshold` are dropped. Ties go to the newest, then
    the smaller id. Never the article itself, never a duplicate headline or URL.
    """
    config = site.config.related
    count = config.count if count is None else count
    if count <= 0:
        return []
    index = _index(site)
    dedupe = _Dedupe()
    dedupe.add(article)
    chosen: list[Article] = []
    pinned_positions: set[int] = set()
    for related_id in article.related_ids:
        position = index.pos_by_id.get(related_id)
        if position is None or len(chosen) >= count:
            continue
        if dedupe.take(index.articles[position]):
            chosen.append(index.articles[position])
            pinned_positions.add(position)
    wanted = count - len(chosen)
    if wanted <= 0:
        return chosen
    scored = _score_candidates(index, article, config.max_candidates_per_tag,
                               config.half_life_days, config.include_newer, config.threshold,
                               pinned_positions)
    scored.sort()
    for _, position in scored:
        if len(chosen) >= count:
            break
        candidate = index.articles[position]
        if dedupe.take(candidate):
            chosen.append(candidate)
    return chosen


def _score_candidates(index: _Index, article: Article, per_term: int, half_life_days: float,
                      include_newer: bool, threshold: float,
                      excluded: set[int]) -> list[tuple[float, int]]:
    """Return (-score, position) of every candidate scoring at least `threshold`."""
    own = index.pos_by_id.get(article.id)
    if own is not None:
        terms = index.terms_of[own]
        center = index.key[own]
    else:
        terms = tuple(sorted({index.tag_term[t] for t in _tag_keys(article) if t in index.tag_term}
                             | ({index.section_term[s]} if (s := _section_key(article))
                                in index.section_term else set())))
        center = -article.published.timestamp()
    weights = {term: index.weight[term] for term in terms}
    decay = math.log(2.0) / (half_life_days * _DAY)
    seen = set(excluded)
    if own is not None:
        seen.add(own)
    key_of = index.key
    terms_of = index.terms_of
    scored: list[tuple[float, int]] = []
    for term in terms:
        posting = index.postings[term]
        keys = index.posting_keys[term]
        at = bisect_left(posting, own) if own is not None else bisect_left(keys, center)
        start = 0 if include_newer else bisect_left(keys, center)
        lo, hi = _window(keys, center, at, own is not None, start, len(keys), per_term)
        for position in posting[lo:hi]:
            if position in seen:
                continue
            seen.add(position)
            shared = 0.0
            for other in terms_of[position]:
                if other in weights:
                    shared += weights[other]
            score = shared * math.exp(-abs(key_of[position] - center) * decay)
            if score >= threshold:
                scored.append((-score, position))
    return scored


__all__ = ["latest_in_section", "related", "top_stories"]
