"""The Site's terms: which stories each section, tag and author lists, and what it is called."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

from syndicate.config import Config
from syndicate.model import Article, Author
from syndicate.site import Site, build_site

NOW = datetime(2026, 3, 15, 9, 0, tzinfo=timezone.utc)


def story(number: int, section: str = "World", tags: tuple[str, ...] = (),
          authors: tuple[Author, ...] = ()) -> Article:
    published = NOW - timedelta(hours=number)
    return Article(id=f"s{number}", title=f"Story {number}", published=published,
                   updated=published, section=section, summary="", body_html="",
                   source=f"articles/s{number}.json", tags=tags, authors=authors)


def make_site(articles: list[Article]) -> Site:
    base = Config()
    config = dataclasses.replace(
        base, site=dataclasses.replace(base.site, title="T", base_url="https://t.example/"))
    site, _ = build_site(config, articles, environ={})
    return site


def names(site: Site, kind: str) -> dict[str, str]:
    return {term.slug: term.name for term in site.terms(kind)}


def test_a_term_is_named_by_its_most_used_spelling_and_lists_each_story():
    # Stories come newest first (s1 the newest), and s1 spells every term the rare way.
    site = make_site([
        story(1, section="world", tags=("Belarus", "minsk")), story(2, tags=("belarus",)),
        story(3, tags=("belarus",)), story(4, tags=("BELARUS", "Minsk")),
        story(5, tags=("Minsk",)), story(6),
    ])
    assert names(site, "tag") == {"belarus": "belarus", "minsk": "Minsk"}
    assert names(site, "section") == {"world": "World"}
    belarus = next(term for term in site.tags if term.slug == "belarus")
    assert [a.id for a in belarus.articles] == ["s1", "s2", "s3", "s4"]


def test_a_tie_between_spellings_goes_to_the_first_in_code_point_order():
    site = make_site([story(1, tags=("minsk",)), story(2, tags=("Minsk",)),
                      story(3, tags=("Élan",)), story(4, tags=("élan",))])
    assert names(site, "tag") == {"minsk": "Minsk", "elan": "Élan"}


def test_a_story_with_two_spellings_of_one_term_counts_both():
    # Harbour 3 (s2, s3, s4), HARBOUR 2 (s2, s3), harbour 1 (s1, the newest).
    site = make_site([story(1, tags=("harbour",)), story(2, tags=("HARBOUR", "Harbour")),
                      story(3, tags=("HARBOUR", "Harbour")), story(4, tags=("Harbour",))])
    assert names(site, "tag") == {"harbour": "Harbour"}
    # Such a story is listed under the term once per spelling, and each spelling of it
    # counts once: harbour 3, HARBOUR 2, Harbour 1 (counting both spellings at each of its
    # listings would make HARBOUR 3, and HARBOUR wins a tie).
    site = make_site([story(1, tags=("harbour",)), story(2, tags=("HARBOUR", "Harbour")),
                      story(3, tags=("harbour",)), story(4, tags=("HARBOUR",)),
                      story(5, tags=("harbour",))])
    assert names(site, "tag") == {"harbour": "harbour"}


def test_authors_are_named_so_too_and_every_term_knows_its_stories_places():
    ana, ana_again = Author("Ana Alves", "ana-alves"), Author("ANA ALVES", "ana-alves")
    site = make_site([story(1, authors=(ana,)), story(2, authors=(ana_again,)),
                      story(3, authors=(ana_again,)), story(4, section="Sport")])
    assert names(site, "author") == {"ana-alves": "ANA ALVES"}
    for term in (*site.sections, *site.tags, *site.authors):
        assert [site.articles[place] for place in term.places] == list(term.articles)
