"""Rank the related stories of every article at once, with numpy.

`rank.related` answers for one story (its docstring has the formula); a build asks it of
every story, and one query in Python costs 100-200 us at 100,000 stories, most of it the
interpreter's steps around a few dozen scores. Here all the queries run together as array
operations, in three steps:

1. **A bar for each story.** The `_NEAREST` stories on each side in each of its terms'
   windows are scored; the `count`-th best of them (or the threshold) bounds from below the
   score of the last story its list will hold.
2. **The stories that can reach it.** A story whose heaviest shared term is the article's
   i-th heaviest scores at most (the weights of its terms i, i + 1, ...) times the recency
   factor (the MaxScore bound of search engines), so each term's posting list is read only
   out to where that falls below the bar. Past where the term and the story's sections
   alone fall below it, a story counts only if it shares a lighter tag too, so the stream
   stops there and reads on in the lists of the pairs (the term, a lighter tag), which hold
   only the stories that have both (syndicate.rankpairs). Each story met is scored in the
   stream of its heaviest shared term only, and kept if it is a candidate (in the window of
   a term it shares) at or above the bar.
3. **The lists** (syndicate.rankfinish). The few kept are scored again in Python exactly as
   `rank.related` scores them, and picked in its order, duplicates skipped.

Every story that scores at or above the bar is kept (array scores get a slack far above their
rounding), so whenever the kept stories fill the list, it is `rank.related`'s, story for
story. When they cannot (duplicates among them left the list short), or the story pins stories
of its own, `rank.related` ranks it instead.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from itertools import pairwise

import numpy as np

from . import collector, rank, rankfinish, rankpairs
from .config import RelatedConfig
from .rankfinish import Kept, Ranked
from .site import Site

# Stories scored on each side of a story in each of its terms' windows, to set its bar.
_NEAREST = 2
# Step 2 reads each stream out to these shares of its reach in turn (see _Batch.kept).
_BANDS = (0.25, 1.0)
# Relative slack between an array score and rank's exact one: far above their rounding
# (a few ulps), far below rank.MARGIN.
_SLACK = 1e-9
# The most terms (tags and the section) one story may have for the batch to rank the site.
_MOST_TERMS = 62
# Pairs of stories scored in one go: bounds the arrays of one step to some 100 MB.
_CHUNK = 1 << 19
# Term ids below this fit in 16 bits, which numpy sorts by radix (see _Batch.few_terms).
_RADIX_TERMS = 1 << 16


def rank_every(site: Site, certify: bool = False) -> list[Ranked]:
    """Return rank._related for every story of the site's ranking index, by position: its
    related stories (positions) and, with `certify`, their Certificate (else an empty one)."""
    index = rank.index_of(site)
    config = site.config.related
    if not index.articles:
        return []
    # What is made here lives on (a list and a Certificate per story): a collection would
    # only walk the site again and again.
    with collector.paused():
        # A story's shared terms travel as the bits of an int64 (step 3): more than
        # _MOST_TERMS on one story, and every story is ranked one at a time.
        if config.count <= 0 or not math.isfinite(config.half_life_days) \
                or max(map(len, index.terms_of)) > _MOST_TERMS:
            return [rankfinish.one_by_one(site, index, position, certify)
                    for position in range(len(index.articles))]
        batch = _Batch(index, config, certify)
        ranked = rankfinish.finish(batch, site, batch.kept())
        del batch
    collector.give_back_free_memory()  # the arrays are gone
    return ranked


class _Batch:
    """The stories of one ranking index as arrays: each story's terms by slot (heaviest
    first, as rank._Query reads them) and their weights, every term's posting list laid end
    to end, and each (story, slot)'s window in its term's list."""

    def __init__(self, index: rank._Index, config: RelatedConfig, certify: bool) -> None:
        self.index, self.config = index, config
        self.lower = 1 - rank.MARGIN if certify else 1.0
        self.certify = certify
        self.decay = math.log(2.0) / (config.half_life_days * rank._DAY)
        count = len(index.articles)
        self.key = np.frombuffer(index.key, dtype=np.float64)
        weight = np.asarray(index.weight, dtype=np.float64)
        lengths = np.fromiter(map(len, index.terms_of), dtype=np.int64, count=count)
        owner = np.repeat(np.arange(count, dtype=np.int64), lengths)
        terms = np.fromiter((t for terms in index.terms_of for t in terms), dtype=np.int64,
                            count=owner.size)
        # Each story's terms heaviest first (ties: the smaller term): they come grouped by
        # story, so a stable sort by (story, the term's place in that order) has only
        # runs of a few to merge, where a lexsort of three keys sorted them all.
        term_place = np.empty(weight.size, dtype=np.int64)
        term_place[np.lexsort((np.arange(weight.size), -weight))] = np.arange(weight.size)
        by_slot = np.argsort(owner * weight.size + term_place[terms], kind="stable")
        terms, owner = terms[by_slot], owner[by_slot]
        first = np.zeros(count + 1, dtype=np.int64)
        np.cumsum(lengths, out=first[1:])
        slot = np.arange(owner.size, dtype=np.int64) - first[owner]
        width = int(lengths.max())
        self.terms = np.full((count, width), -1, dtype=np.int64)
        self.terms[owner, slot] = terms
        self.weights = np.zeros((count, width))
        self.weights[owner, slot] = weight[terms]
        # By column, for gathers of one slot of many stories.
        self.term_column = [np.ascontiguousarray(c, dtype=np.int32) for c in self.terms.T]
        self.weight_column = [np.ascontiguousarray(c) for c in self.weights.T]
        # What a story can share from slot j on: the MaxScore bound of step 2.
        through = np.zeros((count, width + 1))  # the weights of slots 0 to j - 1, by j
        np.cumsum(self.weights, axis=1, out=through[:, 1:])
        self.suffix = through[:, -1:] - through[:, :-1]
        # The weights of a story's section slots after each slot: sections are the terms left
        # out of the pair lists (see _pair_lists), so a stream reads out to the reach of its
        # term and these (cap_weight) and the pair lists read on from there (_beyond).
        self.is_section = self.terms >= len(index.tag_term)
        sections = np.where(self.is_section, self.weights, 0.0)
        self.sections_after = np.zeros((count, width))
        self.sections_after[:, :-1] = np.cumsum(sections[:, ::-1], axis=1)[:, ::-1][:, 1:]
        # Each story's terms as 64 bits (one bit per term, hashed): two stories whose
        # signatures share no bit share no term. By slot, the bits of the heavier and of
        # the lighter slots.
        hashed = (self.terms.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(58)
        bits = np.where(self.terms >= 0, np.uint64(1) << hashed, np.uint64(0))
        self.signature = np.bitwise_or.reduce(bits, axis=1)
        before = np.zeros_like(bits)
        after = np.zeros_like(bits)
        for column in range(1, width):
            before[:, column] = before[:, column - 1] | bits[:, column - 1]
            after[:, width - 1 - column] = after[:, width - column] | bits[:, width - column]
        self.heavier = [np.ascontiguousarray(c) for c in before.T]
        self.lighter = [np.ascontiguousarray(c) for c in after.T]
        # The entries come by story, so grouping them by term keeps each term's stories in
        # order (700,000 entries: 40 ms as a lexsort of (story, term), 7 ms so).
        self.few_terms = weight.size <= _RADIX_TERMS
        by_term = self._by_term(terms)
        self.posting = owner[by_term]
        self.posting_key = self.key[self.posting]
        bounds = np.zeros(len(weight) + 1, dtype=np.int64)
        np.cumsum(np.bincount(terms, minlength=len(weight)), out=bounds[1:])
        at = np.empty(owner.size, dtype=np.int64)
        at[by_term] = np.arange(owner.size, dtype=np.int64)
        self.owner, self.slot, self.term, self.at = owner, slot, terms, at
        self.first = first  # story p's (slot, term) pairs: first[p] to first[p + 1]
        center = self.key[owner]
        self.end = bounds[terms + 1]
        # Posting entries by (term, position) as one sorted int64: positions are in key
        # order, so a search by key is a search by position (see _seek).
        listed_term = terms[by_term]  # the term of each posting list entry
        self.term_position = listed_term * (count + 1) + self.posting
        # Where each of `count` equal stretches of time starts among the stories (and two
        # past the last): see _seek's `loose`.
        span = float(self.key[-1] - self.key[0])
        self.stretch = span / count if span > 0 else 1.0
        self.stretch_start = np.searchsorted(
            self.key, self.key[0] + self.stretch * np.arange(count + 3))
        self.start = bounds[terms] if config.include_newer else self._seek(
            terms, center, bounds[terms], self.end)
        self.window_low, self.window_high = self._windows(
            by_term, bounds[listed_term] if config.include_newer else self.start[by_term],
            bounds[listed_term + 1])
        # A candidate of story p through slot j lies at positions first_column[j][p] to
        # last_column[j][p] (the window's ends, in position order as in key order). By
        # column and in 32 bits: step 2 gathers one slot of millions of stories at a time,
        # and a column of a (stories, slots) array spreads them over seven times the memory.
        window_first = np.full((count, width), count, dtype=np.int32)
        window_last = np.full((count, width), -1, dtype=np.int32)
        window_first[owner, slot] = self.posting[self.window_low]
        window_last[owner, slot] = self.posting[self.window_high - 1]
        self.first_column = [np.ascontiguousarray(c) for c in window_first.T]
        self.last_column = [np.ascontiguousarray(c) for c in window_last.T]
        # A story met in slot j's stream is a candidate only in the window of a term in slot
        # j or after: it lies between the first and the last story of those windows. Their
        # stories are a bounded number in each term, so the span they cover shrinks as the
        # site grows denser, where the reach of a score does not.
        hull_first = np.minimum.accumulate(window_first[:, ::-1], axis=1)[:, ::-1]
        hull_last = np.maximum.accumulate(window_last[:, ::-1], axis=1)[:, ::-1]
        self.hull_first = [np.ascontiguousarray(c, dtype=np.int64) for c in hull_first.T]
        self.hull_last = [np.ascontiguousarray(c, dtype=np.int64) for c in hull_last.T]
        self.suffix_column = [np.ascontiguousarray(c) for c in self.suffix.T]
        self.cap_weight = [np.ascontiguousarray(c) for c in (self.weights + self.sections_after).T]
        self._pair_lists()  # which may lift the caps

    def _pair_lists(self) -> None:
        """Lay out the pair lists (syndicate.rankpairs) and, by slot, the entries whose
        heavier term is there and the most a story met in each can share with its story:
        the term, the sections between (a tag between makes it another pair's), the lighter
        tag and everything after it."""
        count, width = self.terms.shape
        lists = rankpairs.pair_lists(self.terms, ~self.is_section & (self.terms >= 0),
                                     len(self.index.weight))
        self.pairs = lists
        self.pair_entries: list[np.ndarray] = []
        self.pair_bound: list[np.ndarray] = []
        if lists is None:  # step 2 reads every stream out to its reach
            self.cap_weight = [np.full(count, np.inf) for _ in range(width)]
            return
        # Gathers of one cell per story from a row-major (stories, slots) array, flat.
        sections_after, suffix = self.sections_after.ravel(), self.suffix.ravel()
        for slot in range(width):
            entries = lists.entries(slot)
            story = lists.posting[entries]
            cell = story * width + lists.light[entries]  # (story, lighter slot)
            self.pair_entries.append(entries)
            self.pair_bound.append(self.cap_weight[slot][story] + suffix[cell]
                                   - sections_after[cell - 1])

    def _windows(self, by_term: np.ndarray, start: np.ndarray,
                 end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return [low, high) of each (story, slot)'s window: rank._window, for all at once.
        `by_term` is the order of the posting lists (see __init__), and `start` and `end`
        bound each entry's stretch of its list in that order."""
        size = self.config.max_candidates_per_tag
        span = size + 1  # the story itself, and `size` others
        keys = self.posting_key
        # The searches run in the posting lists' order, where each entry's key is its own
        # story's and its neighbours' searches read the same keys (in the cache: 87 ms by
        # story at 100,000 stories, 43 ms so).
        low, high = start.copy(), end.copy()
        cut = np.flatnonzero(end - start > span)  # entries, which are their places here
        low_bound = np.maximum(start[cut], cut - size)
        high_bound = np.minimum(cut, end[cut] - span)
        chosen_center = keys[cut]
        while True:
            active = low_bound < high_bound
            if not active.any():
                break
            middle = (low_bound + high_bound) // 2
            farther_left = (chosen_center - keys[middle]
                            > keys[np.minimum(middle + span, keys.size - 1)] - chosen_center)
            right = active & farther_left
            low_bound = np.where(right, middle + 1, low_bound)
            high_bound = np.where(active & ~right, middle, high_bound)
        low[cut] = low_bound
        high[cut] = low_bound + span
        by_story_low, by_story_high = np.empty_like(low), np.empty_like(high)
        by_story_low[by_term], by_story_high[by_term] = low, high
        return by_story_low, by_story_high

    def _by_term(self, term: np.ndarray) -> np.ndarray:
        """Return the order that groups `term` (term ids) by term, each group in the order
        given: a stable sort, of 16-bit numbers when the ids fit (numpy sorts those by
        radix)."""
        return np.argsort(term.astype(np.uint16) if self.few_terms else term, kind="stable")

    def _seek(self, term: np.ndarray, values: np.ndarray, start: np.ndarray, end: np.ndarray,
              right: bool = False, loose: bool = False,
              within: np.ndarray | None = None) -> np.ndarray:
        """Return, for each value, the first index in posting[start:end] (a stretch of
        `term`'s list) whose key is at least the value (above it, when `right`): bisect_left
        (bisect_right) of the keys, for all at once. When `loose`, an index up to some two
        stretches of time (see __init__) before (after, when `right`) that one: enough
        for a bound on what to read, without a binary search for every value, and none before
        `within` (after it, when `right`): see _loose."""
        side = "right" if right else "left"
        # The stories with a smaller key (or not larger) are those before this position.
        if loose:
            before = self._loose(values, right, within)
        else:
            before = _bounded(np.searchsorted(self.key, values, side=side), right, within)
        wanted = term * (self.key.size + 1) + before
        # In order, each search starts where the one before ended (and stays in the cache).
        # Grouped by term is near enough: the queries come by story, so in time order
        # (1.76 million queries: 172 ms to sort them whole, 97 ms so).
        order = self._by_term(term)
        found = np.empty_like(wanted)
        found[order] = np.searchsorted(self.term_position, wanted[order])
        return np.clip(found, start, end)

    def _loose(self, values: np.ndarray, right: bool,
               within: np.ndarray | None = None) -> np.ndarray:
        """Return, for each value, a position at or before (after, when `right`) that of the
        first story whose key is at least (above) it, some two stretches away at most; with
        `within` (positions of stories), none before it (past it, when `right`)."""
        # A stretch one away from the value's own, in case its division rounds up.
        stretch = np.floor((values - self.key[0]) / self.stretch) + (2 if right else -1)
        return _bounded(self.stretch_start[np.clip(stretch, 0, self.stretch_start.size - 1)
                                           .astype(np.int64)], right, within)

    # -- Scoring pairs ---------------------------------------------------------------------

    def _score(self, story: np.ndarray, other: np.ndarray, slot: int,
               cut: np.ndarray | None = None,
               reach: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, ...]:
        """Return the pairs (story, other, score in floating point, the story's slots they
        share as bits) met in `slot`'s stream that count there: `other` is not the story,
        shares none of the story's heavier terms (so that each pair counts in one stream
        only), and (given the stories' `cut`) is within `reach`, scores at or above the cut and
        is a candidate (in the window of a term it shares). `reach` is _reaches(slot, cut),
        or nearer (kept() stops it where the pair lists take over)."""
        theirs = self.signature[other]
        distance = np.abs(self.key[other] - self.key[story])
        if cut is not None:
            # A story that shares this term alone and is too far for it to lift it to the
            # cut needs another, lighter term: the signatures tell most of them apart.
            lighter = (self.lighter[slot][story] & theirs) != 0
            alone, more = reach or self._reaches(slot, cut)
            keep = distance <= np.where(lighter, more[story], alone[story])
            # Outside this term's window, it is a candidate only through a lighter term.
            keep &= lighter | ((self.first_column[slot][story] <= other)
                               & (other <= self.last_column[slot][story]))
        else:
            keep = np.ones(story.size, dtype=bool)
        keep &= story != other
        self._drop_heavier(keep, story, other, slot, theirs)
        return self._exact(story[keep], other[keep], distance[keep], slot, cut)

    def _drop_heavier(self, keep: np.ndarray, story: np.ndarray, other: np.ndarray, slot: int,
                      theirs: np.ndarray) -> None:
        """Set keep to False for the pairs met in a heavier term's stream already (where
        `other`, whose signatures are `theirs`, shares one of the story's heavier terms)."""
        maybe = np.flatnonzero(keep & ((self.heavier[slot][story] & theirs) != 0))
        for heavier in range(slot):
            shares = self._shares(story[maybe], other[maybe], heavier)
            keep[maybe[shares]] = False
            maybe = maybe[~shares]

    def _exact(self, story: np.ndarray, other: np.ndarray, distance: np.ndarray, slot: int,
               cut: np.ndarray | None) -> tuple[np.ndarray, ...]:
        """Return _score's answer for pairs that count in `slot`'s stream: their scores,
        and with `cut`, only those at or above it that are candidates."""
        # Every story met in this stream has its term: the stream reads that term's list.
        theirs = [column[other] for column in self.term_column]
        shared = [np.ones(story.size, dtype=bool)] + [
            _has(theirs, self.term_column[column][story])
            for column in range(slot + 1, self.terms.shape[1])]
        weight = sum(self.weight_column[column][story] * shares
                     for column, shares in enumerate(shared, slot))
        score = weight * np.exp(-distance * self.decay)
        if cut is None:
            return story, other, score
        keep = score >= cut[story] * (1 - _SLACK)
        story, other, score = story[keep], other[keep], score[keep]
        candidate = np.zeros(story.size, dtype=bool)
        bits = np.zeros(story.size, dtype=np.int64)
        for column, shares in enumerate(shared, slot):
            shares = shares[keep]
            bits |= shares.astype(np.int64) << column
            candidate |= (shares & (self.first_column[column][story] <= other)
                          & (other <= self.last_column[column][story]))
        return story[candidate], other[candidate], score[candidate], bits[candidate]

    def _reaches(self, slot: int, cut: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return, by story, how far from it a story met in `slot`'s stream may be and
        still score its `cut`: sharing the slot's term alone, and sharing lighter terms too
        (the MaxScore bound); -1 where none can. A little beyond, never short: a story
        kept here is scored exactly next."""
        return (self._reach(self.weight_column[slot], cut),
                self._reach(self.suffix_column[slot], cut))

    def _reach(self, weight: np.ndarray, cut: np.ndarray) -> np.ndarray:
        """Return how far a story may be and still score `cut` with terms of `weight` in
        common (a little beyond, never short); -1 where it cannot, inf where cut is 0."""
        with np.errstate(divide="ignore", invalid="ignore"):  # where cut is 0
            far = _widen(np.log(weight * (1 + _SLACK) / (cut * (1 - _SLACK))) / self.decay)
        return np.where(cut > 0, np.where(weight * (1 + _SLACK) >= cut, far, -1.0), np.inf)

    def _shares(self, story: np.ndarray, other: np.ndarray, column: int) -> np.ndarray:
        """Return whether each `other` has the term in `column` of its `story`."""
        return _has([their[other] for their in self.term_column],
                    self.term_column[column][story])

    def _bars(self) -> np.ndarray:
        """Step 1: each story's bar, from the nearest stories of its windows (which are
        candidates: no need to check)."""
        offsets = np.concatenate([np.arange(-_NEAREST, 0), np.arange(1, _NEAREST + 1)])
        count, width = self.terms.shape
        # Each story's scores in a row of its own, one cell per (slot, offset): its
        # `count`-th best is a partition of the row away, with no sort of them all by story.
        scores = np.zeros((count, width * offsets.size))
        for column in range(width):
            entries = np.flatnonzero(self.slot == column)
            near = self.at[entries, None] + offsets
            row, place = np.nonzero((near >= self.window_low[entries, None])
                                    & (near < self.window_high[entries, None]))
            story, other = self.owner[entries[row]], self.posting[near[row, place]]
            keep = np.ones(story.size, dtype=bool)  # and never the story itself: near != at
            self._drop_heavier(keep, story, other, column, self.signature[other])
            story, other, place = story[keep], other[keep], place[keep]
            distance = np.abs(self.key[other] - self.key[story])
            scores[story, column * offsets.size + place] = \
                self._exact(story, other, distance, column, None)[2]
        wanted = self.config.count
        if not 0 < wanted <= scores.shape[1]:  # fewer scored than the list holds
            return np.full(count, self.config.threshold)
        kth = np.partition(scores, -wanted, axis=1)[:, -wanted]
        return np.maximum(kth * (1 - _SLACK), self.config.threshold)

    def kept(self) -> Kept:
        """Steps 1 and 2: every candidate of each story that may score at or above its bar.
        The slots are read heaviest first, for every story at once, each nearest first in
        `_BANDS`; a story's bar rises with what was found before, as rank._Query's does
        stream by stream, and the next band reaches only as far as the bar then allows."""
        cut = self._bars() * self.lower
        # Step 2 meets again the stories step 1 scored: a fresh count, so that none counts twice.
        best = _Best(len(self.index.articles), self.config.count)
        found: list[tuple[np.ndarray, ...]] = []
        for slot in range(self.terms.shape[1]):
            pairs = np.flatnonzero(self.slot == slot)
            story = self.owner[pairs]
            center = self.key[story]
            start, end = self.start[pairs], self.end[pairs]
            # What was read so far: posting[read_low:read_high].
            term = self.term[pairs]
            read_low = read_high = self.at[pairs]  # the story's own place in the list
            # Past this, a story met here can score the cut only if it shares a lighter tag
            # too, and the pair lists meet it there (_beyond).
            cap = self._reach(self.cap_weight[slot], cut)
            hull_first, hull_last = self.hull_first[slot][story], self.hull_last[slot][story]
            for band in _BANDS:
                alone, more = self._reaches(slot, cut)
                reaches = alone, np.minimum(more, cap)  # alone is never past the cap
                # How far a story sharing lighter terms too can be: a story with no cut
                # (infinite reach) is ranked one at a time in step 3 instead.
                farthest = reaches[1][story]
                reachable = (farthest >= 0) & np.isfinite(farthest)
                reach = np.where(reachable, farthest, 0.0) * band
                # Read a little too far at most: _score drops what is out of reach.
                low = np.minimum(read_low, self._seek(term, center - reach, start, end,
                                                      loose=True, within=hull_first))
                high = np.maximum(read_high, self._seek(term, center + reach, start, end,
                                                        right=True, loose=True,
                                                        within=hull_last))
                low = np.where(reachable, low, read_low)
                high = np.where(reachable, high, read_high)
                band_found = [self._score(pair_story, other, slot, cut, reaches)
                              for first, last in ((low, read_low), (read_high, high))
                              for pair_story, other in self._pairs(story, first, last)]
                read_low, read_high = low, high
                cut = self._raise(cut, best, band_found, found)
            cut = self._raise(cut, best, self._beyond(slot, cut, cap), found)
        return self._tighten(*(np.concatenate(column) for column in zip(*found, strict=True)),
                             cut=cut)

    def _raise(self, cut: np.ndarray, best: _Best, new: list[tuple[np.ndarray, ...]],
               found: list[tuple[np.ndarray, ...]]) -> np.ndarray:
        """Add the `new` pairs to `found` and to `best`, and return the cut they raise."""
        if not new:
            return cut
        found += new
        best.add(np.concatenate([kept[0] for kept in new]),
                 np.concatenate([kept[2] for kept in new]))
        return np.maximum(cut, best.kth() * self.lower)

    def _beyond(self, slot: int, cut: np.ndarray,
                cap: np.ndarray) -> list[tuple[np.ndarray, ...]]:
        """Step 2 past each story's `cap` in `slot`'s stream: the stories met in the lists of
        the pairs (its term in `slot`, a lighter tag of it), as _score returns them, each in
        the list of its heaviest such tag only."""
        if self.pairs is None:
            return []
        entries = self.pair_entries[slot]
        story, light = self.pairs.posting[entries], self.pairs.light[entries]
        far, inner = self._reach(self.pair_bound[slot], cut[story]), cap[story]
        wanted = np.flatnonzero((far > inner) & np.isfinite(far))
        story, light, far, inner = story[wanted], light[wanted], far[wanted], inner[wanted]
        base = self.pairs.code[entries[wanted]] * (self.key.size + 1)
        center = self.key[story]
        low = np.searchsorted(self.pairs.key, base + self._loose(
            center - far, right=False, within=self.hull_first[slot][story]))
        high = np.searchsorted(self.pairs.key, base + self._loose(
            center + far, right=True, within=self.hull_last[slot][story]))
        high = np.maximum(high, low)  # where the windows end before the reach begins
        found = []
        for which, other in self._reads(low, high, self.pairs.posting):
            pair_story, pair_light = story[which], light[which]
            distance = np.abs(self.key[other] - self.key[pair_story])
            keep = (distance > inner[which]) & (distance <= far[which]) & (pair_story != other)
            self._drop_heavier(keep, pair_story, other, slot, self.signature[other])
            # A tag between this term and the pair's is a heavier pair of this term.
            for column in range(slot + 1, int(pair_light.max(initial=0))):
                maybe = np.flatnonzero(keep & (column < pair_light)
                                       & ~self.is_section[pair_story, column])
                keep[maybe[self._shares(pair_story[maybe], other[maybe], column)]] = False
            found.append(self._exact(pair_story[keep], other[keep], distance[keep], slot, cut))
        return found

    def _pairs(self, story: np.ndarray, low: np.ndarray,
               high: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield (story, other) for every other in posting[low:high] of each story, about
        _CHUNK pairs at a time."""
        for which, other in self._reads(low, high, self.posting):
            yield story[which], other

    @staticmethod
    def _reads(low: np.ndarray, high: np.ndarray,
               posting: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield (which, other) for every other in posting[low[which]:high[which]], about
        _CHUNK at a time."""
        counts = high - low
        for first, last in _pieces(counts, _CHUNK):
            sizes = counts[first:last]
            which = np.repeat(np.arange(first, last), sizes)
            starts = np.repeat(low[first:last] - np.cumsum(sizes) + sizes, sizes)
            yield which, posting[starts + np.arange(which.size)]

    def _tighten(self, story: np.ndarray, other: np.ndarray, score: np.ndarray,
                 bits: np.ndarray, *, cut: np.ndarray) -> Kept:
        """Keep only the candidates that may score at or above their story's final cut,
        grouped by story."""
        keep = score >= cut[story] * (1 - _SLACK)
        story, other, bits = story[keep], other[keep], bits[keep]
        # By (story, other) as one number: the pairs come in runs by story, which a stable
        # sort (timsort) merges (500,000 pairs: 51 ms as a lexsort of the two, 8 ms so).
        order = np.argsort(story * len(self.index.articles) + other, kind="stable")
        story, other, bits = story[order], other[order], bits[order]
        starts = np.searchsorted(story, np.arange(len(self.index.articles) + 1))
        radius = self._radii(cut) if self.certify else None
        return Kept(other, bits, starts, cut, radius, self._clean(story, other))

    def _clean(self, story: np.ndarray, other: np.ndarray) -> np.ndarray:
        """Return, by story, whether none of its kept candidates duplicates it or another
        of them (same canonical URL or headline: ids are unique in the index), so that its
        list needs no duplicate check."""
        articles = self.index.articles
        stories = len(articles)
        numbers: dict[str, int] = {}
        number = numbers.setdefault
        urls = [number(url, len(numbers)) if url else -1
                for url in (article.canonical for article in articles)]
        # Headlines after the URLs, so that a headline and a URL never share a number.
        heads: dict[str, int] = {}
        head = heads.setdefault
        titles = [head(title, len(heads) + len(numbers)) if title else -1
                  for title in map(rank.title_key, articles)]
        own = np.empty((stories, 2), dtype=np.int64)
        own[:, 0], own[:, 1] = urls, titles
        space = len(numbers) + len(heads) + 1
        # Only a URL or headline that two stories have can repeat in a list: the stories
        # with one are the only ones to look at. Indexed by -1 (none), `shared` says no.
        shared = np.append(np.bincount(own[own >= 0], minlength=space) > 1, False)
        suspect = shared[own].any(axis=1)
        # The members of each story's list (itself, then its candidates) that have a URL or
        # headline another story has, as (the story, the member) pairs.
        alike = suspect[other]
        whose = np.concatenate([np.flatnonzero(suspect), story[alike]])
        member = np.concatenate([np.flatnonzero(suspect), other[alike]])
        keys = own[member]
        named = shared[keys]
        owner = np.broadcast_to(whose[:, None], keys.shape)[named]
        codes = np.unique(owner * space + keys[named], return_counts=True)
        clean = np.ones(stories, dtype=bool)
        clean[codes[0][codes[1] > 1] // space] = False
        return clean

    def _radii(self, cut: np.ndarray) -> np.ndarray:
        """Return each (story, slot)'s radius (see rank.Certificate), as rank._Query.scan
        bounds it: out to where a story of the slot's term could still score the story's
        `cut` (with the weights of its own and lighter terms, and of each heavier term
        beyond that term's window, whose nearer stories are all in it), or the window's far
        edge where the window ends nearer than that (a story added or removed inside it
        moves the edge); -1 if no story of it can reach the cut."""
        keys, owner, slot = self.posting_key, self.owner, self.slot
        center = self.key[owner]
        lower, upper = keys[self.window_low], keys[self.window_high - 1]
        inf = np.inf
        # How far out the window holds every story of its term: its nearer cut edge.
        cover = np.minimum(np.where(self.window_low > self.start, center - lower, inf),
                           np.where(self.window_high < self.end, upper - center, inf))
        stories, width = self.terms.shape
        covers = np.full((stories, width), inf)
        covers[owner, slot] = cover
        story_cut = cut[owner]
        weight = self.suffix[owner, slot] * (1 + _SLACK)
        # The heavier slots' (cover, weight), nearest cover first; slots not heavier last.
        heavier = np.where(np.arange(width) < slot[:, None], covers[owner], inf)
        order = np.argsort(heavier, axis=1, kind="stable")
        heavier = np.take_along_axis(heavier, order, axis=1)
        extra = np.take_along_axis(np.where(np.arange(width) < slot[:, None],
                                            self.weights[owner], 0.0), order, axis=1)
        farthest = np.full(owner.size, -1.0)
        nearer = np.zeros(owner.size)
        with np.errstate(divide="ignore"):
            for column in range(width + 1):
                edge = heavier[:, column] if column < width else np.full(owner.size, inf)
                reaches = (weight >= story_cut) & (story_cut > 0)
                limit = np.where(reaches, np.log(np.where(reaches, weight, 1.0)
                                                 / np.where(reaches, story_cut, 1.0))
                                 / self.decay, -1.0)
                farther = reaches & (limit >= nearer)
                farthest = np.where(farther, np.maximum(farthest, np.minimum(limit, edge)),
                                    farthest)
                if column < width:
                    weight = weight + extra[:, column] * (1 + _SLACK)
                    nearer = edge
        reach = np.where(farthest >= 0, _widen(farthest), -1.0)
        low = self._seek(self.term, center - np.maximum(reach, 0), self.start, self.end)
        high = self._seek(self.term, center + np.maximum(reach, 0), self.start, self.end,
                          right=True)
        cut_window = high - low > self.config.max_candidates_per_tag + 1
        far_edge = np.maximum(center - lower, upper - center)
        return np.where(reach < 0, -1.0, np.where(cut_window, far_edge, reach))

class _Best:
    """The `count` best scores met so far of each story, each score a distinct candidate of
    it, kept as the top bits of the score's float64 (whose bits sort as the numbers do, for
    scores >= 0) in a row per story, ascending, 0 where there is none yet. Dropping the low
    bits rounds a score down, so the `count`-th best it reports is a lower bound."""

    def __init__(self, stories: int, count: int) -> None:
        self.count = count
        self.score_bits = 63 - max(1, stories.bit_length())
        self.best = np.zeros((stories, max(count, 1)), dtype=np.int64)

    def add(self, story: np.ndarray, score: np.ndarray) -> None:
        if self.count <= 0 or story.size == 0:
            return
        bits = np.maximum(score, 0.0).view(np.int64) >> (63 - self.score_bits)
        # The story in the high bits: sorted, each story's scores are a run, best last.
        # The pairs come grouped by story already, in runs that a stable sort (timsort)
        # merges where a quicksort starts over.
        keys = np.sort((story.astype(np.int64) << self.score_bits) | bits, kind="stable")
        owner = keys >> self.score_bits
        last = np.flatnonzero(np.append(owner[1:] != owner[:-1], True))
        first = np.append(0, last[:-1] + 1)
        stories = owner[last]
        # Each story's `count` best of these, ascending, then merged with those it held.
        new = np.zeros((stories.size, self.count), dtype=np.int64)
        mask = (1 << self.score_bits) - 1
        for back in range(self.count):
            at = last - back
            held = at >= first
            new[held, self.count - 1 - back] = keys[at[held]] & mask
        merged = np.concatenate([self.best[stories], new], axis=1)
        merged.sort(axis=1)
        self.best[stories] = merged[:, self.count:]

    def kth(self) -> np.ndarray:
        """Return each story's `count`-th best score so far (rounded down), 0 if it has
        fewer."""
        if self.count <= 0:
            return np.zeros(self.best.shape[0])
        return (self.best[:, 0] << (63 - self.score_bits)).view(np.float64) * (1 - _SLACK)


def _has(theirs: list[np.ndarray], term: np.ndarray) -> np.ndarray:
    """Return whether each story, whose terms by slot are `theirs`, has `term` (-1: none)."""
    has = theirs[0] == term
    for their in theirs[1:]:
        has |= their == term
    return has & (term >= 0)


def _bounded(before: np.ndarray, right: bool, within: np.ndarray | None) -> np.ndarray:
    """Return the positions `before`, none before `within` (past it, when `right`)."""
    if within is None:
        return before
    return np.minimum(before, within + 1) if right else np.maximum(before, within)


def _widen(distance: np.ndarray) -> np.ndarray:
    return distance * (1 + 1e-9) + 1e-6


def _pieces(counts: np.ndarray, size: int) -> list[tuple[int, int]]:
    """Split range(len(counts)) into runs whose counts add up to about `size` each."""
    total = np.cumsum(counts)
    cuts = np.searchsorted(total, np.arange(size, int(total[-1]) if total.size else 0, size))
    edges = [0, *sorted(set(int(c) + 1 for c in cuts)), counts.size]
    return [(a, b) for a, b in pairwise(edges) if a < b]
