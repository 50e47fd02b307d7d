"""The pair posting lists (syndicate.rankpairs) hold, for each pair of terms two stories
share, the stories that have both, as a brute-force count of every story's pairs lists them."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from syndicate import rankpairs

TERMS = 9  # term ids 0-5 are tags, 6-8 sections
TAGS = 6


@st.composite
def story_terms(draw) -> np.ndarray:
    """Return the terms of a few stories by slot, each row its distinct terms then -1s."""
    width = draw(st.integers(1, 5))
    rows = draw(st.lists(st.lists(st.integers(0, TERMS - 1), max_size=width, unique=True),
                         min_size=1, max_size=30))
    return np.array([row + [-1] * (width - len(row)) for row in rows], dtype=np.int64)


def expected_entries(terms: np.ndarray) -> list[tuple[tuple[int, int], int, int, int]]:
    """Every (pair of terms, story, heavier slot, lighter slot) whose lighter term is a tag
    and whose pair another story has too, in order of (pair, story)."""
    lists = defaultdict(list)
    for story, row in enumerate(terms.tolist()):
        for lighter, light_term in enumerate(row):
            if not 0 <= light_term < TAGS:
                continue
            for heavier in range(lighter):
                lists[row[heavier], light_term].append((story, heavier, lighter))
    return sorted((pair, *entry) for pair, entries in lists.items() if len(entries) > 1
                  for entry in entries)


def entries_of(lists: rankpairs.PairLists, codes: list[tuple[int, int]]) -> list[tuple]:
    return [(codes[code], story, heavy, light) for code, story, heavy, light in zip(
        lists.code.tolist(), lists.posting.tolist(), lists.heavy.tolist(),
        lists.light.tolist(), strict=True)]


@settings(max_examples=200, deadline=None)
@given(story_terms(), st.booleans())
def test_pair_lists_hold_every_shared_pair_of_terms(terms: np.ndarray, dense: bool) -> None:
    is_tag = (terms >= 0) & (terms < TAGS)
    every_pair = [(heavier, lighter) for heavier in range(TERMS) for lighter in range(TERMS)]
    limit = rankpairs.PACK_LIMIT  # patched by hand: hypothesis reruns the test in one fixture
    try:
        if dense:  # as if the codes of every pair of terms would not fit: the pairs met
            rankpairs.PACK_LIMIT = TERMS * TERMS * (len(terms) + 1) << 2 * rankpairs.SLOT_BITS
        lists = rankpairs.pair_lists(terms, is_tag, TERMS)
    finally:
        rankpairs.PACK_LIMIT = limit
    assert lists is not None
    expected = expected_entries(terms)
    if dense:  # the pairs that occur (alone in their list or not), numbered in order
        codes = sorted({(row[heavier], row[lighter]) for row in terms.tolist()
                        for lighter in range(len(row)) if 0 <= row[lighter] < TAGS
                        for heavier in range(lighter)})
    else:
        codes = every_pair
    assert entries_of(lists, codes) == expected
    assert np.all(np.diff(lists.key) > 0)  # a search by key is a search within a pair's list
    assert lists.key.tolist() == (lists.code * (len(terms) + 1) + lists.posting).tolist()
    for slot in range(terms.shape[1]):
        assert lists.heavy[lists.entries(slot)].tolist() == [slot] * int(
            np.sum(lists.heavy == slot))


def test_pair_lists_that_cannot_be_packed_are_none(monkeypatch) -> None:
    terms = np.array([[0, 1], [0, 1]], dtype=np.int64)
    monkeypatch.setattr(rankpairs, "PACK_LIMIT", 1)
    assert rankpairs.pair_lists(terms, terms >= 0, 2) is None
