"""Carry every article's related stories from one build to the next.

Ranking all 100,000 stories of a big site costs about 6 s of CPU, and a build that adds,
edits or removes a story changes few of the lists. Each list is kept with its
Certificate (syndicate.rank): the scores of its stories, a bound on every other story's
score, and for each of the article's terms how far away in time a change must be to leave
the list alone. A list is ranked again when

- its article changed (in anything `related` reads), or pins a story that changed;
- a changed story (added, removed, or its old or new version) shares a term with the
  article and lies within that term's radius of it;
- the term weights (`ln(articles / articles with the tag)`, which move with every story
  added) moved enough to reorder the list or let another story in. Every score of the
  article moves by a factor between the smallest and the largest ratio of new to old
  weight among its terms; the products of those factors since the list was ranked bound
  how far its scores can have moved, and the list holds while its scores, so bounded,
  keep their order, stay above the threshold and above every other story's.

Anything else keeps its list, which is then exactly what ranking it again would give (the
property tests compare the two after random changes). More than MAX_CHANGED_SHARE of the
stories changed, a tag became too common or rare enough to count, or a state that does not
read back whole: everything is ranked again.
"""

from __future__ import annotations

import marshal
import math
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import accumulate, chain, pairwise
from operator import sub

from . import rank
from .site import Site

VERSION = 1
MAX_CHANGED_SHARE = 0.02
# With this share of the lists to rank, or more, all are ranked at once (syndicate.rankbatch:
# in one process, faster than one query per story over every core); else one by one.
BATCH_SHARE = 0.5
# Relative slack on every bound, far above the rounding of a score (a few ulps) and far
# below rank.MARGIN.
_SLACK = 1e-9
_DIGEST = 16

# A fresh ranking of one article: (places in site.articles, scores, loser, radius by term id)
Ranked = tuple[tuple[int, ...], tuple[float, ...], float, dict[int, float]]


def _rank_every(site: Site) -> list[tuple[tuple[int, ...], rank.Certificate]]:
    from . import rankbatch  # numpy, imported only by the builds that rank many stories

    return rankbatch.rank_every(site, certify=True)


def _ranked(places: tuple[int, ...], certificate: rank.Certificate) -> Ranked:
    return places, certificate.scores, certificate.loser, certificate.radii


def rank_one(site: Site, place: int) -> Ranked:
    """Rank the article at `place` (in a worker, say) with its certificate."""
    return _ranked(*rank.related_positions(site, site.articles[place]))


@dataclass
class State:
    """Every article's related list and what keeps it, as one build left them; by place in
    that build's site.articles, with per-story arrays flattened.

    A list ranked when the weights were w holds at weights w' while, with `low` and `high`
    the products of the least and greatest ratio w'/w over the article's terms,
    low / high > spread, low >= least and high < most (see _needs)."""

    ids: list[str]
    digests: bytes                 # _DIGEST bytes per story: rank.story_digests
    times: array                   # publication timestamp per story
    term_names: list[str]          # rank.term_names of that build
    weights: array                 # by term: the weight then
    max_radius: array              # by term: the largest radius any story gave it
    term_start: array              # per story + 1: where its terms start in the two below
    story_terms: array             # term numbers
    radii: array
    list_start: array              # per story + 1: where its list starts below
    lists: array                   # places
    spread: array                  # per story, the three needs of _needs
    least: array
    most: array
    low: array                     # per story: the drift since the list was ranked
    high: array

    def terms_of(self, place: int) -> array:
        return self.story_terms[self.term_start[place]:self.term_start[place + 1]]


_ARRAY_CODES = "dddIIdIIddddd"  # times, then weights to high


def encode(state: State) -> bytes:
    # marshal version 2 writes no back-references, so equal states give equal bytes.
    arrays = (state.times, state.weights, state.max_radius, state.term_start, state.story_terms,
              state.radii, state.list_start, state.lists, state.spread, state.least,
              state.most, state.low, state.high)
    return marshal.dumps((VERSION, state.ids, state.digests, state.term_names,
                          *(a.tobytes() for a in arrays)), 2)


def decode(data: bytes | None) -> State | None:
    """Return the state in `data`, or None if there is none or it does not read back whole
    (it came from this build's own cache, checked by digest, but is never trusted)."""
    if not data:
        return None
    try:
        fields = marshal.loads(data)
        if not isinstance(fields, tuple) or len(fields) != 4 + len(_ARRAY_CODES) \
                or fields[0] != VERSION:
            return None
        ids, digests, names = fields[1:4]
        if not (isinstance(ids, list) and all(type(i) is str for i in ids)
                and isinstance(digests, bytes) and isinstance(names, list)
                and all(type(n) is str for n in names)):
            return None
        arrays = [_array(code, raw) for code, raw in zip(_ARRAY_CODES, fields[4:], strict=True)]
        state = State(ids, digests, arrays[0], names, *arrays[1:])
        count, terms = len(ids), len(names)
        if not (len(digests) == count * _DIGEST
                and all(len(a) == count for a in (state.times, state.spread, state.least,
                                                   state.most, state.low, state.high))
                and len(state.weights) == len(state.max_radius) == terms
                and len(state.term_start) == len(state.list_start) == count + 1
                and _bounds(state.term_start, len(state.story_terms))
                and len(state.radii) == len(state.story_terms)
                and _bounds(state.list_start, len(state.lists))
                and all(term < terms for term in state.story_terms)
                and all(place < count for place in state.lists)):
            return None
        return state
    except (ValueError, TypeError, EOFError, IndexError):
        return None


def _array(code: str, raw: object) -> array:
    if not isinstance(raw, bytes):
        raise TypeError("not bytes")
    made = array(code)
    made.frombytes(raw)
    return made


def _bounds(starts: array, size: int) -> bool:
    return starts[0] == 0 and starts[-1] == size and all(
        a <= b for a, b in pairwise(starts))


def rank_all(site: Site, stories: list[bytes], previous: bytes | None,
             map_all: Callable[[Callable[[int], Ranked], int], list[Ranked]]) -> bytes:
    """Return the encoded State of every article of `site` (whose rank.story_digests are
    `stories`): lists carried over from the `previous` state where they cannot have
    changed, the others ranked (over map_all)."""
    if rank.index_of(site).site_places(site) is not None:
        raise ValueError("the ranking index is not in the site's order")
    names = rank.term_names(site)
    old = decode(previous)
    carried = _carry_over(old, site, stories, names) if old is not None else {}
    fresh = [place for place in range(len(site.articles)) if place not in carried]
    if len(fresh) >= BATCH_SHARE * len(site.articles):
        ranked = {place: _ranked(*ranking)
                  for place, ranking in enumerate(_rank_every(site)) if place not in carried}
    else:
        rank.prepare_queries(site)
        ranked = dict(zip(fresh, map_all(lambda number: rank_one(site, fresh[number]),
                                         len(fresh)), strict=True))
    return encode(_new_state(site, stories, names, old, carried, ranked))


def lists(data: bytes) -> list[tuple[int, ...]]:
    """Return the related lists (places in site.articles) of an encoded State."""
    state = decode(data)
    if state is None:
        raise ValueError("the related lists do not read back")
    starts, places = state.list_start, state.lists
    return [tuple(places[starts[p]:starts[p + 1]]) for p in range(len(state.ids))]


# A kept list: (old place, low, high): its drift since it was ranked, at the new weights.
Carried = tuple[int, float, float]


def _carry_over(old: State, site: Site, stories: list[bytes],
                names: list[str]) -> dict[int, Carried]:
    """Return, by new place, the lists of `old` that still hold (see the module doc)."""
    if old.term_names != names:
        return {}  # a tag crossed max_tag_share, or a section came or went
    articles = site.articles
    old_place = {story: place for place, story in enumerate(old.ids)}
    changed_ids: set[str] = set(old_place) - {a.id for a in articles}
    changed_old = [old_place[story] for story in changed_ids]
    changed_new: list[int] = []
    digests = old.digests
    for place, article in enumerate(articles):
        before = old_place.get(article.id)
        if before is None or digests[before * _DIGEST:(before + 1) * _DIGEST] != stories[place]:
            changed_new.append(place)
            changed_ids.add(article.id)
            if before is not None:
                changed_old.append(before)
    if len(changed_ids) > max(1, len(articles) * MAX_CHANGED_SHARE):
        return {}
    index = rank.index_of(site)
    invalid = set(changed_new)
    # Every version of a changed story, old and new: (publication time, terms).
    versions = [(old.times[place], old.terms_of(place)) for place in changed_old]
    versions += [(articles[place].published.timestamp(), index.terms_of[place])
                 for place in changed_new]
    moved_terms: set[int] = set()
    for time, terms in versions:
        center = -time
        moved_terms.update(terms)
        for term in terms:
            keys, posting = index.posting_keys[term], index.postings[term]
            reach = old.max_radius[term]
            for at in range(bisect_left(keys, center - reach), bisect_right(keys, center + reach)):
                place = posting[at]
                if place not in invalid and abs(keys[at] - center) <= _radius(
                        old, old_place[articles[place].id], term):
                    invalid.add(place)
    changed_places = set(changed_old)
    for place, article in enumerate(articles):
        if article.related_ids and not changed_ids.isdisjoint(article.related_ids):
            invalid.add(place)
    return _drifted(old, site, old_place, invalid, moved_terms, changed_places)


def _radius(old: State, place: int, term: int) -> float:
    for at in range(old.term_start[place], old.term_start[place + 1]):
        if old.story_terms[at] == term:
            return old.radii[at]
    return -1.0


def _drifted(old: State, site: Site, old_place: dict[str, int], invalid: set[int],
             moved_terms: set[int], changed_places: set[int]) -> dict[int, Carried]:
    """Return the lists not yet ruled out whose drift, with this build's weights, keeps
    them (see State)."""
    index = rank.index_of(site)
    ratio = [1.0 if new == before else new / before if before > 0 else math.nan
             for new, before in zip(index.weight, old.weights, strict=True)]
    if any(not r > 0 for r in ratio):  # a weight was or became 0: no ratio bounds it
        return {}
    # The terms of changed stories moved most (their counts changed); the others only by
    # the change in the number of stories, and one bound serves every story that has none
    # of the former.
    calm = [r for term, r in enumerate(ratio) if term not in moved_terms] or [1.0]
    calm_least, calm_most = min(calm), max(calm)
    moved_places: set[int] = set()
    for term in moved_terms:
        moved_places.update(index.postings[term])
    shown, starts = old.lists, old.list_start
    carried: dict[int, Carried] = {}
    for place, article in enumerate(site.articles):
        if place in invalid:
            continue
        before = old_place[article.id]
        if place in moved_places:
            factors = [ratio[term] for term in index.terms_of[place]] or [1.0]
            least, most = min(factors), max(factors)
        else:
            least, most = calm_least, calm_most
        low = old.low[before] * least * (1 - _SLACK)
        high = old.high[before] * most * (1 + _SLACK)
        if low / high > old.spread[before] and low >= old.least[before] \
                and high < old.most[before] \
                and changed_places.isdisjoint(shown[starts[before]:starts[before + 1]]):
            carried[place] = (before, low, high)
    return carried


def _needs(scores: Sequence[float], loser: float, wanted: int,
           threshold: float) -> tuple[float, float, float]:
    """Return (spread, least, most): a list ranked with `scores` (its ranked part, best
    first, `wanted` asked for) and `loser` holds while its scores, moved by factors between
    low and high, keep their order (s[i] * low > s[i + 1] * high), the last stays at or
    above the threshold (s[-1] * low >= threshold) and above every other story
    (loser * high < s[-1] * low when the list is full, < threshold when it is short)."""
    if wanted <= 0:
        return 0.0, 0.0, math.inf
    if scores and scores[-1] <= 0:
        return math.inf, math.inf, 0.0  # never holds: rank it again
    spread = max((after / first for first, after in pairwise(scores)), default=0.0)
    least = threshold / scores[-1] if scores else 0.0
    if scores and len(scores) >= wanted:
        return max(spread, loser / scores[-1]), least, math.inf
    if loser > 0:
        return spread, least, threshold / loser
    return spread, least, (math.inf if threshold > 0 else 0.0)


def _new_state(site: Site, stories: list[bytes], names: list[str], old: State | None,
               carried: dict[int, Carried], ranked: dict[int, Ranked]) -> State:
    index = rank.index_of(site)
    config = site.config.related
    articles = site.articles
    count = len(articles)
    # Carried lists first, copied in runs (most of a big site's lists are carried, and
    # its stories keep their order), then the fresh ones.
    radii_parts: list[Sequence[float]] = []
    list_parts: list[Sequence[int]] = []
    spread, least, most, low, high = (array("d", [0.0]) * count for _ in range(5))
    needs = (spread, least, most)
    lengths = array("I", [0]) * count  # of each list
    max_radius = array("d", [-1.0] * len(names))
    fresh_radii: dict[int, list[float]] = {}
    for place, (*_, by_term) in ranked.items():
        fresh_radii[place] = [by_term.get(term, -1.0) for term in index.terms_of[place]]
    runs = _runs(carried, count) if old is not None else []
    if runs:
        assert old is not None
        place_of = {article.id: place for place, article in enumerate(articles)}
        new_of_old = [place_of.get(story, 0) for story in old.ids]  # gone: never carried
        shown = array("I", map(new_of_old.__getitem__, old.lists))
        old_lengths = array("I", map(sub, old.list_start[1:], old.list_start[:-1]))
        # The old bounds still bound the carried stories' radii (looser, once some are gone).
        max_radius = array("d", old.max_radius)
        for place, (_, drift_low, drift_high) in carried.items():
            low[place], high[place] = drift_low, drift_high
    place = 0
    for first, last, before in [*runs, (count, count, 0)]:
        for fresh in range(place, first):
            radii_parts.append(fresh_radii[fresh])
            list_parts.append(ranked[fresh][0])
            lengths[fresh] = len(ranked[fresh][0])
        if first < last:
            assert old is not None
            after = before + last - first
            radii_parts.append(old.radii[old.term_start[before]:old.term_start[after]])
            list_parts.append(shown[old.list_start[before]:old.list_start[after]])
            lengths[first:last] = old_lengths[before:after]
            for made, kept in zip(needs, (old.spread, old.least, old.most), strict=True):
                made[first:last] = kept[before:after]
        place = last
    for place, (places, scores, loser, _) in ranked.items():
        for term, radius in zip(index.terms_of[place], fresh_radii[place], strict=True):
            if radius > max_radius[term]:
                max_radius[term] = radius
        made = _needs(scores, loser, config.count - (len(places) - len(scores)),
                      config.threshold)
        for column, value in zip(needs, made, strict=True):
            column[place] = value
        low[place] = high[place] = 1.0  # no drift yet
    return State(
        ids=[article.id for article in articles], digests=b"".join(stories),
        times=array("d", [article.published.timestamp() for article in articles]),
        term_names=names, weights=array("d", index.weight), max_radius=max_radius,
        term_start=array("I", accumulate(map(len, index.terms_of), initial=0)),
        story_terms=array("I", chain.from_iterable(index.terms_of)),
        radii=array("d", chain.from_iterable(radii_parts)),
        list_start=array("I", accumulate(lengths, initial=0)),
        lists=array("I", chain.from_iterable(list_parts)),
        spread=spread, least=least, most=most, low=low, high=high)


def _runs(carried: dict[int, Carried], count: int) -> list[tuple[int, int, int]]:
    """Return the carried places as runs (first, last, old place of first), in order:
    places first to last - 1 were old places before to before + last - first - 1."""
    runs: list[tuple[int, int, int]] = []
    place = 0
    while place < count:
        if place not in carried:
            place += 1
            continue
        first, before = place, carried[place][0]
        place += 1
        while place < count and place in carried and carried[place][0] == before + place - first:
            place += 1
        runs.append((first, place, before))
    return runs


__all__ = ["MAX_CHANGED_SHARE", "State", "decode", "encode", "lists", "rank_all", "rank_one"]
