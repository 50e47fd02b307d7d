"""Ranking every story at once (syndicate.rankbatch) gives rank.related's lists, story for
story, and certificates that keep the carried lists right."""

from __future__ import annotations

import dataclasses
import math
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_rank import make_site, seeded_corpus
from test_rankcache import change
from test_rankcache import story as cache_story

from syndicate import rank, rankbatch, rankcache, rankfinish, rankpairs
from syndicate.outputs import map_in_order


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32), st.integers(1, 150), st.sampled_from([0.0, 0.3, 1.0, 2.5]),
       st.booleans(), st.sampled_from([0.5, 3.0, 30.0, math.inf]),
       st.sampled_from([0.3, 0.6, 1.0]), st.sampled_from([1, 3, 10, 1000]),
       st.integers(0, 6), st.booleans())
def test_every_list_at_once_equals_each_list_alone(
        seed: int, size: int, threshold: float, include_newer: bool, half_life: float,
        share: float, per_tag: int, count: int, certify: bool) -> None:
    site = make_site(seeded_corpus(seed, size), threshold=threshold,
                     include_newer=include_newer, half_life_days=half_life,
                     max_tag_share=share, max_candidates_per_tag=per_tag, count=count)
    index = rank.index_of(site)
    ranked = rankbatch.rank_every(site, certify=certify)
    assert len(ranked) == len(index.articles)
    for position, (places, certificate) in enumerate(ranked):
        alone, expected = rank._related(site, index.articles[position], None, certify)
        assert [index.articles[p].id for p in places] == [a.id for a in alone], position
        if certify:
            assert certificate.scores == expected.scores
    assert rank.related_all(site) == [rank.related(site, a) for a in site.articles]


def test_the_batch_settles_most_lists_itself(monkeypatch) -> None:
    # Without this, the test above could pass with every story handed to rank.related.
    handed: list[int] = []
    one_by_one = rankfinish.one_by_one
    monkeypatch.setattr(rankfinish, "one_by_one",
                        lambda site, index, position, certify: handed.append(position)
                        or one_by_one(site, index, position, certify))
    rng = random.Random(7)
    articles = [dataclasses.replace(cache_story(rng, n), title=f"Story {n}") for n in range(3000)]
    site = make_site(articles)
    ranked = rankbatch.rank_every(site, certify=True)
    assert sum(len(places) for places, _ in ranked) > 2 * len(ranked)
    assert len(handed) < len(ranked) / 50, len(handed)


def test_sites_with_more_terms_than_16_bits_hold_rank_the_same(monkeypatch) -> None:
    # Term ids are sorted as 16-bit numbers when they fit; past that, as they are.
    site = make_site(seeded_corpus(11, 400))
    radix = rankbatch.rank_every(site, certify=True)
    monkeypatch.setattr(rankbatch, "_RADIX_TERMS", 0)
    assert rankbatch.rank_every(site, certify=True) == radix


def _count_pairs_met_beyond(monkeypatch) -> list[int]:
    met: list[int] = []
    beyond = rankbatch._Batch._beyond

    def counted(self, slot, cut, cap):
        found = beyond(self, slot, cut, cap)
        met.append(sum(kept[0].size for kept in found))
        return found

    monkeypatch.setattr(rankbatch._Batch, "_beyond", counted)
    return met


def test_step_two_meets_far_stories_in_the_pair_lists(monkeypatch) -> None:
    # Without this, a site where no stream reads past its cap would leave the pair lists
    # untried by the lists-equal tests above.
    met = _count_pairs_met_beyond(monkeypatch)
    rng = random.Random(3)
    articles = [dataclasses.replace(cache_story(rng, n), title=f"Story {n}") for n in range(3000)]
    ranked = rankbatch.rank_every(make_site(articles), certify=True)
    assert sum(met) > len(ranked) / 10, met


@pytest.mark.parametrize("fits", ["every pair", "the pairs that occur", "nothing"])
def test_pair_lists_too_big_to_pack_rank_the_same(monkeypatch, fits: str) -> None:
    # Past 64 bits, the pairs that occur are numbered densely; past that, no pair lists
    # (each stream read to its reach), as on a site far beyond any machine's memory.
    site = make_site(seeded_corpus(13, 400))
    packed = rankbatch.rank_every(site, certify=True)
    index = rank.index_of(site)
    every_pair = len(index.weight) ** 2 * (len(index.articles) + 1) << 2 * rankpairs.SLOT_BITS
    limit = {"every pair": rankpairs.PACK_LIMIT, "the pairs that occur": every_pair,
             "nothing": 1}[fits]
    made: list[rankpairs.PairLists | None] = []
    pair_lists = rankpairs.pair_lists
    monkeypatch.setattr(rankpairs, "PACK_LIMIT", limit)
    monkeypatch.setattr(rankpairs, "pair_lists",
                        lambda *args: made.append(pair_lists(*args)) or made[-1])
    met = _count_pairs_met_beyond(monkeypatch)
    assert rankbatch.rank_every(site, certify=True) == packed
    assert (made[0] is None) == (fits == "nothing")
    if fits == "the pairs that occur":
        assert made[0].code.max() < made[0].code.size  # numbered densely
    assert (sum(met) > 0) == (fits != "nothing")


@pytest.mark.parametrize("share", [0.0, 2.0])
def test_certificates_from_the_batch_keep_carried_lists_right(monkeypatch, share: float) -> None:
    # A cold build ranks every story at once (share 0), an incremental one a few one by one.
    rng = random.Random(11)
    articles = [cache_story(rng, n) for n in range(1000)]
    site = make_site(articles)
    monkeypatch.setattr(rankcache, "BATCH_SHARE", share)
    state = rankcache.rank_all(site, rank.story_digests(site), None, map_in_order)
    monkeypatch.setattr(rankcache, "BATCH_SHARE", 2.0)
    for step in range(12):
        articles = change(rng, articles, 2000 + step)
        site = make_site(articles)
        state = rankcache.rank_all(site, rank.story_digests(site), state, map_in_order)
        place = {article.id: number for number, article in enumerate(site.articles)}
        assert rankcache.lists(state) == [
            tuple(place[a.id] for a in rank.related(site, article))
            for article in site.articles], step


def test_a_story_with_more_terms_than_the_batch_takes_still_gets_its_list() -> None:
    rng = random.Random(5)
    articles = [cache_story(rng, n) for n in range(200)]
    crowded = tuple(f"Topic {n}" for n in range(70))  # more than rankbatch._MOST_TERMS
    articles[0] = dataclasses.replace(articles[0], tags=crowded)
    articles[1] = dataclasses.replace(articles[1], tags=crowded[:3])
    site = make_site(articles, max_tag_share=1.0)
    index = rank.index_of(site)
    for position, (places, certificate) in enumerate(rankbatch.rank_every(site, certify=True)):
        alone, expected = rank._related(site, index.articles[position], None, True)
        assert [index.articles[p].id for p in places] == [a.id for a in alone], position
        assert certificate.scores == expected.scores, position
