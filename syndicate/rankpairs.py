"""The posting lists of pairs of terms that step 2 of syndicate.rankbatch reads.

A story met in the stream of its i-th term far beyond that term's reach can still score its
bar only if it shares lighter terms too. Sections are few and every story has one, so the
stream reads out to the reach of its term and the sections after it; past that, a story
counts only if it shares a lighter tag, and the list of the pair (the i-th term, that tag)
holds it among the stories that have both, which are far fewer than those of the term.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Bits that hold a slot (below rankbatch._MOST_TERMS) in a packed entry.
SLOT_BITS = 6
# Packed entries are int64; a little headroom below the sign bit for the searches' keys.
PACK_LIMIT = 1 << 62


@dataclass(frozen=True)
class PairLists:
    """Every pair list end to end, in order of (pair, position): entry e is the story at
    position `posting[e]` in the list of pair `code[e]`, where its terms in slots `heavy[e]`
    and `light[e]` make the pair. `key` (code * (stories + 1) + position) is sorted, so a
    search by key within a pair's list is a search by position."""

    key: np.ndarray
    code: np.ndarray
    posting: np.ndarray
    heavy: np.ndarray
    light: np.ndarray

    def entries(self, slot: int) -> np.ndarray:
        """Return the entries whose heavier term is in `slot`, in list order."""
        return np.flatnonzero(self.heavy == slot)


def pair_lists(terms: np.ndarray, is_tag: np.ndarray, term_count: int) -> PairLists | None:
    """Return the lists of every pair of a story's terms whose lighter one is a tag, for
    stories whose term ids by slot (heaviest first) are the rows of `terms`; None when the
    entries cannot be packed into 64 bits (then step 2 reads the streams to their end)."""
    count, width = terms.shape
    columns = [np.ascontiguousarray(column, dtype=np.int64) for column in terms.T]
    # By (heavier slot, lighter slot): the stories with a tag in the lighter (so a term in
    # every slot before it) and the code of their pair of terms.
    blocks = []
    for lighter in range(1, width):
        has = np.flatnonzero(is_tag[:, lighter])
        light_term = columns[lighter][has]
        blocks += [(heavier, lighter, has, columns[heavier][has] * term_count + light_term)
                   for heavier in range(lighter)]
    codes = term_count * term_count
    if codes * (count + 1) << 2 * SLOT_BITS >= PACK_LIMIT and blocks:
        # Number only the pairs that occur: there are no more of them than entries.
        unique, dense = np.unique(np.concatenate([code for *_, code in blocks]),
                                  return_inverse=True)
        codes = unique.size
        if codes * (count + 1) << 2 * SLOT_BITS >= PACK_LIMIT:
            return None
        ends = np.cumsum([has.size for _, _, has, _ in blocks])
        blocks = [(heavier, lighter, has, code) for (heavier, lighter, has, _), code
                  in zip(blocks, np.split(dense.reshape(-1), ends[:-1]), strict=True)]
    packed = np.concatenate(
        [((code * (count + 1) + has) << SLOT_BITS | heavier) << SLOT_BITS | lighter
         for heavier, lighter, has, code in blocks] or [np.zeros(0, dtype=np.int64)])
    # One sort of numbers (no two alike: a story meets a pair of its terms once), where an
    # argsort of the keys took half as long again.
    packed.sort()
    code = (packed >> 2 * SLOT_BITS) // (count + 1)
    # A story alone in a pair's list meets nobody there: it needs no entry.
    shared = np.zeros(code.size, dtype=bool)
    twin = code[1:] == code[:-1]
    shared[1:] |= twin
    shared[:-1] |= twin
    packed, code = packed[shared], code[shared]
    key = packed >> 2 * SLOT_BITS
    slot_mask = (1 << SLOT_BITS) - 1
    return PairLists(key=key, code=code, posting=key - code * (count + 1),
                     heavy=packed >> SLOT_BITS & slot_mask, light=packed & slot_mask)
