"""Step 3 of syndicate.rankbatch: every story's related list from its kept candidates.

The few candidates steps 1 and 2 kept for a story are scored again in Python exactly as
`rank.related` scores them (math.fsum of the shared weights, times the recency factor) and
picked in its order, duplicates skipped. A story whose kept candidates cannot fill its list
(duplicates among them left it short), or that pins stories of its own, is handed to
`rank.related` instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import compress
from typing import TYPE_CHECKING

import numpy as np

from . import rank
from .site import Site

if TYPE_CHECKING:
    from .rankbatch import _Batch

# Stories whose lists are made in one go.
_BLOCK = 4096
# A story's related stories (positions in the ranking index) and their Certificate.
Ranked = tuple[tuple[int, ...], rank.Certificate]


@dataclass
class Kept:
    """The candidates kept for step 3, grouped by story: story `p`'s are
    candidate[start[p]:start[p + 1]], and every candidate of it scoring at least cut[p] is
    there."""

    candidate: np.ndarray
    bits: np.ndarray  # by candidate: the story's slots it shares, as bits
    start: np.ndarray
    cut: np.ndarray
    radius: np.ndarray | None  # by (story, slot) pair, as _Batch.owner and .slot list
    # them; None when not certifying (only a Certificate reads it)
    clean: np.ndarray   # by story: see _Batch._clean


def one_by_one(site: Site, index: rank._Index, position: int, certify: bool) -> Ranked:
    """Return rank.related's list (and Certificate) for the story at `position`."""
    return rank.related_positions(site, index.articles[position], certify)


def finish(batch: _Batch, site: Site, kept: Kept) -> list[Ranked]:
    """Return every story's related list and Certificate from its kept candidates, as
    rank._Query would make them (or from rank._related itself, see the module doc)."""
    ranked: list[Ranked] = []
    stories = len(batch.index.articles)
    for first in range(0, stories, _BLOCK):
        ranked += _finish_block(batch, site, kept, first, min(stories, first + _BLOCK))
    return ranked


def _finish_block(batch: _Batch, site: Site, kept: Kept, low: int,
                  high: int) -> list[Ranked]:
    """Return finish's lists for the stories at positions low to high - 1: one loop over
    their data as Python lists, made for the block alone (lists for every story at once
    held some 100 MB of numbers at 100,000 stories, and the holes they left behind in the
    heap were copied into each forked worker that later wrote there)."""
    index, config, certify = batch.index, batch.config, batch.certify
    wanted, threshold, decay, exp, fsum = config.count, config.threshold, batch.decay, \
        math.exp, math.fsum
    shown = slice(int(kept.start[low]), int(kept.start[high]))
    candidates = kept.candidate[shown]
    keys, candidates = batch.key[candidates].tolist(), candidates.tolist()
    bits = kept.bits[shown].tolist()
    starts = (kept.start[low:high + 1] - kept.start[low]).tolist()
    cuts, clean = kept.cut[low:high].tolist(), kept.clean[low:high].tolist()
    owned = slice(int(batch.first[low]), int(batch.first[high]))
    radius = kept.radius[owned].tolist() if kept.radius is not None else []
    term = batch.term[owned].tolist()
    first = (batch.first[low:high + 1] - batch.first[low]).tolist()
    weights, centers = batch.weights[low:high].tolist(), batch.key[low:high].tolist()
    slots_of: dict[int, tuple[bool, ...]] = {}
    ranked: list[Ranked] = []
    for place, article in enumerate(index.articles[low:high]):
        position = low + place
        cut = cuts[place]
        if article.related_ids or cut <= 0:
            ranked.append(one_by_one(site, index, position, certify))
            continue
        mine, center = weights[place], centers[place]
        scored = []
        for at in range(starts[place], starts[place + 1]):
            shared = slots_of.get(bits[at])
            if shared is None:
                shared = slots_of[bits[at]] = tuple(
                    bool(bits[at] >> slot & 1) for slot in range(len(mine)))
            # rank._Query.scan's score: fsum is exact, so any order of the terms will do.
            value = fsum(compress(mine, shared)) * exp(-abs(keys[at] - center) * decay)
            if value >= cut:
                scored.append((-value, candidates[at]))
        scored.sort()
        picks, loser = _pick(scored, wanted, threshold, None if clean[place] else index,
                             position)
        if len(picks) < wanted and cut > threshold:
            # Stories below the cut might have filled it.
            ranked.append(one_by_one(site, index, position, certify))
            continue
        places = tuple(other for _, other in picks)
        if not certify:
            ranked.append((places, rank._NOTHING_RANKED))
            continue
        pairs = slice(first[place], first[place + 1])
        ranked.append((places, rank.Certificate(
            tuple(-score for score, _ in picks), max(loser, cut),
            dict(zip(term[pairs], radius[pairs], strict=True)))))
    return ranked


def _pick(scored: list[tuple[float, int]], wanted: int, threshold: float,
          index: rank._Index | None, position: int) -> tuple[list[tuple[float, int]], float]:
    """Return rank.pick's picks from `scored` (sorted) for the story at `position`, and the
    best score left out; without duplicates to skip when `index` is None."""
    if index is None:
        picks = [item for item in scored[:wanted] if -item[0] >= threshold]
        rest = scored[len(picks):len(picks) + 1]
        return picks, -rest[0][0] if rest else 0.0
    return rank.pick(scored, wanted, threshold, rank._Dedupe(index.dedupe_keys(position)),
                     index.dedupe_keys)
