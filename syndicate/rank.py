"""Rank stories: top stories, related stories and the latest stories of a section.

Every list is deterministic: ties go to the newest publication time, then to the smaller id,
and duplicates (same id, same canonical URL or same normalised headline) appear once.
"""

from __future__ import annotations

import hashlib
import heapq
import math
from array import array
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from itertools import chain, repeat

from . import __version__, collector, text
from .config import RelatedConfig
from .identity import IdentityCache
from .model import Article
from .site import Site

_DAY = 86400.0


def top_stories(site: Site, *, now: datetime | None = None, window_hours: float | None = None,
                count: int | None = None, max_per_section: int | None = None,
                candidates: Sequence[Article] | None = None) -> list[Article]:
    """Return the stories to lead with, best first.

    The candidates are the non-draft `candidates` (default: every article) published in
    `(now - window_hours, now]`. Each scores

        (1 + priority_weight * priority) / (age_hours + 2) ** gravity

    (the Hacker News formula, with the editor's priority on top). Walking down the scores
    (ties: newest, then smaller id), a story is skipped when it duplicates one already chosen
    or when its section already has `max_per_section` stories; the first `count` remain.
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
    taken: dict[str, int] = {}
    chosen: list[Article] = []
    for *_, article in scored:
        if len(chosen) >= count:
            break
        section = _section_key(article)
        if taken.get(section, 0) < per_section and dedupe.take(_dedupe_keys(article)):
            taken[section] = taken.get(section, 0) + 1
            chosen.append(article)
    return chosen


def latest_in_section(site: Site, article: Article, *, count: int | None = None) -> list[Article]:
    """Return the newest `count` stories of the article's section (default `[latest] count`),
    newest first (ties: smaller id), without the article itself or its duplicates."""
    count = site.config.latest.count if count is None else count
    if count <= 0:
        return []
    index = _index(site)
    own = index.keys_of(article, index.position_of(article))
    return [index.articles[p] for p in index.latest(_section_key(article), own, count)]


def latest_places(site: Site, place: int) -> tuple[int, ...]:
    """Return latest_in_section(site, site.articles[place]) as places in site.articles.

    Every page of the site asks this of its own story: by place, the index needs no lookup
    by id, and the caller none back from the stories to their places."""
    count = site.config.latest.count
    if count <= 0:
        return ()
    index = _index(site)
    article = site.articles[place]
    to_place = index.site_places(site)
    if to_place is None:  # positions are places
        return index.latest(_section_key(article), index.dedupe_keys(place), count)
    return tuple(to_place[p] for p in index.latest(
        _section_key(article), index.keys_of(article, index.position_of(article)), count))


def related(site: Site, article: Article, *, count: int | None = None) -> list[Article]:
    """Return up to `count` stories related to `article` (default `[related] count`).

    First the editor's pinned `related_ids`, in order. Then the best-scoring candidates:

        score = (sum over shared tags of weight_tags * ln(articles / articles with the tag)
                 + weight_section if the section is shared)
                * 0.5 ** (|days between the publications| / half_life_days)

    Tags on more than `max_tag_share` of the articles are ignored. The candidates are, for
    each of the article's tags and for its section, the `max_candidates_per_tag` stories
    nearest in time (at equal distance the newer one), none newer than the article unless
    `include_newer`; those scoring below `threshold` are dropped. Ties go to the newest, then
    the smaller id. Never the article itself, never a duplicate id, canonical URL or headline.
    Settings come from `[related]`. The index behind it is built once per Site.
    """
    return _related(site, article, count, certify=False)[0]


def related_all(site: Site) -> list[list[Article]]:
    """Return related(site, article) for every article of the site, in the order of
    site.articles: the same lists, ranked all at once (syndicate.rankbatch), some 2.5-3
    times faster than one call per article on a big site."""
    from . import rankbatch  # numpy, imported only by the builds that rank every story

    index = _index(site)
    ranked = rankbatch.rank_every(site)
    # A list per story, all long-lived: with the collector on, making them set off
    # collections that walked the whole site again and again (0.6-0.9 s at 100,000).
    with collector.paused():
        lists = [[index.articles[p] for p in positions] for positions, _ in ranked]
        if index.site_places(site) is None:  # the site's stories, in its order
            return lists
        places = [index.position_of(article) for article in site.articles]
        return [lists[p] if p is not None else related(site, article)
                for article, p in zip(site.articles, places, strict=True)]


@dataclass(frozen=True)
class Certificate:
    """What keeps a related list right while the site changes a little (see
    syndicate.rankcache): the scores of the list's ranked (not pinned) stories, best first;
    `loser`, above the score of every other story, ranked or not; and, by term of the
    article (a term id of the index), how far away in time a story of that term must be
    added or removed before the list may change (-1 when no story of it can matter)."""

    scores: tuple[float, ...]
    loser: float
    radii: dict[int, float]


# The certificate of a list that ranked nothing (only pinned stories, or none asked for).
_NOTHING_RANKED = Certificate((), 0.0, {})


def related_positions(site: Site, article: Article,
                      certify: bool = True) -> tuple[tuple[int, ...], Certificate]:
    """Return related(site, article) as positions in the site's ranking index (see
    index_of), with its Certificate when `certify` (else an empty one; the certificate's
    margin costs the scan about 8% more work)."""
    articles, certificate = _related(site, article, None, certify)
    positions = _index(site).pos_by_id
    return tuple(positions[a.id] for a in articles), certificate


def _related(site: Site, article: Article, count: int | None,
             certify: bool) -> tuple[list[Article], Certificate]:
    config = site.config.related
    count = config.count if count is None else count
    if count <= 0:
        return [], _NOTHING_RANKED
    index = _index(site)
    known = index.pos_by_id.get(article.id)
    excluded = {known} if known is not None else set()
    own = index.position_of(article)
    dedupe = _Dedupe(index.keys_of(article, own))
    chosen: list[Article] = []
    for related_id in article.related_ids:
        position = index.pos_by_id.get(related_id)
        if position is not None and len(chosen) < count \
                and dedupe.take(index.dedupe_keys(position)):
            chosen.append(index.articles[position])
            excluded.add(position)
    if len(chosen) < count:
        query = _Query(index, config, article, own, excluded, dedupe, certify)
        picks, certificate = query.best(count - len(chosen))
        return chosen + [index.articles[p] for p in picks], certificate
    return chosen, _NOTHING_RANKED


# -- Duplicates --------------------------------------------------------------------------------

DedupeKeys = tuple[tuple[str, str], ...]


def _dedupe_keys(article: Article) -> DedupeKeys:
    keys = [("id", article.id)]
    if article.canonical:
        keys.append(("url", article.canonical))
    title = title_key(article)
    if title:
        keys.append(("title", title))
    return tuple(keys)


def title_key(article: Article) -> str:
    """Return the article's normalised headline, its duplicate key ("" for none)."""
    # Parsed records come with the key made; articles made some other way may not.
    return article.title_key or text.normalise_title(article.title)


class _Dedupe:
    """The ids, canonical URLs and normalised headlines already listed."""

    def __init__(self, keys: Iterable[tuple[str, str]] = ()) -> None:
        self.keys = set(keys)

    def copy(self) -> _Dedupe:
        return _Dedupe(self.keys)

    def is_new(self, keys: DedupeKeys) -> bool:
        return self.keys.isdisjoint(keys)

    def take(self, keys: DedupeKeys) -> bool:
        """Remember the keys and return True, unless they meet one already taken."""
        if not self.keys.isdisjoint(keys):
            return False
        self.keys.update(keys)
        return True


def _section_key(article: Article) -> str:
    return article.section_slug or text.slugify(article.section) or article.section.casefold()


def _tag_keys(article: Article) -> Sequence[str]:
    if len(article.tag_slugs) == len(article.tags):
        return article.tag_slugs
    return [text.slug_or_hash(tag, tag.casefold()) for tag in article.tags]


# -- The index ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class _SectionHead:
    """A section's newest distinct stories (positions) and their duplicate keys. A story
    whose keys meet none of `keys` is none of them and duplicates none of them, so the walk
    that makes its own latest list takes the same stories and skips the same ones (each a
    duplicate of a story taken before it): its list is exactly `positions`."""

    positions: tuple[int, ...]
    keys: frozenset[tuple[str, str]]


@dataclass
class _Index:
    """The articles of one Site in newest-first order (a story's place is its position),
    and for every term (a tag that is not too common, or a section) its weight and its
    stories, by position."""

    articles: list[Article]
    pos_by_id: dict[str, int]
    key: Sequence[float]               # -timestamp by position, so ascending
    terms_of: list[tuple[int, ...]]    # term ids by position, ascending
    weight: list[float]                # by term id
    postings: list[list[int]]          # by term id: positions, ascending
    tag_term: dict[str, int]
    section_term: dict[str, int]
    by_section: dict[str, tuple[int, ...]]  # by section: positions, newest first
    # Duplicate keys are made on first use: every build needs only some of them.
    keys_at: list[DedupeKeys | None] = field(default_factory=list)
    heads: dict[tuple[str, int], _SectionHead] = field(default_factory=dict)
    to_place: list[int] | None = None  # see site_places

    # Made on first use: only related() one story at a time needs these (a build that ranks
    # every story at once, syndicate.rankbatch, does not).
    @cached_property
    def posting_keys(self) -> list[Sequence[float]]:
        """By term id: the keys of the term's stories, in the posting list's order."""
        with collector.paused():
            return [array("d", map(self.key.__getitem__, posting)) for posting in self.postings]

    @cached_property
    def members(self) -> list[set[int]]:
        """By term id: the term's stories (positions) as a set."""
        with collector.paused():
            return [set(posting) for posting in self.postings]

    def dedupe_keys(self, position: int) -> DedupeKeys:
        keys = self.keys_at[position]
        if keys is None:
            keys = self.keys_at[position] = _dedupe_keys(self.articles[position])
        return keys

    def position_of(self, article: Article) -> int | None:
        """Return the article's position, or None when it is not in the index or is another
        version of an indexed story (a preview, say), which is then ranked as it is."""
        known = self.pos_by_id.get(article.id)
        if known is None or self.articles[known] is article or self.articles[known] == article:
            return known
        return None

    def keys_of(self, article: Article, position: int | None) -> DedupeKeys:
        """Return the article's duplicate keys: cached when it is the story at `position`."""
        return self.dedupe_keys(position) if position is not None else _dedupe_keys(article)

    def newest_in_section(self, section: str, count: int, dedupe: _Dedupe) -> tuple[int, ...]:
        """Return the positions of the section's newest `count` stories that `dedupe` takes,
        newest first."""
        chosen: list[int] = []
        for position in self.by_section.get(section, ()):
            if len(chosen) >= count:
                break
            if dedupe.take(self.dedupe_keys(position)):
                chosen.append(position)
        return tuple(chosen)

    def latest(self, section: str, own: DedupeKeys, count: int) -> tuple[int, ...]:
        """Return the positions of the section's newest `count` stories that are not the
        story with the keys `own`, nor duplicates of it or of each other."""
        # Most stories are not among their section's newest, nor duplicates of them: for those
        # the list is the section's head, made once.
        head = self.section_head(section, count)
        if head.keys.isdisjoint(own):
            return head.positions
        return self.newest_in_section(section, count, _Dedupe(own))

    def site_places(self, site: Site) -> list[int] | None:
        """Return the place in site.articles of the story at each position, or None when the
        index holds the site's articles in the site's order (as it does for a Site made by
        build_site, which sorts them newest first and drops drafts)."""
        if self.to_place is None:
            if len(self.articles) == len(site.articles) and all(
                    a is b for a, b in zip(self.articles, site.articles, strict=True)):
                self.to_place = []
            else:
                place_of = {id(a): number for number, a in enumerate(site.articles)}
                self.to_place = [place_of[id(a)] for a in self.articles]
        return self.to_place or None

    def section_head(self, section: str, count: int) -> _SectionHead:
        """Return the section's newest `count` distinct stories (made once per section and
        count)."""
        head = self.heads.get((section, count))
        if head is None:
            dedupe = _Dedupe()
            positions = self.newest_in_section(section, count, dedupe)
            head = self.heads[(section, count)] = _SectionHead(positions, frozenset(dedupe.keys))
        return head

    def terms_for(self, article: Article) -> tuple[int, ...]:
        """Return the term ids of a story that is not in the index."""
        terms = {self.tag_term[tag] for tag in _tag_keys(article) if tag in self.tag_term}
        section = self.section_term.get(_section_key(article))
        if section is not None:
            terms.add(section)
        return tuple(sorted(terms))


def _build_index(site: Site) -> _Index:
    # The index is a few containers per article, all long-lived: a collection while they
    # are made only walks them again and again (it doubles the build time at 100,000).
    with collector.paused():
        return _make_index(site)


def _make_index(site: Site) -> _Index:
    config = site.config.related
    newest_first = sorted((-a.published.timestamp(), a.id, number, a)
                          for number, a in enumerate(site.articles) if not a.draft)
    articles: list[Article] = []
    keys: list[float] = []
    pos_by_id: dict[str, int] = {}
    for key, article_id, _, article in newest_first:
        if article_id not in pos_by_id:
            pos_by_id[article_id] = len(articles)
            articles.append(article)
            keys.append(key)
    size = len(articles)
    tags_of = [set(_tag_keys(a)) for a in articles]
    sections = [_section_key(a) for a in articles]
    frequency = Counter(chain.from_iterable(tags_of))
    usable = sorted(tag for tag, df in frequency.items() if df <= config.max_tag_share * size)
    tag_term = {tag: number for number, tag in enumerate(usable)}
    weight = [config.weight_tags * math.log(size / frequency[tag]) for tag in usable]
    section_term: dict[str, int] = {}
    for section in sorted(set(sections)):
        section_term[section] = len(weight)
        weight.append(config.weight_section)
    postings: list[list[int]] = [[] for _ in weight]
    terms_of: list[tuple[int, ...]] = []
    by_section: dict[str, list[int]] = {}
    for position, (tags, section) in enumerate(zip(tags_of, sections, strict=True)):
        terms = sorted([tag_term[t] for t in tags if t in tag_term])
        terms.append(section_term[section])  # Section terms come after every tag term.
        terms_of.append(tuple(terms))
        for term in terms:
            postings[term].append(position)
        by_section.setdefault(section, []).append(position)
    return _Index(
        articles=articles, pos_by_id=pos_by_id, key=array("d", keys), terms_of=terms_of,
        weight=weight, postings=postings,
        tag_term=tag_term,
        section_term=section_term,
        by_section={s: tuple(members) for s, members in by_section.items()},
        keys_at=[None] * size,
    )


# One index per live Site, built on first use.
_INDEXES: IdentityCache[_Index] = IdentityCache()


def _index(site: Site) -> _Index:
    return _INDEXES.get(site, lambda: _build_index(site))


def index_of(site: Site) -> _Index:
    """Return the site's ranking index (for syndicate.rankcache, which keeps the lists)."""
    return _index(site)


def release_index(site: Site) -> None:
    """Let go of the site's ranking index: a build calls this once its plans hold every
    related list (at 100,000 stories the index is some 80 MB, until then kept to the end)."""
    _INDEXES.forget(site)


def settings_digest(site: Site) -> str:
    """Return a digest of the package version and the [related] settings."""
    return hashlib.sha256(f"{__version__}\0{site.config.related!r}\0".encode()).hexdigest()


def story_digests(site: Site) -> list[bytes]:
    """Return, for each article in the site's order, a digest of what `related` reads of
    it: what places it, what it shares with others and what makes it a duplicate."""
    return [hashlib.blake2b(repr((
        article.id, article.published.timestamp(), article.title, article.canonical,
        _section_key(article), tuple(_tag_keys(article)), article.related_ids,
    )).encode("utf-8", "surrogatepass"), digest_size=16).digest() for article in site.articles]


def inputs_digest(site: Site, stories: list[bytes] | None = None) -> str:
    """Return a digest of everything `related` reads to rank the site's own articles: the
    settings and the story digests (`stories`, made if not given). Two sites with the same
    digest give each of their articles the same related stories, so a build that changed
    no such thing (a body, a template) may keep the lists the last one made."""
    hashed = hashlib.sha256(settings_digest(site).encode())
    hashed.update(b"".join(story_digests(site) if stories is None else stories))
    return hashed.hexdigest()


def term_names(site: Site) -> list[str]:
    """Return the name of each term of the site's ranking index, by term id: "t:" and the
    tag's key, or "s:" and the section's."""
    index = _index(site)
    names = [""] * len(index.weight)
    for tag, term in index.tag_term.items():
        names[term] = "t:" + tag
    for section, term in index.section_term.items():
        names[term] = "s:" + section
    return names


def prepare(site: Site) -> None:
    """Build the site's ranking index now: before worker processes fork, so that they share
    it instead of each building its own."""
    _index(site)


def prepare_queries(site: Site) -> None:
    """Build the site's ranking index and what related() one story at a time reads of it
    (made on first use otherwise), before worker processes fork to rank stories."""
    index = _index(site)
    index.posting_keys  # noqa: B018 - made now, to be shared
    index.members  # noqa: B018


# -- Related stories ---------------------------------------------------------------------------

class _Query:
    """Find the best candidates related to one story without scoring them all.

    Each term (tag or section) of the story is a stream of stories ordered by time, limited
    to its `max_candidates_per_tag` nearest; streams are read heaviest (rarest) first. Only
    the `wanted` best matter, and a story met at distance d scores at most (the weight of
    every term it may share) * 0.5 ** (d / half_life), so each stream is read in two parts:

    1. nearest first, scoring every story, until the stream's own term could no longer lift
       a story to the bar (the `wanted`-th best score so far, or the threshold);
    2. farther out, up to the distance where even a story sharing every remaining term would
       miss the bar (the MaxScore bound from search engines), only the stories that share
       another term: found with set intersections, which is where the time goes.

    Neither part changes the result, only how many stories are scored. Duplicates among the
    best could, so when they show up the candidates are scored again without the bar.
    """

    def __init__(self, index: _Index, config: RelatedConfig, article: Article,
                 own: int | None, excluded: set[int], dedupe: _Dedupe,
                 certify: bool) -> None:
        self.index = index
        self.own = own
        self.terms = index.terms_of[own] if own is not None else index.terms_for(article)
        self.center = index.key[own] if own is not None else -article.published.timestamp()
        self.weights = {term: index.weight[term] for term in self.terms}
        self.per_term = config.max_candidates_per_tag
        self.decay = math.log(2.0) / (config.half_life_days * _DAY)
        self.include_newer = config.include_newer
        self.threshold = config.threshold
        self.excluded = excluded
        self.dedupe = dedupe
        self.lower = 1 - MARGIN if certify else 1.0

    def best(self, wanted: int) -> tuple[list[int], Certificate]:
        """Return the positions of the `wanted` best distinct candidates, best first, and
        their Certificate."""
        scan = self.scan(wanted)
        picks, loser = self.pick(scan.scored, wanted)
        if len(scan.best) == wanted and (len(picks) < wanted or picks[-1][0] > -scan.best[0]):
            # Duplicates among the best let the bar rise too fast: score without it.
            scan = self.scan(0)
            picks, loser = self.pick(scan.scored, wanted)
        certificate = Certificate(tuple(-score for score, _ in picks),
                                  max(loser, scan.unscored), scan.radii)
        return [position for _, position in picks], certificate

    def pick(self, scored: list[tuple[float, int]],
             wanted: int) -> tuple[list[tuple[float, int]], float]:
        """Return the `wanted` best distinct candidates at or above the threshold, and the
        best score of the others (0 if none)."""
        scored.sort()
        return pick(scored, wanted, self.threshold, self.dedupe.copy(), self.index.dedupe_keys)

    def scan(self, wanted: int) -> _Scan:
        """Score the candidates that may rank among the `wanted` best (every candidate at or
        above the threshold when `wanted` is 0), and, to certify, those within MARGIN below that
        bar (so that a list's Certificate has room for the weights to drift)."""
        index, center, own, decay = self.index, self.center, self.own, self.decay
        terms_of, key_of = index.terms_of, index.key
        weights, exp, fsum = self.weights, math.exp, math.fsum
        weight_of = weights.get
        seen = set(self.excluded)
        scored: list[tuple[float, int]] = []
        best: list[float] = []
        radii = dict.fromkeys(self.terms, -1.0)
        bar = self.threshold
        lower = self.lower
        cut = bar * lower

        def score(position: int) -> None:
            nonlocal bar, cut
            # fsum is exact, so the order of the terms cannot break a tie differently.
            shared = fsum(map(weight_of, terms_of[position], _ZEROS))
            value = shared * exp(-abs(key_of[position] - center) * decay)
            if value < cut:
                return
            scored.append((-value, position))
            if value < bar:
                return
            if len(best) < wanted:
                heapq.heappush(best, value)
                if len(best) == wanted:
                    bar = best[0]
                    cut = bar * lower
            elif wanted and value > bar:
                heapq.heapreplace(best, value)
                bar = best[0]
                cut = bar * lower

        order = sorted(self.terms, key=lambda term: (-weights[term], term))
        remaining = sum(weights.values())
        done: list[tuple[float, float]] = []  # (cover, weight) of the streams read so far
        per_term, has_self, inf = self.per_term, own is not None, math.inf
        for number, term in enumerate(order):
            weight = weights[term]
            posting, keys = index.postings[term], index.posting_keys[term]
            at = bisect_left(posting, own) if has_self else bisect_left(keys, center)
            start = 0 if self.include_newer else bisect_left(keys, center)
            end = len(keys)
            stream_bar = bar
            reach = _reach(remaining, done, cut, decay)
            if reach < 0:
                break
            # The stories within reach, or the per_term nearest if there are more. A story of
            # this term that stays out of [lo, hi) is beyond reach (it cannot make the bar)
            # or, if the window was cut, maybe no candidate here: then later streams must
            # count this term's weight for stories farther than `cover`.
            lo, hi = start, end
            if reach < inf:
                lo = bisect_left(keys, center - reach, start, at)
                hi = bisect_right(keys, center + reach, at, end)
            cover, radii[term] = inf, reach
            if hi - lo > per_term + has_self:
                lo, hi = _window(keys, center, at, has_self, lo, hi, per_term)
                cover = min(center - keys[lo] if lo > start else inf,
                            keys[hi - 1] - center if hi < end else inf)
                # A story added or removed farther out than the window's edges leaves the
                # window as it is.
                radii[term] = max(center - keys[lo], keys[hi - 1] - center)
            if hi - lo <= _FEW:
                for position in posting[lo:hi]:
                    if position not in seen:
                        seen.add(position)
                        score(position)
                remaining -= weight
                done.append((cover, weight))
                continue
            # 1. Nearest first (the newer side on ties), while this term alone could still
            # lift a story to the bar.
            left, right = at - 1, at + has_self
            limit_bar, limit = math.nan, 0.0
            while True:
                if limit_bar != cut:
                    limit_bar, limit = cut, _solo_limit(weight, cut, decay)
                to_left = center - keys[left] if left >= lo else inf
                to_right = keys[right] - center if right < hi else inf
                if to_left <= to_right:
                    if to_left > limit or to_left == inf:
                        break
                    position = posting[left]
                    left -= 1
                else:
                    if to_right > limit:
                        break
                    position = posting[right]
                    right += 1
                if position not in seen:
                    seen.add(position)
                    score(position)
            if bar != stream_bar:
                reach = _reach(remaining, done, cut, decay)
            remaining -= weight
            if reach < 0:
                break
            done.append((cover, weight))
            far_left = bisect_left(keys, center - reach, lo, left + 1)
            far_right = bisect_right(keys, center + reach, right, hi)
            if far_left > left and far_right <= right:
                continue
            # 2. Farther out a story needs another term too: a later one, or an earlier one
            # whose stream may not have met it. With the partners heaviest first, a story
            # whose heaviest shared partner is the k-th shares at most `most`, so it can only
            # pass within `far` of here: set intersections (in C) find the stories that share
            # the k-th partner out to there.
            partners = [(weights[order[n]], index.members[order[n]])
                        for n, (near, _) in enumerate(done[:-1]) if near <= reach]
            partners += [(weights[t], index.members[t]) for t in order[number + 1:]]
            most = weight + sum(w for w, _ in partners)
            hits: set[int] = set()
            for partner_weight, members in partners:
                far = min(reach, _solo_limit(most, cut, decay))
                most -= partner_weight
                if far < 0:
                    break
                far_left = bisect_left(keys, center - far, lo, left + 1)
                far_right = bisect_right(keys, center + far, right, hi)
                if far_left <= left:
                    hits.update(members.intersection(posting[far_left:left + 1]))
                if right < far_right:
                    hits.update(members.intersection(posting[right:far_right]))
            for position in sorted(hits):
                if position not in seen:
                    seen.add(position)
                    score(position)
        # Every story not scored scores below the cut it was left out by, and cuts only rise.
        return _Scan(scored, best, radii, cut)


def pick(scored: list[tuple[float, int]], wanted: int, threshold: float, dedupe: _Dedupe,
         keys_of: Callable[[int], DedupeKeys]) -> tuple[list[tuple[float, int]], float]:
    """Return the `wanted` best of the candidates `scored` (sorted (-score, position)) that
    score at least `threshold` and that `dedupe` takes (their keys: `keys_of` a position),
    and the best score of the others (0 if none): the list related() shows, and the bound
    its Certificate keeps."""
    picks: list[tuple[float, int]] = []
    loser = 0.0
    for item in scored:
        if len(picks) >= wanted or -item[0] < threshold:
            loser = max(loser, -item[0])
            break
        if dedupe.take(keys_of(item[1])):
            picks.append(item)
        else:
            loser = max(loser, -item[0])
    return picks, loser


@dataclass
class _Scan:
    """What _Query.scan found: the scored candidates as (-score, position), a heap of the
    `wanted` best scores, the radii of the Certificate, and a bound on every score not
    scored."""

    scored: list[tuple[float, int]]
    best: list[float]
    radii: dict[int, float]
    unscored: float


# A scan scores the candidates this far below the bar too.
MARGIN = 1e-3
_ZEROS = repeat(0.0)  # The default weight of a term the story does not have.

# Streams with this few stories in reach are scored whole.
_FEW = 12


def _solo_limit(weight: float, bar: float, decay: float) -> float:
    """Return the distance beyond which `weight` * 0.5 ** (d / half_life) < bar."""
    if bar <= 0:
        return math.inf
    weight *= _SLACK
    if weight < bar:
        return -1.0
    return _widen(_distance(weight / bar, decay))


def _distance(ratio: float, decay: float) -> float:
    """Return the distance over which the recency factor falls by `ratio` (at least 1)."""
    return math.log(ratio) / decay if decay > 0 else math.inf  # An infinite half-life.


# Weights and distances get a hair of slack, so that rounding (sums taken in another order,
# logarithms) can only make a cut wider, never narrower.
_SLACK = 1 + 1e-9


def _widen(distance: float) -> float:
    return distance * _SLACK + 1e-6


def _reach(weight: float, done: list[tuple[float, float]], bar: float, decay: float) -> float:
    """Return the largest distance at which an unseen candidate may still reach `bar`, or -1.

    Every unseen candidate may share terms worth `weight`; an earlier stream (cover, weight)
    met every story of its term nearer than its cover, so its weight counts from there on.
    """
    if bar <= 0:
        return math.inf
    weight *= _SLACK
    if not done:
        return _widen(_distance(weight / bar, decay)) if weight >= bar else -1.0
    farthest = -1.0
    nearer = 0.0
    for cover, extra in [*sorted(done), (math.inf, 0.0)]:
        if weight >= bar:
            limit = _distance(weight / bar, decay)
            if limit >= nearer:
                farthest = max(farthest, min(limit, cover))
        weight += extra * _SLACK
        nearer = cover
    return _widen(farthest) if farthest >= 0 else -1.0


def _window(keys: Sequence[float], center: float, at: int, has_self: bool, start: int, stop: int,
            size: int) -> tuple[int, int]:
    """Return [lo, hi): the `size` entries of keys[start:stop] nearest to `center` (the
    smaller key on ties), plus the story itself at `at` when `has_self` (else `at` is where
    `center` would go)."""
    span = size + has_self
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


__all__ = ["Certificate", "index_of", "inputs_digest", "latest_in_section", "pick", "prepare",
           "prepare_queries", "related", "related_all", "related_positions",
           "settings_digest", "story_digests", "term_names", "title_key", "top_stories"]
