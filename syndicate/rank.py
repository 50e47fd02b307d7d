"""Rank stories: top stories, related stories and the latest stories of a section.

Every list is deterministic: ties go to the newest publication time, then to the smaller id,
and duplicates (same id, same canonical URL or same normalised headline) appear once.
"""

from __future__ import annotations

import heapq
import math
import threading
import weakref
from bisect import bisect_left, bisect_right
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
    """Remember the ids, canonical URLs and normalised headlines already listed."""

    def __init__(self, keys: set[tuple[str, str]] | None = None) -> None:
        self.keys: set[tuple[str, str]] = set(keys or ())

    def copy(self) -> _Dedupe:
        return _Dedupe(self.keys)

    def add(self, article: Article) -> None:
        self.keys.update(_dedupe_keys(article))

    def take(self, article: Article) -> bool:
        """Remember the article and return True, unless it duplicates one already taken."""
        return self._take(_dedupe_keys(article))

    def take_at(self, index: _Index, position: int) -> bool:
        return self._take(index.dedupe_keys(position))

    def is_new_at(self, index: _Index, position: int) -> bool:
        return self.keys.isdisjoint(index.dedupe_keys(position))

    def _take(self, keys: tuple[tuple[str, str], ...]) -> bool:
        if not self.keys.isdisjoint(keys):
            return False
        self.keys.update(keys)
        return True


def _dedupe_keys(article: Article) -> tuple[tuple[str, str], ...]:
    keys = [("id", article.id)]
    if article.canonical:
        keys.append(("url", article.canonical))
    title = text.normalise_title(article.title)
    if title:
        keys.append(("title", title))
    return tuple(keys)


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
    # Filled lazily: normalising every headline up front would cost more than ranking.
    keys_at: list[tuple[tuple[str, str], ...] | None]

    def dedupe_keys(self, position: int) -> tuple[tuple[str, str], ...]:
        keys = self.keys_at[position]
        if keys is None:
            keys = self.keys_at[position] = _dedupe_keys(self.articles[position])
        return keys

    def terms_for(self, article: Article) -> tuple[int, ...]:
        """Return the term ids of an article that is not in the index."""
        terms = {self.tag_term[tag] for tag in _tag_keys(article) if tag in self.tag_term}
        section = self.section_term.get(_section_key(article))
        if section is not None:
            terms.add(section)
        return tuple(sorted(terms))


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
        keys_at=[None] * size,
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

        score = (sum over shared tags of weight_tags * ln(articles / articles with the tag)
                 + weight_section if the section is shared)
                * 0.5 ** (|days between publications| / half_life_days)

    Tags on more than `max_tag_share` of the articles are ignored. The candidates are, for each
    of the article's tags and for its section, the `max_candidates_per_tag` stories nearest in
    time (none newer than the article unless `include_newer`); those scoring below `threshold`
    are dropped. Ties go to the newest, then the smaller id. Never the article itself, and
    never a duplicate id, canonical URL or headline. Settings come from `[related]`.
    """
    config = site.config.related
    count = config.count if count is None else count
    if count <= 0:
        return []
    index = _index(site)
    dedupe = _Dedupe()
    dedupe.add(article)
    chosen: list[Article] = []
    excluded: set[int] = set()
    own = index.pos_by_id.get(article.id)
    if own is not None:
        excluded.add(own)
    for related_id in article.related_ids:
        position = index.pos_by_id.get(related_id)
        if position is not None and len(chosen) < count and dedupe.take_at(index, position):
            chosen.append(index.articles[position])
            excluded.add(position)
    wanted = count - len(chosen)
    if wanted <= 0:
        return chosen
    query = _Query(index, article, own, config.max_candidates_per_tag, config.half_life_days,
                   config.include_newer, config.threshold, excluded, dedupe)
    picks = query.best(wanted)
    return chosen + [index.articles[position] for position in picks]


class _Query:
    """Score the candidates related to one article.

    The article's terms (tags and section) are read as streams, heaviest first, each limited
    to its `per_term` entries nearest in time. Only the `wanted` best matter, so a stream is
    cut to the distance beyond which no unseen candidate could still beat the current
    `wanted`-th best score (the MaxScore idea from search engines): a candidate first met at
    distance d scores at most (the weights of this and later streams, plus those of earlier
    streams whose window did not reach d) * 0.5 ** (d / half_life). The cut never changes
    the result, only how many candidates are scored.
    """

    def __init__(self, index: _Index, article: Article, own: int | None, per_term: int,
                 half_life_days: float, include_newer: bool, threshold: float,
                 excluded: set[int], dedupe: _Dedupe) -> None:
        self.index = index
        self.own = own
        if own is not None:
            self.terms = index.terms_of[own]
            self.center = index.key[own]
        else:
            self.terms = index.terms_for(article)
            self.center = -article.published.timestamp()
        self.per_term = per_term
        self.decay = math.log(2.0) / (half_life_days * _DAY)
        self.include_newer = include_newer
        self.threshold = threshold
        self.excluded = excluded
        self.dedupe = dedupe

    def best(self, wanted: int) -> list[int]:
        """Return the positions of the `wanted` best distinct candidates, best first."""
        scored, kth = self.score(wanted)
        picks = self.pick(scored, wanted)
        if kth is not None and (len(picks) < wanted or picks[-1][0] > -kth):
            # Duplicates among the best made the cut too eager: score without it.
            picks = self.pick(self.score(0)[0], wanted)
        return [position for _, position in picks]

    def pick(self, scored: list[tuple[float, int]], wanted: int) -> list[tuple[float, int]]:
        scored.sort()
        picks: list[tuple[float, int]] = []
        dedupe = self.dedupe.copy()
        for item in scored:
            if len(picks) >= wanted:
                break
            if dedupe.take_at(self.index, item[1]):
                picks.append(item)
        return picks

    def score(self, wanted: int) -> tuple[list[tuple[float, int]], float | None]:
        """Return (-score, position) of the candidates that may rank among the `wanted` best
        (every candidate at or above the threshold when `wanted` is 0), and the
        `wanted`-th best score when `wanted` candidates were found."""
        index = self.index
        weights = {term: index.weight[term] for term in self.terms}
        center, own = self.center, self.own
        streams = []
        for term in sorted(self.terms, key=lambda term: (-weights[term], term)):
            posting, keys = index.postings[term], index.posting_keys[term]
            at = bisect_left(posting, own) if own is not None else bisect_left(keys, center)
            start = 0 if self.include_newer else bisect_left(keys, center)
            lo, hi = _window(keys, center, at, own is not None, start, len(keys), self.per_term)
            # Every entry nearer than `cover` is inside the window.
            cover = min(center - keys[lo] if lo > start else math.inf,
                        keys[hi - 1] - center if hi < len(keys) else math.inf)
            streams.append((weights[term], posting, keys, at, lo, hi, cover))
        state = _Scan(self, weights, wanted)
        if wanted:
            # Score each stream's nearest few first: a good early bar makes the cut sharp.
            for _, posting, keys, at, lo, hi, _ in streams:
                near_lo, near_hi = _window(keys, center, at, own is not None, lo, hi, PROBE)
                state.consume(posting[near_lo:near_hi])
        remaining = sum(weights.values())
        reached: list[tuple[float, float]] = []
        for weight, posting, keys, _, lo, hi, cover in streams:
            reach = _reach(remaining, reached, state.bar, self.decay)
            remaining -= weight
            reached.append((cover, weight))
            if reach < 0:
                break
            if reach < math.inf:
                lo, hi = (bisect_left(keys, center - reach, lo, hi),
                          bisect_right(keys, center + reach, lo, hi))
            state.consume(posting[lo:hi])
        return state.scored, (state.best[0] if wanted and len(state.best) == wanted else None)


PROBE = 5


class _Scan:
    """The candidates scored so far for one query, and the bar a new one must reach."""

    def __init__(self, query: _Query, weights: dict[int, float], wanted: int) -> None:
        self.query = query
        self.weights = weights
        self.wanted = wanted
        self.seen = set(query.excluded)
        self.best: list[float] = []
        self.bar = query.threshold
        self.scored: list[tuple[float, int]] = []

    def consume(self, positions: list[int]) -> None:
        query, weights, seen = self.query, self.weights, self.seen
        index, center, decay = query.index, query.center, query.decay
        key_of, terms_of = index.key, index.terms_of
        for position in positions:
            if position in seen:
                continue
            seen.add(position)
            shared = 0.0
            for other in terms_of[position]:
                if other in weights:
                    shared += weights[other]
            score = shared * math.exp(-abs(key_of[position] - center) * decay)
            if score < self.bar or not query.dedupe.is_new_at(index, position):
                continue
            self.scored.append((-score, position))
            if self.wanted:
                if len(self.best) < self.wanted:
                    heapq.heappush(self.best, score)
                else:
                    heapq.heappushpop(self.best, score)
                if len(self.best) == self.wanted:
                    self.bar = max(query.threshold, self.best[0])


def _reach(weight: float, reached: list[tuple[float, float]], bar: float,
           decay: float) -> float:
    """Return the largest time distance at which an unseen candidate may still score `bar`,
    or -1 if none can.

    `weight` is what every unseen candidate may share; each (distance, weight) in `reached`
    is an earlier stream that already met every candidate nearer than that distance.
    """
    if bar <= 0:
        return math.inf
    farthest = -1.0
    nearer = 0.0
    for distance, extra in [*sorted(reached), (math.inf, 0.0)]:
        if weight >= bar:
            limit = math.log(weight / bar) / decay
            if limit >= nearer:
                farthest = max(farthest, min(limit, distance))
        weight += extra
        nearer = distance
    # A hair of slack so rounding can only widen the cut, never narrow it.
    return farthest * (1 + 1e-9) + 1e-6 if farthest >= 0 else -1.0


__all__ = ["latest_in_section", "related", "top_stories"]
