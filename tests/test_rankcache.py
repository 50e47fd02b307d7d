"""Related lists carried from one build to the next equal the lists ranked anew."""

from __future__ import annotations

import dataclasses
import random
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syndicate import rank, rankcache
from syndicate.config import Config, RelatedConfig
from syndicate.model import Article
from syndicate.outputs import map_in_order
from syndicate.site import Site, build_site

START = datetime(2026, 1, 1, tzinfo=timezone.utc)
SECTIONS = ("World", "World", "World", "Business", "Sport")
TAGS = [f"Tag {n}" for n in range(40)]
HEADLINES = ("Harbour vote", "Ferry strike", "Tide tables", "Budget row", "Storm warning")


def story(rng: random.Random, number: int) -> Article:
    # A Zipf-like pick of 1-4 tags, a headline that sometimes repeats another's (duplicates),
    # and times over 90 days, so that windows, reach and duplicates all come into play.
    tags = {TAGS[min(len(TAGS) - 1, int(rng.paretovariate(1.0)) - 1)]
            for _ in range(rng.randint(1, 4))}
    published = START + timedelta(minutes=rng.randrange(90 * 24 * 60))
    title = rng.choice(HEADLINES) if rng.random() < 0.1 else f"Story {number} {rng.random():.6f}"
    return Article(id=f"s{number}", title=title, published=published, updated=published,
                   section=rng.choice(SECTIONS), summary="", body_html="<p>x</p>",
                   source=f"articles/s{number}.json", tags=tuple(sorted(tags)))


def make_site(articles: list[Article], related: RelatedConfig) -> Site:
    config = dataclasses.replace(Config(), related=related)
    site, _ = build_site(config, articles, environ={})
    return site


def ranked_anew(site: Site) -> list[tuple[int, ...]]:
    place = {a.id: n for n, a in enumerate(site.articles)}
    return [tuple(place[other.id] for other in rank.related(site, a)) for a in site.articles]


def change(rng: random.Random, articles: list[Article], next_number: int) -> list[Article]:
    articles = list(articles)
    what = rng.choice(["add", "add", "delete", "retag", "move", "rename", "pin"])
    if what == "add" or len(articles) < 10:
        articles.append(story(rng, next_number))
        return articles
    victim = rng.randrange(len(articles))
    old = articles[victim]
    if what == "delete":
        del articles[victim]
    elif what == "retag":
        articles[victim] = dataclasses.replace(old, tags=tuple(rng.sample(TAGS, 2)))
    elif what == "move":
        moved = old.published + timedelta(hours=rng.randint(-200, 200))
        articles[victim] = dataclasses.replace(old, published=moved, updated=moved)
    elif what == "rename":
        articles[victim] = dataclasses.replace(old, title=rng.choice(HEADLINES))
    else:
        articles[victim] = dataclasses.replace(old, related_ids=(rng.choice(articles).id,))
    return articles


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**9), per_tag=st.sampled_from([3, 8, 200]),
       half_life=st.sampled_from([2.0, 30.0]), threshold=st.sampled_from([0.0, 0.5, 2.0]))
def test_carried_lists_equal_lists_ranked_anew_after_random_changes(seed, per_tag, half_life,
                                                                   threshold):
    rng = random.Random(seed)
    related = RelatedConfig(max_candidates_per_tag=per_tag, half_life_days=half_life,
                            threshold=threshold)
    articles = [story(rng, n) for n in range(800)]
    site = make_site(articles, related)
    state = rankcache.rank_all(site, rank.story_digests(site), None, map_in_order)
    assert rankcache.lists(state) == ranked_anew(site)
    ranked, lists = [], 0
    rank_one = rankcache.rank_one
    rankcache.rank_one = lambda site, place: ranked.append(place) or rank_one(site, place)
    try:
        for step in range(5):
            articles = change(rng, articles, 1000 + step)
            site = make_site(articles, related)
            state = rankcache.rank_all(site, rank.story_digests(site), state, map_in_order)
            assert rankcache.lists(state) == ranked_anew(site), f"step {step}"
            lists += len(site.articles)
    finally:
        rankcache.rank_one = rank_one
    assert len(ranked) < lists, "nothing was carried over: the test proves nothing"


def test_a_new_story_ranks_only_the_stories_near_it_again(monkeypatch):
    rng = random.Random(3)
    articles = [story(rng, n) for n in range(2000)]
    site = make_site(articles, RelatedConfig())
    state = rankcache.rank_all(site, rank.story_digests(site), None, map_in_order)
    ranked: list[int] = []
    rank_one = rankcache.rank_one
    monkeypatch.setattr(rankcache, "rank_one",
                        lambda site, place: ranked.append(place) or rank_one(site, place))
    articles.append(story(rng, 2000))
    site = make_site(articles, RelatedConfig())
    state = rankcache.rank_all(site, rank.story_digests(site), state, map_in_order)
    assert rankcache.lists(state) == ranked_anew(site)
    added = next(n for n, a in enumerate(site.articles) if a.id == "s2000")
    assert added in ranked
    assert 0 < len(ranked) < len(articles) / 4, len(ranked)


@pytest.mark.parametrize("damage", [b"", b"junk", b"\xe3\x00", None])
def test_a_damaged_state_is_ranked_anew(damage):
    rng = random.Random(5)
    site = make_site([story(rng, n) for n in range(60)], RelatedConfig())
    state = rankcache.rank_all(site, rank.story_digests(site), None, map_in_order)
    previous = state[:len(state) // 2] if damage is None else damage
    assert rankcache.decode(previous) is None
    again = rankcache.rank_all(site, rank.story_digests(site), previous, map_in_order)
    assert again == state


def test_a_tag_on_every_story_that_starts_to_count_ranks_everything_again():
    # With max_tag_share 1, a tag on every story weighs ln(1) = 0; a story without it gives
    # it a weight, which no ratio of the old weight bounds.
    rng = random.Random(9)
    related = RelatedConfig(max_tag_share=1.0)
    articles = [dataclasses.replace(a, tags=(*a.tags, "Everywhere"))
                for a in (story(rng, n) for n in range(200))]
    site = make_site(articles, related)
    state = rankcache.rank_all(site, rank.story_digests(site), None, map_in_order)
    articles.append(story(rng, 200))
    site = make_site(articles, related)
    state = rankcache.rank_all(site, rank.story_digests(site), state, map_in_order)
    assert rankcache.lists(state) == ranked_anew(site)


def test_a_site_whose_index_has_another_order_is_refused():
    # Kept lists are stored by place: they mean nothing unless positions are places.
    rng = random.Random(5)
    site = make_site([story(rng, n) for n in range(50)], RelatedConfig())
    shuffled = dataclasses.replace(site, articles=site.articles[::-1])
    with pytest.raises(ValueError, match="not in the site's order"):
        rankcache.rank_all(shuffled, rank.story_digests(shuffled), None, map_in_order)
    rankcache.rank_all(site, rank.story_digests(site), None, map_in_order)
